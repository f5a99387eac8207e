"""Sessions derived from silver events.

Grain: one row per ``session_id``. A session's date is the UTC date of its first
event and its device the device of that first event (``unknown`` when missing).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def sessions(events: DataFrame) -> DataFrame:
    first = F.struct(F.col("event_ts"), F.col("_ingest_ts"), F.col("_ingest_file"), F.col("_ingest_seq"))
    return (
        events.filter(F.col("session_id").isNotNull())
        .groupBy("session_id")
        .agg(
            F.min("event_ts").alias("session_start"),
            F.min_by(F.col("device"), first).alias("first_device"),
            F.min_by(F.col("user_id"), first).alias("user_id"),
            F.max(F.col("event_type") == "purchase").alias("has_purchase"),
            F.count(F.lit(1)).alias("events"),
        )
        .select(
            "session_id",
            "user_id",
            F.to_date("session_start").alias("session_date"),
            F.coalesce(F.col("first_device"), F.lit("unknown")).alias("device"),
            "session_start",
            "has_purchase",
            "events",
        )
    )
