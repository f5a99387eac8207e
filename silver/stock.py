"""silver.stock — one row per (snapshot_date, product_id, warehouse): the latest ingested count."""

from __future__ import annotations

from functools import partial

from expectations import silver_stock
from lakehouse.catalog import TableDef
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from silver.cleaning import Cleaning, build_cleaned
from transforms import stock as t
from transforms.latest import LATER_INGESTED_WINS, latest_per_key

RAW_COLUMNS = ("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point")

CLEANING = Cleaning(
    bronze=("bronze.stock",),
    raw_columns=RAW_COLUMNS,
    typed=t.typed_stock,
    rules=lambda _context: t.stock_rules(),
    to_silver=t.to_silver_stock,
    dedup=partial(latest_per_key, keys=t.KEYS),
    keys=t.KEYS,
)


def build(context: BuildContext) -> TableOutput:
    return build_cleaned(context, CLEANING)


TABLE = TableDef(
    layer="silver",
    name="stock",
    grain="One row per (snapshot_date, product_id, warehouse).",
    build=build,
    inputs=("bronze.stock",),
    keys=t.KEYS,
    write="merge",
    merge_condition=LATER_INGESTED_WINS,
    suite=silver_stock.suite,
    quarantine=True,
    description="Inventory snapshots with on_hand and reorder_point as whole numbers; the latest ingested wins.",
)
