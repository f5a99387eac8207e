"""Gold table declarations: one ``TableDef`` per table, importable without Spark or Great Expectations.

Each declaration names its build (``gold.<table>:build``), its suite (``expectations.gold_<table>:suite``)
and, where declared, its schema by reference; the modules behind them are imported when the
runner builds, gates or checks the table (``lakehouse.catalog.resolve``).
"""

from __future__ import annotations

from lakehouse.catalog import TableDef, bound
from lakehouse.settings import Settings


def declare(settings: Settings) -> list[TableDef]:
    return [
        TableDef(
            layer="gold",
            name="daily_kpis",
            grain="One row per UTC date.",
            build="gold.daily_kpis:build",
            receives="changes",
            inputs=("silver.events", "silver.order_lines"),
            keys=("date",),
            date_column="date",
            write="overwrite",
            suite="expectations.gold_daily_kpis:suite",
            description="Daily e-commerce KPIs as METRICS.md defines them.",
        ),
        TableDef(
            layer="gold",
            name="product_daily",
            grain="One row per (product_id, date) with a view, an add-to-cart or a sale.",
            build="gold.product_daily:build",
            receives="changes",
            inputs=("silver.events", "silver.order_lines"),
            keys=("product_id", "date"),
            date_column="date",
            write="overwrite",
            suite="expectations.gold_product_daily:suite",
            description="Daily product views, add-to-carts, units, revenue, view-to-purchase rate and sales spikes.",
        ),
        TableDef(
            layer="gold",
            name="category_daily",
            grain="One row per (date, category) with at least one sale line.",
            build="gold.category_daily:build",
            receives="pinned",
            inputs=("silver.order_lines", "silver.products"),
            date_column="date",
            keys=("date", "category"),
            write="overwrite",
            suite="expectations.gold_category_daily:suite",
            description="Revenue and units of sale lines by product category and order date.",
        ),
        TableDef(
            layer="gold",
            name="fct_user",
            grain="One row per user_id.",
            build="gold.fct_user:build",
            receives="pinned",
            inputs=("silver.events", "silver.order_lines"),
            keys=("user_id",),
            write="overwrite",
            suite="expectations.gold_fct_user:suite",
            description="Per-user activity and purchase facts: first/last seen, sessions, events, orders, revenue.",
        ),
        TableDef(
            layer="gold",
            name="retention_cohorts",
            grain="One row per (cohort_month, month_offset).",
            build="gold.retention_cohorts:build",
            receives="pinned",
            inputs=("silver.order_lines",),
            keys=("cohort_month", "month_offset"),
            write="overwrite",
            suite="expectations.gold_retention_cohorts:suite",
            description="Monthly customer cohorts by first sale month and the share active in each later month.",
        ),
        TableDef(
            layer="gold",
            name="funnel_daily",
            grain="One row per (session_date, device, step).",
            build="gold.funnel_daily:build",
            receives="changes",
            inputs=("silver.events",),
            date_column="session_date",
            keys=("session_date", "device", "step"),
            write="overwrite",
            suite="expectations.gold_funnel_daily:suite",
            description="Sessions reaching each funnel step, step-to-step and overall conversion, per day and device.",
        ),
        TableDef(
            layer="gold",
            name="experiment_results",
            grain="One row per (experiment_id, variant).",
            build="gold.experiment_results:build",
            receives="pinned",
            inputs=("silver.experiment_exposures", "silver.experiments", "silver.events", "silver.order_lines"),
            keys=("experiment_id", "variant"),
            write="overwrite",
            schema="gold.experiment_results:SCHEMA",
            suite="expectations.gold_experiment_results:suite",
            description=(
                "A/B results: users, converters, revenue per user, SRM, lift with 95% CI, z-test and Welch p-values."
            ),
        ),
        TableDef(
            layer="gold",
            name="experiment_daily",
            grain="One row per (experiment_id, variant, metric, date) with exposed users; date = first exposure date.",
            build="gold.experiment_daily:build",
            receives="pinned",
            inputs=("silver.experiment_exposures", "silver.experiments", "silver.events", "silver.order_lines"),
            keys=("experiment_id", "variant", "metric", "date"),
            date_column="date",
            write="overwrite",
            schema="gold.experiment_daily:SCHEMA",
            suite="expectations.gold_experiment_daily:suite",
            description=(
                "Sufficient statistics of every experiment metric (n, sums, squares, cross-products, CUPED covariate)."
            ),
        ),
        TableDef(
            layer="gold",
            name="experiment_metrics",
            grain="One row per (experiment_id, variant, metric) for every treatment variant.",
            build=bound("gold.experiment_metrics:build", correction=settings.experiment_correction),
            receives="pinned",
            inputs=("gold.experiment_daily", "silver.experiments"),
            keys=("experiment_id", "variant", "metric"),
            write="overwrite",
            schema="gold.experiment_metrics:SCHEMA",
            suite="expectations.gold_experiment_metrics:suite",
            description="Experiment decisions: CUPED, Holm-adjusted and always-valid p-values, guardrails, verdict.",
        ),
        TableDef(
            layer="gold",
            name="experiment_sequential",
            grain="One row per (experiment_id, variant, metric, date): a daily look at a mean metric.",
            build="gold.experiment_sequential:build",
            receives="pinned",
            inputs=("gold.experiment_daily", "silver.experiments"),
            keys=("experiment_id", "variant", "metric", "date"),
            date_column="date",
            write="overwrite",
            schema="gold.experiment_sequential:SCHEMA",
            suite="expectations.gold_experiment_sequential:suite",
            description="Always-valid confidence sequences and p-values per daily look, beside the fixed-horizon CI.",
        ),
    ]
