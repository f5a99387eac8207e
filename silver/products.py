"""silver.products — one row per product_id: the latest ingested attributes (a later workbook overrides)."""

from __future__ import annotations

from functools import partial

from expectations import silver_products
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from silver.cleaning import Cleaning, build_cleaned
from transforms import products as t
from transforms.latest import LATER_INGESTED_WINS, latest_per_key

RAW_COLUMNS = ("product_id", "name", "category", "brand", "list_price", "cost")
KEYS = ("product_id",)

CLEANING = Cleaning(
    bronze=("bronze.products",),
    raw_columns=RAW_COLUMNS,
    typed=t.typed_products,
    rules=lambda _context: t.product_rules(),
    to_silver=t.to_silver_products,
    dedup=partial(latest_per_key, keys=KEYS),
    keys=KEYS,
)


def build(context: BuildContext) -> TableOutput:
    return build_cleaned(context, CLEANING)


TABLE = TableDef(
    layer="silver",
    name="products",
    grain="One row per product_id.",
    build=build,
    inputs=("bronze.products",),
    keys=KEYS,
    write="merge",
    merge_condition=LATER_INGESTED_WINS,
    suite=silver_products.suite,
    quarantine=True,
    description="Product attributes with list_price and cost as decimals; the latest ingested row wins.",
)
