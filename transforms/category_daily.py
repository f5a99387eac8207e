"""Gold category_daily (METRICS.md ``category_daily``).

Grain: one row per (``date``, ``category``) with at least one sale line; ``date`` is the UTC
order date. Readings: a line's category is its product's current category in silver.products
(latest attributes, not as of the order date); a line whose product is unknown, missing or
has no category goes to ``unknown``. A (date, category) without sales has no row: its
additive metrics are 0 by definition.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.kpis import MONEY

UNITS = "decimal(38,4)"
UNKNOWN_CATEGORY = "unknown"


def category_daily(order_lines: DataFrame, products: DataFrame) -> DataFrame:
    categories = F.broadcast(products.select("product_id", "category"))
    sales = order_lines.filter(F.col("is_sale")).join(categories, "product_id", "left")
    return sales.groupBy(
        F.col("order_date").alias("date"),
        F.coalesce(F.col("category"), F.lit(UNKNOWN_CATEGORY)).alias("category"),
    ).agg(
        F.sum("line_revenue").cast(MONEY).alias("revenue"),
        F.sum("quantity").cast(UNITS).alias("units"),
    )
