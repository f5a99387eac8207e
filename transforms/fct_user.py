"""Gold fct_user (METRICS.md ``fct_user``).

Grain: one row per user seen in events (``user_id``) or as the customer of a sale line
(``customer_id``; the same identifier). Readings: ``first_seen``/``last_seen`` are the
earliest/latest instant the user was seen, over their events' ``event_ts`` and their sale
lines' ``order_ts``; ``sessions`` counts the sessions (transforms.sessions) whose first event
is theirs; ``orders`` counts distinct orders with a sale line of theirs and ``revenue`` sums
those lines; ``first_order_date``/``last_order_date`` are UTC order dates of sale lines.
Counts and revenue are 0, order dates null, for a user with no such rows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.kpis import MONEY
from transforms.sessions import sessions


def fct_user(events: DataFrame, order_lines: DataFrame) -> DataFrame:
    seen = events.groupBy("user_id").agg(
        F.min("event_ts").alias("event_first"),
        F.max("event_ts").alias("event_last"),
        F.count(F.lit(1)).alias("events"),
    )
    user_sessions = sessions(events).groupBy("user_id").agg(F.count(F.lit(1)).alias("sessions"))
    bought = (
        order_lines.filter(F.col("is_sale") & F.col("customer_id").isNotNull())
        .groupBy(F.col("customer_id").alias("user_id"))
        .agg(
            F.min("order_ts").alias("order_first"),
            F.max("order_ts").alias("order_last"),
            F.count_distinct("order_id").alias("orders"),
            F.sum("line_revenue").alias("revenue"),
            F.min("order_date").alias("first_order_date"),
            F.max("order_date").alias("last_order_date"),
        )
    )
    users = seen.select("user_id").unionByName(bought.select("user_id")).distinct()
    joined = users.join(seen, "user_id", "left").join(user_sessions, "user_id", "left").join(bought, "user_id", "left")
    return joined.select(
        "user_id",
        F.least("event_first", "order_first").alias("first_seen"),
        F.greatest("event_last", "order_last").alias("last_seen"),
        F.coalesce(F.col("sessions"), F.lit(0)).cast("long").alias("sessions"),
        F.coalesce(F.col("events"), F.lit(0)).cast("long").alias("events"),
        F.coalesce(F.col("orders"), F.lit(0)).cast("long").alias("orders"),
        F.coalesce(F.col("revenue"), F.lit(0)).cast(MONEY).alias("revenue"),
        "first_order_date",
        "last_order_date",
    )
