"""The issue-4 tables on generated sample data through the real runner: written, gated and consistent.

The shared generated run (``tests.generated_run``: six days, the last built incrementally); the
checks reconcile the new tables with each other and with daily_kpis, so a table that was written
but wrong still fails here.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from scipy import stats

from tests.generated_run import GeneratedRun

NEW_TABLES = (
    "silver.products", "silver.stock", "silver.experiments", "silver.experiment_exposures",
    "gold.product_daily", "gold.category_daily", "gold.fct_user", "gold.retention_cohorts", "gold.funnel_daily",
    "gold.experiment_results", "gold.experiment_daily", "gold.experiment_metrics", "gold.experiment_sequential",
)  # fmt: skip


@pytest.fixture(scope="module")
def run(generated_run: GeneratedRun) -> GeneratedRun:
    """The generated run the end-to-end tests read too (``tests.generated_run``): built once per session."""
    return generated_run


def test_every_new_table_is_written_and_gated(run: GeneratedRun) -> None:
    # The first run wrote every table; the incremental run after it skips those its day did not change.
    assert run.first.ok, run.first.failed
    results = {r.table: r for r in run.first.results}
    for table_id in NEW_TABLES:
        result = results[table_id]
        assert result.status == "written", (table_id, result.message)
        assert result.checks and all(c.success for c in result.checks if c.severity == "critical"), table_id
        assert run.table(table_id).count() > 0, table_id


def test_reference_tables_hold_the_generated_catalogue(run: GeneratedRun) -> None:
    assert run.table("silver.products").count() == run.landing.products == 60
    assert run.table("silver.products").filter("category IS NULL").count() == 2
    assert run.table("silver.stock").count() == 60 * 2  # one workbook in the 6 days, two warehouses
    experiments = {r.experiment_id: r for r in run.table("silver.experiments").collect()}
    assert set(experiments) == {"exp_checkout_button", "exp_recs_layout"}
    assert experiments["exp_recs_layout"].variants == ["control", "grid", "carousel"]


def test_gold_tables_reconcile(run: GeneratedRun) -> None:
    kpis = (
        run.table("gold.daily_kpis")
        .agg(F.sum("revenue").alias("revenue"), F.sum("units").alias("units"), F.sum("sessions").alias("sessions"))
        .first()
    )
    assert kpis is not None and kpis.revenue > 0
    by_category = run.table("gold.category_daily").agg(F.sum("revenue"), F.sum("units")).first()
    by_product = run.table("gold.product_daily").agg(F.sum("revenue"), F.sum("units_sold")).first()
    assert by_category is not None and by_product is not None
    # Every generated sale line names a product: all three views of revenue agree to the stored precision.
    assert abs(by_category[0] - kpis.revenue) < Decimal("0.00001") and by_category[1] == kpis.units
    assert abs(by_product[0] - kpis.revenue) < Decimal("0.00001") and by_product[1] == kpis.units

    funnel = run.table("gold.funnel_daily")
    steps = {(r.session_date, r.device, r.step): r.sessions_reached for r in funnel.collect()}
    assert all(reached <= steps[(day, device, step - 1)] for (day, device, step), reached in steps.items() if step > 1)
    devices = funnel.filter("device <> 'all'").groupBy("session_date", "step").agg(F.sum("sessions_reached"))
    assert {(r[0], r[1]): r[2] for r in devices.collect()} == {
        (day, step): reached for (day, device, step), reached in steps.items() if device == "all"
    }

    users = (
        run.table("silver.events")
        .select("user_id")
        .union(run.table("silver.order_lines").filter("is_sale AND customer_id IS NOT NULL").select("customer_id"))
    )
    assert run.table("gold.fct_user").count() == users.distinct().count()

    cohorts = run.table("gold.retention_cohorts").filter("month_offset = 0").collect()
    assert cohorts and all(r.retention_rate == 1.0 for r in cohorts)

    results = run.table("gold.experiment_results")
    assert results.count() == 5
    exposed = run.table("silver.experiment_exposures").groupBy("experiment_id").count()
    users_by_experiment = results.groupBy("experiment_id").agg(F.sum("users").alias("users"))
    assert {r[0]: r[1] for r in exposed.collect()} == {r[0]: r[1] for r in users_by_experiment.collect()}
    assert results.filter("is_control AND p_value IS NOT NULL").count() == 0
    assert results.filter("NOT is_control AND p_value IS NULL").count() == 0


def test_experiment_decision_tables_agree_with_experiment_results(run: GeneratedRun) -> None:
    """The daily sums add up to experiment_results' users, converters and revenue; the decisions cover every variant."""
    results = {(r.experiment_id, r.variant): r for r in run.table("gold.experiment_results").collect()}
    daily = (
        run.table("gold.experiment_daily")
        .groupBy("experiment_id", "variant", "metric")
        .agg(F.sum("n").alias("n"), F.sum("sum_y").alias("sum_y"))
        .collect()
    )
    sums = {(r.experiment_id, r.variant, r.metric): r for r in daily}
    for (experiment_id, variant), result in results.items():
        conversion = sums[(experiment_id, variant, "conversion")]
        assert conversion.n == result.users and conversion.sum_y == result.converters
        revenue = sums[(experiment_id, variant, "revenue_per_user")].sum_y
        assert revenue == pytest.approx(float(result.revenue), abs=1e-6)
    metrics = run.table("gold.experiment_metrics")
    treatments = {key for key, r in results.items() if not r.is_control}
    assert metrics.count() == len(treatments) * 5
    for r in metrics.filter("metric = 'conversion'").collect():
        result = results[(r.experiment_id, r.variant)]
        assert r.value == pytest.approx(result.conversion_rate, rel=1e-12)
        # Unpooled z on per-user 0/1 outcomes (sample variances) here, the pooled z there.
        control = next(c for (e, _), c in results.items() if e == r.experiment_id and c.is_control)
        variance = sum(
            x.conversion_rate * (1 - x.conversion_rate) * x.users / (x.users - 1) / x.users for x in (result, control)
        )
        z = (result.conversion_rate - control.conversion_rate) / math.sqrt(variance)
        assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        assert r.verdict
    looks = run.table("gold.experiment_sequential").filter("metric = 'conversion'")
    assert looks.select("experiment_id", "variant").distinct().count() == len(treatments)
