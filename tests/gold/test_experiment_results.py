"""gold.experiment_results end to end on a tiny world, checked against scipy and statsmodels on raw users.

exp_main (50/50): control u1..u4 (u1 buys 10, u2 buys 30, u3 and u4 do not buy); treatment u5..u7
(u5 buys 20, u6 buys 40 with the purchase event fired twice, u7's only order is cancelled: a
converter with revenue 0). exp_srm (planned 90/10) exposes u1..u4, all to control: a sample-ratio
mismatch, and a variant with no users whose comparison is undefined.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import Row, SparkSession
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from gold import experiment_results
from tests.frames import declared, failed_checks, silver_events, silver_experiments, silver_order_lines
from transforms.experiments import experiment_exposures
from transforms.stats import SUMMARY_COLUMNS, experiment_statistics

TOL = 1e-9
EXPERIMENTS = [
    {
        "experiment_id": "exp_main",
        "name": "Main",
        "variants": ["control", "treatment"],
        "allocation": {"control": 0.5, "treatment": 0.5},
        "start_date": "2026-10-02",
        "end_date": "2026-10-03",
    },
    {
        "experiment_id": "exp_srm",
        "name": "Skewed",
        "variants": ["control", "v"],
        "allocation": {"control": 0.9, "v": 0.1},
        "start_date": "2026-10-02",
        "end_date": "2026-10-03",
    },
]
VARIANTS = {
    "u1": "control",
    "u2": "control",
    "u3": "control",
    "u4": "control",
    "u5": "treatment",
    "u6": "treatment",
    "u7": "treatment",
}
ORDERS = {
    "u1": ("o1", "10.00", "paid"),
    "u2": ("o2", "30.00", "paid"),
    "u5": ("o5", "20.00", "paid"),
    "u6": ("o6", "40.00", "paid"),
    "u7": ("o7", "15.00", "cancelled"),
}


@pytest.fixture(scope="module")
def results(spark: SparkSession) -> dict[tuple[str, str], Row]:
    events, lines = [], []
    for user, variant in VARIANTS.items():
        carried = {"exp_main": variant, **({"exp_srm": "control"} if variant == "control" else {})}
        events.append(
            {
                "event_id": f"x-{user}",
                "event_ts": "2026-10-02T08:00:00Z",
                "user_id": user,
                "session_id": f"s-{user}",
                "experiments": carried,
            }
        )
        if user in ORDERS:
            order_id, price, status = ORDERS[user]
            for n in range(2 if user == "u6" else 1):
                events.append(
                    {
                        "event_id": f"p{n}-{user}",
                        "event_ts": f"2026-10-02T12:00:0{n}Z",
                        "user_id": user,
                        "session_id": f"s-{user}",
                        "event_type": "purchase",
                        "order_id": order_id,
                        "product_id": "p1",
                    }
                )
            lines.append(
                {
                    "order_id": order_id,
                    "order_ts": "2026-10-02 12:00:00",
                    "customer_id": user,
                    "product_id": "p1",
                    "unit_price": price,
                    "status": status,
                }
            )
    silver = {
        "silver.events": silver_events(spark, events),
        "silver.experiments": silver_experiments(spark, EXPERIMENTS),
        "silver.order_lines": silver_order_lines(spark, lines),
    }
    silver["silver.experiment_exposures"] = experiment_exposures(silver["silver.events"], silver["silver.experiments"])
    output = experiment_results.build(silver)
    assert output.data is not None
    assert output.data.schema == experiment_results.SCHEMA
    return {(r.experiment_id, r.variant): r for r in output.data.collect()}


def test_counts_and_descriptive_columns(results: dict[tuple[str, str], Row]) -> None:
    control, treatment = results[("exp_main", "control")], results[("exp_main", "treatment")]
    assert (control.users, control.converters, control.revenue, control.revenue_per_user) == (
        4,
        2,
        Decimal(40),
        Decimal(10),
    )
    assert (treatment.users, treatment.converters, treatment.revenue, treatment.revenue_per_user) == (
        3,
        3,
        Decimal(60),
        Decimal(20),
    )
    assert (control.conversion_rate, treatment.conversion_rate) == (0.5, 1.0)
    assert (control.is_control, treatment.is_control, control.variant_index, treatment.variant_index) == (
        True,
        False,
        0,
        1,
    )
    assert all(
        getattr(control, c) is None
        for c in ("abs_lift", "rel_lift", "ci_low", "ci_high", "p_value", "significant", "revenue_p_value")
    )


def test_statistics_equal_scipy_and_statsmodels(results: dict[tuple[str, str], Row]) -> None:
    treatment = results[("exp_main", "treatment")]
    _z, p_value = proportions_ztest([3, 2], [3, 4])
    ci_low, ci_high = confint_proportions_2indep(3, 3, 2, 4, method="wald", compare="diff")
    revenue_t, revenue_c = np.array([20.0, 40.0, 0.0]), np.array([10.0, 30.0, 0.0, 0.0])
    assert treatment.abs_lift == pytest.approx(0.5, abs=TOL)
    assert treatment.rel_lift == pytest.approx(1.0, abs=TOL)
    assert treatment.p_value == pytest.approx(p_value, abs=TOL)
    assert treatment.significant is bool(p_value < 0.05)
    assert treatment.ci_low == pytest.approx(ci_low, abs=TOL)
    assert treatment.ci_high == pytest.approx(ci_high, abs=TOL)
    assert treatment.revenue_p_value == pytest.approx(
        stats.ttest_ind(revenue_t, revenue_c, equal_var=False).pvalue, abs=TOL
    )
    assert treatment.srm_p_value == pytest.approx(stats.chisquare([4, 3], [3.5, 3.5]).pvalue, abs=TOL)


def test_sample_ratio_mismatch_and_empty_variant(results: dict[tuple[str, str], Row]) -> None:
    control, empty = results[("exp_srm", "control")], results[("exp_srm", "v")]
    expected = stats.chisquare([4, 0], [3.6, 0.4]).pvalue
    assert control.srm_p_value == pytest.approx(expected, abs=TOL) and empty.srm_p_value == control.srm_p_value
    assert (empty.users, empty.converters, empty.conversion_rate, empty.revenue_per_user) == (0, 0, None, None)
    assert empty.p_value is None and empty.abs_lift is None and empty.revenue_p_value is None


def test_suite_catches_impossible_results(spark: SparkSession) -> None:
    def row(
        variant: str,
        users: int,
        converters: int,
        rate: float | None,
        p: float | None,
        low: float | None,
        high: float | None,
    ) -> tuple:
        return (
            "exp",
            variant,
            0,
            True,
            0.5,
            users,
            converters,
            rate,
            Decimal(0),
            Decimal(0),
            0.5,
            None,
            None,
            low,
            high,
            p,
            None,
            None,
        )

    bad = spark.createDataFrame(
        [row("control", 2, 3, 1.5, None, None, None), row("control", 2, 1, 0.5, 2.0, 0.2, 0.1)],
        experiment_results.SCHEMA,
    )
    table = declared("gold.experiment_results")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "experiment_id,variant", "critical"),
        ("expect_column_pair_values_a_to_be_greater_than_b", None, "critical"),
        ("expect_column_values_to_be_between", "conversion_rate", "critical"),
        ("expect_column_values_to_be_between", "p_value", "critical"),
    }


def test_rows_for_spark_turns_missing_values_into_nulls() -> None:
    frame = pd.DataFrame(
        [
            {
                "experiment_id": "e",
                "variant_index": 0,
                "variant": "control",
                "allocation_share": 1.0,
                "users": np.int64(0),
                "converters": 0,
                "conversion_rate": float("nan"),
                "revenue": Decimal(0),
                "revenue_per_user": None,
                "srm_p_value": None,
                "abs_lift": None,
                "rel_lift": None,
                "ci_low": None,
                "ci_high": None,
                "p_value": None,
                "significant": None,
                "revenue_p_value": None,
            }
        ]
    )
    [row] = experiment_results.rows_for_spark(frame)
    assert row[:8] == ("e", "control", 0, True, 1.0, 0, 0, None)
    assert type(row[5]) is int
    # No experiments at all: no rows, not an error.
    assert experiment_results.rows_for_spark(experiment_statistics(pd.DataFrame(columns=list(SUMMARY_COLUMNS)))) == []
