"""silver.stock — one row per (snapshot_date, product_id, warehouse): the latest ingested count."""

from __future__ import annotations

from expectations import silver_stock
from silver.cleaning import latest_wins_table
from transforms import stock as t

TABLE = latest_wins_table(
    name="stock",
    bronze="bronze.stock",
    raw_columns=("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point"),
    keys=t.KEYS,
    typed=t.typed_stock,
    rules=t.stock_rules,
    to_silver=t.to_silver_stock,
    suite=silver_stock.suite,
    schema=t.SILVER_STOCK_SCHEMA,
    grain="One row per (snapshot_date, product_id, warehouse).",
    description="Inventory snapshots with on_hand and reorder_point as whole numbers; the latest ingested wins.",
)
