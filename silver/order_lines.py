"""silver.order_lines — the build: one row per (order_id, line_no), the latest ingested version of each line.

Declared in ``silver/tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame

from expectations import silver_order_lines
from lakehouse.contract import ORDER_COLUMNS
from lakehouse.model import InputFrames, TableOutput
from silver.cleaning import Cleaning, build_cleaned
from transforms import orders as t

RAW_COLUMNS = ORDER_COLUMNS


def _latest_per_line(lines: DataFrame, _keys: Sequence[str]) -> DataFrame:
    return t.latest_per_line(lines)


CLEANING = Cleaning(
    raw_columns=RAW_COLUMNS,
    typed=t.typed_order_lines,
    rules=t.order_line_rules,
    to_silver=t.to_silver_order_lines,
    dedup=_latest_per_line,
)


def build(inputs: InputFrames, keys: Sequence[str], bronze_inputs: Sequence[str]) -> TableOutput:
    output = build_cleaned(inputs, CLEANING, keys, bronze_inputs)
    products = inputs.get("silver.products")  # the declared `after` table, once it is written
    if products is not None:
        # Referential integrity, reported (warn): a sale of a product the catalogue does not list
        # yet still counts in revenue, but someone should add the product. Products are built
        # before order lines in the same run, so this is the catalogue of this run.
        known = [row[0] for row in products.select("product_id").distinct().collect()]
        output.checks.append(silver_order_lines.products_known(known))
    return output
