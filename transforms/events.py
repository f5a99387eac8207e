"""Silver events: type, validate and de-duplicate clickstream events.

Grain of the output: one row per ``event_id``.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms import conditions
from transforms.lineage import LINEAGE, ingestion_order
from transforms.parsing import clean_identifier, clean_lower, parse_iso_timestamp
from transforms.rules import INVALID_UTF8_PREFIX, RowRule, is_json_container, metadata_columns

EVENT_TYPES = (
    "page_view",
    "product_view",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "search",
)

# The contract's identifiers on an event: each must be a non-empty string or a number.
IDENTIFIERS = ("event_id", "user_id", "session_id", "product_id", "order_id")

SILVER_EVENTS_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType(), False),
        T.StructField("event_ts", T.TimestampType(), False),
        T.StructField("event_date", T.DateType(), False),
        T.StructField("user_id", T.StringType(), False),
        T.StructField("session_id", T.StringType()),
        T.StructField("event_type", T.StringType(), False),
        T.StructField("product_id", T.StringType()),
        T.StructField("order_id", T.StringType()),
        T.StructField("device", T.StringType()),
        T.StructField("country", T.StringType()),
        T.StructField("experiments", T.MapType(T.StringType(), T.StringType())),
        T.StructField("properties", T.StringType()),
        T.StructField("_ingest_file", T.StringType()),
        T.StructField("_ingest_seq", T.LongType()),
        T.StructField("_ingest_ts", T.TimestampType()),
        T.StructField("_ingest_batch_id", T.StringType()),
    ]
)


def typed_events(bronze: DataFrame) -> DataFrame:
    """Bronze strings -> contract types. Keeps the raw columns the rules need to explain a rejection."""
    # pyspark annotates from_json's schema without MapType, which it accepts (and documents) all the same.
    experiments = F.from_json(F.col("experiments"), T.MapType(T.StringType(), T.StringType()))  # type: ignore[arg-type]
    return bronze.select(
        clean_identifier(F.col("event_id")).alias("event_id"),
        parse_iso_timestamp(F.col("event_ts")).alias("event_ts_parsed"),
        F.col("event_ts").alias("event_ts_raw"),
        clean_identifier(F.col("user_id")).alias("user_id"),
        clean_identifier(F.col("session_id")).alias("session_id"),
        clean_lower(F.col("event_type")).alias("event_type"),
        clean_identifier(F.col("product_id")).alias("product_id"),
        clean_identifier(F.col("order_id")).alias("order_id"),
        clean_lower(F.col("device")).alias("device"),
        clean_identifier(F.col("country")).alias("country"),
        F.coalesce(experiments, F.create_map().cast("map<string,string>")).alias("experiments"),
        F.col("properties"),
        *metadata_columns(bronze),
    )


def event_rules(late_tolerance_hours: int = 24) -> list[RowRule]:
    """Quarantine rules of METRICS.md, in the order a reason is reported."""
    tolerance = F.expr(f"INTERVAL {int(late_tolerance_hours)} HOURS")
    not_scalar = [
        RowRule(
            f"{name}_not_scalar",
            is_json_container(F.col(name)),
            f"{name} is a JSON object or array; identifiers are non-empty strings or numbers",
        )
        for name in IDENTIFIERS
    ]
    return [
        RowRule(
            "invalid_utf8",
            F.col("_corrupt_record").startswith(INVALID_UTF8_PREFIX),
            "line is not valid UTF-8; its raw bytes are kept base64-encoded in _corrupt_record",
        ),
        RowRule("malformed_json", F.col("_corrupt_record").isNotNull(), "line is not a valid JSON object"),
        *not_scalar,
        RowRule("missing_event_id", F.col("event_id").isNull(), "event_id is missing or empty"),
        RowRule("missing_user_id", F.col("user_id").isNull(), "user_id is missing or empty"),
        RowRule(
            "unparseable_event_ts",
            F.col("event_ts_parsed").isNull(),
            "event_ts is missing or not an ISO-8601 timestamp",
        ),
        RowRule(
            "unknown_event_type",
            F.col("event_type").isNull() | ~F.col("event_type").isin(*EVENT_TYPES),
            "event_type is not one of " + ", ".join(EVENT_TYPES),
        ),
        RowRule(
            "event_ts_in_future",
            F.col("event_ts_parsed") > F.col("_ingest_ts") + tolerance,
            f"event_ts is more than {late_tolerance_hours} h after ingestion time",
        ),
    ]


def to_silver_events(valid: DataFrame) -> DataFrame:
    """Valid typed rows -> silver columns (no de-duplication)."""
    return valid.select(
        "event_id",
        F.col("event_ts_parsed").alias("event_ts"),
        F.to_date("event_ts_parsed").alias("event_date"),
        "user_id",
        "session_id",
        "event_type",
        "product_id",
        "order_id",
        "device",
        "country",
        "experiments",
        "properties",
        *LINEAGE,
    )


def first_per_event_id(events: DataFrame) -> DataFrame:
    """Keep the first copy of each event_id by event_ts, then ingestion order."""
    order = Window.partitionBy("event_id").orderBy(F.col("event_ts"), *ingestion_order())
    return events.withColumn("_copy", F.row_number().over(order)).filter("_copy = 1").drop("_copy")


# A later copy replaces the stored one only when it comes first by (event_ts, ingestion order).
EVENT_MERGE_CONDITION = conditions.EVENT_MERGE_CONDITION
