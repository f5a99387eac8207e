"""Silver products: type and validate product attributes; the latest ingested attributes win.

Grain of the output: one row per ``product_id``.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.lineage import LINEAGE
from transforms.parsing import clean_identifier, parse_decimal
from transforms.rules import RowRule, metadata_columns

MONEY = T.DecimalType(18, 4)

SILVER_PRODUCTS_SCHEMA = T.StructType(
    [
        T.StructField("product_id", T.StringType(), False),
        T.StructField("name", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("brand", T.StringType()),
        T.StructField("list_price", MONEY, False),
        T.StructField("cost", MONEY),
        T.StructField("_ingest_file", T.StringType()),
        T.StructField("_ingest_seq", T.LongType()),
        T.StructField("_ingest_ts", T.TimestampType()),
        T.StructField("_ingest_batch_id", T.StringType()),
    ]
)


def typed_products(bronze: DataFrame) -> DataFrame:
    """Bronze strings -> contract types; blank text is null (an empty category is no category)."""
    return bronze.select(
        clean_identifier(F.col("product_id")).alias("product_id"),
        clean_identifier(F.col("name")).alias("name"),
        clean_identifier(F.col("category")).alias("category"),
        clean_identifier(F.col("brand")).alias("brand"),
        parse_decimal(F.col("list_price"), 18, 4).alias("list_price"),
        parse_decimal(F.col("cost"), 18, 4).alias("cost"),
        *metadata_columns(bronze),
    )


def product_rules() -> list[RowRule]:
    """Quarantine rules, in the order a reason is reported."""
    return [
        RowRule(
            "unreadable_record",
            F.col("_corrupt_record").isNotNull(),
            "the workbook or its products sheet could not be read",
        ),
        RowRule("missing_product_id", F.col("product_id").isNull(), "product_id is missing or empty"),
        RowRule("non_numeric_list_price", F.col("list_price").isNull(), "list_price is missing or not a number"),
    ]


def to_silver_products(valid: DataFrame) -> DataFrame:
    """Valid typed rows -> silver columns (no de-duplication); lineage stays for the MERGE condition."""
    return valid.select("product_id", "name", "category", "brand", "list_price", "cost", *LINEAGE)
