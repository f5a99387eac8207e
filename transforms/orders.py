"""Silver order lines: type, validate and keep the latest version of each line.

Grain of the output: one row per (``order_id``, ``line_no``).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from transforms import conditions
from transforms.lineage import LINEAGE, ingestion_order
from transforms.parsing import clean_identifier, clean_lower, parse_decimal, parse_iso_timestamp
from transforms.rules import RowRule, metadata_columns

NON_SALE_STATUSES = ("cancelled", "returned")

# quantity x unit_price is held at decimal(30,8) and the kept share (1 - discount, in 0..1) at
# decimal(7,6), so their product needs exactly 38 digits and Spark keeps all 14 decimals; the cast
# to the column's 8 places then rounds half up once. Multiplying the wider types would exceed 38
# digits, and Spark would round to 6 places first. A line whose gross amount does not fit is
# quarantined (``line_amount_out_of_range``) before this runs.
GROSS_AMOUNT = "decimal(30,8)"
GROSS_AMOUNT_LIMIT = "1" + "0" * 22  # 10^22: the first gross amount decimal(30,8) cannot hold
KEPT_SHARE = "decimal(7,6)"


def typed_order_lines(bronze: DataFrame) -> DataFrame:
    discount_raw = F.trim(F.col("discount"))
    return bronze.select(
        clean_identifier(F.col("order_id")).alias("order_id"),
        clean_identifier(F.col("line_no")).alias("line_no"),
        parse_iso_timestamp(F.col("order_ts")).alias("order_ts"),
        F.col("order_ts").alias("order_ts_raw"),
        clean_identifier(F.col("customer_id")).alias("customer_id"),
        clean_identifier(F.col("product_id")).alias("product_id"),
        parse_decimal(F.col("quantity"), 18, 4).alias("quantity"),
        parse_decimal(F.col("unit_price"), 18, 4).alias("unit_price"),
        F.when(discount_raw.isNull() | (discount_raw == ""), F.lit(0).cast("decimal(9,6)"))
        .otherwise(parse_decimal(F.col("discount"), 9, 6))
        .alias("discount"),
        F.col("discount").alias("discount_raw"),
        clean_lower(F.col("status")).alias("status"),
        clean_identifier(F.col("country")).alias("country"),
        *metadata_columns(bronze),
    )


def order_line_rules() -> list[RowRule]:
    return [
        RowRule("malformed_csv_row", F.col("_corrupt_record").isNotNull(), "row's field count differs from the header"),
        RowRule("missing_order_id", F.col("order_id").isNull(), "order_id is missing or empty"),
        RowRule("missing_line_no", F.col("line_no").isNull(), "line_no is missing or empty"),
        RowRule("unparseable_order_ts", F.col("order_ts").isNull(), "order_ts is missing or not an ISO-8601 timestamp"),
        RowRule("non_numeric_quantity", F.col("quantity").isNull(), "quantity is missing or not a number"),
        RowRule("non_numeric_unit_price", F.col("unit_price").isNull(), "unit_price is missing or not a number"),
        RowRule("non_positive_quantity", F.col("quantity") <= 0, "quantity is zero or negative"),
        RowRule("negative_unit_price", F.col("unit_price") < 0, "unit_price is negative"),
        RowRule(
            "line_amount_out_of_range",
            F.abs(F.col("quantity") * F.col("unit_price")) >= F.lit(GROSS_AMOUNT_LIMIT).cast("decimal(23,0)"),
            "quantity x unit_price is 10^22 or more",
        ),
        RowRule(
            "discount_out_of_range",
            F.col("discount").isNull() | (F.col("discount") < 0) | (F.col("discount") > 1),
            "discount is not a number between 0 and 1",
        ),
    ]


def is_sale(status: Column) -> Column:
    """A line is a sale unless it was cancelled or returned."""
    return ~F.coalesce(status, F.lit("")).isin(*NON_SALE_STATUSES)


def line_revenue(quantity: Column, unit_price: Column, discount: Column) -> Column:
    """``quantity * unit_price * (1 - discount)`` rounded half up to 8 places, with no earlier rounding."""
    gross = (quantity * unit_price).cast(GROSS_AMOUNT)
    kept = (F.lit(1) - discount).cast(KEPT_SHARE)
    return (gross * kept).cast("decimal(38,8)")


def to_silver_order_lines(valid: DataFrame) -> DataFrame:
    revenue = line_revenue(F.col("quantity"), F.col("unit_price"), F.col("discount"))
    return valid.select(
        "order_id",
        "line_no",
        "order_ts",
        F.to_date("order_ts").alias("order_date"),
        "customer_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount",
        revenue.alias("line_revenue"),
        "status",
        is_sale(F.col("status")).alias("is_sale"),
        "country",
        *LINEAGE,
    )


def latest_per_line(lines: DataFrame) -> DataFrame:
    """Keep the latest ingested version of each (order_id, line_no)."""
    order = Window.partitionBy("order_id", "line_no").orderBy(*[c.desc() for c in ingestion_order()])
    return lines.withColumn("_copy", F.row_number().over(order)).filter("_copy = 1").drop("_copy")


ORDER_LINE_MERGE_CONDITION = conditions.ORDER_LINE_MERGE_CONDITION
