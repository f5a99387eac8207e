"""Silver stock: type and validate inventory snapshots; the latest ingested copy of a snapshot row wins.

Grain of the output: one row per (``snapshot_date``, ``product_id``, ``warehouse``).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.lineage import LINEAGE
from transforms.parsing import clean_identifier, parse_date, parse_decimal
from transforms.rules import RowRule, metadata_columns

KEYS = ("snapshot_date", "product_id", "warehouse")

SILVER_STOCK_SCHEMA = T.StructType(
    [
        T.StructField("snapshot_date", T.DateType(), False),
        T.StructField("product_id", T.StringType(), False),
        T.StructField("warehouse", T.StringType(), False),
        T.StructField("on_hand", T.LongType(), False),
        T.StructField("reorder_point", T.LongType()),
        T.StructField("_ingest_file", T.StringType()),
        T.StructField("_ingest_seq", T.LongType()),
        T.StructField("_ingest_ts", T.TimestampType()),
        T.StructField("_ingest_batch_id", T.StringType()),
    ]
)


def parse_whole_number(raw: Column) -> Column:
    """A count from text: null unless a plain number with no fractional part ("41" or "41.0", not "41.5").

    Spreadsheets store counts as floats, so "41.0" is a whole number; rounding "41.5" would invent stock.
    """
    value = parse_decimal(raw, 38, 6)
    return F.when(value == F.floor(value), value.try_cast("long"))


def typed_stock(bronze: DataFrame) -> DataFrame:
    return bronze.select(
        parse_date(F.col("snapshot_date")).alias("snapshot_date"),
        clean_identifier(F.col("product_id")).alias("product_id"),
        clean_identifier(F.col("warehouse")).alias("warehouse"),
        parse_whole_number(F.col("on_hand")).alias("on_hand"),
        parse_whole_number(F.col("reorder_point")).alias("reorder_point"),
        *metadata_columns(bronze),
    )


def stock_rules() -> list[RowRule]:
    """Quarantine rules, in the order a reason is reported."""
    return [
        RowRule(
            "unreadable_record",
            F.col("_corrupt_record").isNotNull(),
            "the workbook or its stock sheet could not be read",
        ),
        RowRule(
            "unparseable_snapshot_date",
            F.col("snapshot_date").isNull(),
            "snapshot_date is missing or not an ISO-8601 date",
        ),
        RowRule("missing_product_id", F.col("product_id").isNull(), "product_id is missing or empty"),
        RowRule("missing_warehouse", F.col("warehouse").isNull(), "warehouse is missing or empty"),
        RowRule("non_numeric_on_hand", F.col("on_hand").isNull(), "on_hand is missing or not a whole number"),
    ]


def to_silver_stock(valid: DataFrame) -> DataFrame:
    return valid.select(*KEYS, "on_hand", "reorder_point", *LINEAGE)
