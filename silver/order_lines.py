"""silver.order_lines — one row per (order_id, line_no): the latest ingested version of each line."""

from __future__ import annotations

from expectations import silver_order_lines
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from silver.cleaning import Cleaning, build_cleaned
from transforms import orders as t

RAW_COLUMNS = ("order_id", "line_no", "order_ts", "customer_id", "product_id", "quantity", "unit_price",
               "discount", "status", "country")

CLEANING = Cleaning(
    bronze=("bronze.orders",),
    raw_columns=RAW_COLUMNS,
    typed=t.typed_order_lines,
    rules=lambda _context: t.order_line_rules(),
    to_silver=t.to_silver_order_lines,
    dedup=t.latest_per_line,
    keys=("order_id", "line_no"),
)


def build(context: BuildContext) -> TableOutput:
    return build_cleaned(context, CLEANING)


TABLE = TableDef(
    layer="silver",
    name="order_lines",
    grain="One row per (order_id, line_no).",
    build=build,
    inputs=("bronze.orders",),
    keys=("order_id", "line_no"),
    write="merge",
    merge_condition=t.ORDER_LINE_MERGE_CONDITION,
    suite=silver_order_lines.suite,
    quarantine=True,
    description="Typed order lines with line_revenue and is_sale; the latest ingested version wins.",
)
