"""gold.category_daily — one row per (UTC order date, product category) with sales.

Sale lines join silver.products on product_id for the current category; lines of products
without a row or without a category go to ``unknown`` (see ``transforms.category_daily``).
"""

from __future__ import annotations

from expectations import gold_category_daily
from lakehouse.catalog import TableDef
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from transforms.category_daily import category_daily


def build(context: BuildContext) -> TableOutput:
    frame = category_daily(context.read("silver.order_lines"), context.read("silver.products"))
    return TableOutput(data=context.cache(frame.coalesce(1)))


TABLE = TableDef(
    layer="gold",
    name="category_daily",
    grain="One row per (date, category) with at least one sale line.",
    build=build,
    inputs=("silver.order_lines", "silver.products"),
    date_column="date",
    keys=("date", "category"),
    write="overwrite",
    suite=gold_category_daily.suite,
    description="Revenue and units of sale lines by product category and order date.",
)
