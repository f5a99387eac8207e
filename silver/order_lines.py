"""silver.order_lines — one row per (order_id, line_no): the latest ingested version of each line."""

from __future__ import annotations

from expectations import silver_order_lines
from lakehouse.contract import ORDER_COLUMNS
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from silver.cleaning import Cleaning, build_cleaned, cleaned_table
from transforms import orders as t

RAW_COLUMNS = ORDER_COLUMNS

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
    output = build_cleaned(context, CLEANING)
    products = context.read_reference("silver.products")
    if output.data is not None and products is not None:
        # Referential integrity, reported (warn): a sale of a product the catalogue does not list
        # yet still counts in revenue, but someone should add the product. Products are built
        # before order lines in the same run, so this is the catalogue of this run.
        known = [row[0] for row in products.select("product_id").distinct().collect()]
        output.checks.append(silver_order_lines.products_known(known))
    return output


TABLE = cleaned_table(
    CLEANING,
    name="order_lines",
    grain="One row per (order_id, line_no).",
    build=build,
    after=("silver.products",),  # the referential check reads this run's catalogue
    merge_condition=t.ORDER_LINE_MERGE_CONDITION,
    suite=silver_order_lines.suite,
    # Gold reads what changed since its last build (dates, sessions, customers it reached).
    change_feed=True,
    date_column="order_date",
    description="Typed order lines with line_revenue and is_sale; the latest ingested version wins.",
)
