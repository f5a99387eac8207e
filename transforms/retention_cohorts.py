"""Gold retention_cohorts (METRICS.md ``retention_cohorts``).

Grain: one row per (``cohort_month``, ``month_offset``). A customer's cohort is the month
(first day, UTC) of their first sale line's order date; guest lines (no ``customer_id``)
belong to no customer. Readings: offsets run from 0 to the last month in which any customer
has a sale line, so a quiet month shows 0 active customers instead of vanishing;
``active_customers`` = cohort customers with a sale line in cohort month + offset.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def _month_number(month: Column) -> Column:
    return F.year(month) * 12 + F.month(month)


def retention_cohorts(order_lines: DataFrame) -> DataFrame:
    active = (
        order_lines.filter(F.col("is_sale") & F.col("customer_id").isNotNull())
        .select("customer_id", F.trunc("order_date", "month").alias("activity_month"))
        .distinct()
    )
    cohorts = active.groupBy("customer_id").agg(F.min("activity_month").alias("cohort_month"))
    sizes = cohorts.groupBy("cohort_month").agg(F.count(F.lit(1)).alias("cohort_size"))
    last_month = active.agg(F.max("activity_month").alias("last_month"))
    grid = sizes.crossJoin(last_month).select(
        "cohort_month",
        "cohort_size",
        F.explode(F.sequence("cohort_month", "last_month", F.expr("INTERVAL 1 MONTH"))).alias("activity_month"),
    )
    retained = (
        active.join(cohorts, "customer_id")
        .groupBy("cohort_month", "activity_month")
        .agg(F.count(F.lit(1)).alias("active_customers"))
    )
    active_customers = F.coalesce(F.col("active_customers"), F.lit(0)).cast("long")
    return grid.join(retained, ["cohort_month", "activity_month"], "left").select(
        "cohort_month",
        (_month_number(F.col("activity_month")) - _month_number(F.col("cohort_month")))
        .cast("int")
        .alias("month_offset"),
        "activity_month",
        F.col("cohort_size").cast("long").alias("cohort_size"),
        active_customers.alias("active_customers"),
        (active_customers / F.col("cohort_size")).alias("retention_rate"),
    )
