"""Gold daily KPIs (METRICS.md ``daily_kpis``).

Grain: one row per UTC date, every date from the first to the last date seen in
events or order lines; additive metrics of a quiet date are 0, ratios over 0 are null.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.sessions import sessions

MONEY = "decimal(38,6)"


def date_spine(*dates: DataFrame) -> DataFrame:
    """Every date between the earliest and latest ``date`` of the inputs (one column ``date``)."""
    combined = dates[0]
    for frame in dates[1:]:
        combined = combined.unionByName(frame)
    bounds = combined.agg(F.min("date").alias("lo"), F.max("date").alias("hi"))
    return bounds.filter(F.col("lo").isNotNull()).select(
        F.explode(F.sequence("lo", "hi", F.expr("INTERVAL 1 DAY"))).alias("date")
    )


def daily_kpis(events: DataFrame, order_lines: DataFrame, spine: DataFrame | None = None) -> DataFrame:
    """The grain's rows, one per date of ``spine`` (default: every date from the first to the last seen)."""
    sales = order_lines.filter(F.col("is_sale"))
    sales_daily = sales.groupBy(F.col("order_date").alias("date")).agg(
        F.sum("line_revenue").alias("revenue"),
        F.count_distinct("order_id").alias("orders"),
        F.sum("quantity").alias("units"),
    )
    first_sales = (
        sales.filter(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.min("order_date").alias("date"))
        .groupBy("date")
        .agg(F.count(F.lit(1)).alias("new_customers"))
    )
    active = events.groupBy(F.col("event_date").alias("date")).agg(F.count_distinct("user_id").alias("active_users"))
    session_daily = (
        sessions(events)
        .groupBy(F.col("session_date").alias("date"))
        .agg(
            F.count(F.lit(1)).alias("sessions"),
            F.sum(F.col("has_purchase").cast("long")).alias("converted_sessions"),
        )
    )
    if spine is None:
        spine = date_spine(
            events.select(F.col("event_date").alias("date")),
            order_lines.select(F.col("order_date").alias("date")),
        )
    joined = (
        spine.join(sales_daily, "date", "left")
        .join(first_sales, "date", "left")
        .join(active, "date", "left")
        .join(session_daily, "date", "left")
    )
    revenue = F.coalesce(F.col("revenue"), F.lit(0)).cast(MONEY)
    orders = F.coalesce(F.col("orders"), F.lit(0)).cast("long")
    sessions_count = F.coalesce(F.col("sessions"), F.lit(0)).cast("long")
    return joined.select(
        "date",
        revenue.alias("revenue"),
        orders.alias("orders"),
        F.when(orders > 0, (revenue / orders).cast(MONEY)).alias("aov"),
        F.coalesce(F.col("units"), F.lit(0)).cast("decimal(38,4)").alias("units"),
        F.coalesce(F.col("active_users"), F.lit(0)).cast("long").alias("active_users"),
        sessions_count.alias("sessions"),
        F.when(sessions_count > 0, F.coalesce(F.col("converted_sessions"), F.lit(0)) / sessions_count).alias(
            "session_conversion_rate"
        ),
        F.coalesce(F.col("new_customers"), F.lit(0)).cast("long").alias("new_customers"),
    ).orderBy("date")
