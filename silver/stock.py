"""silver.stock — the build: one row per (snapshot_date, product_id, warehouse), the latest ingested count.

Declared in ``silver/tables.py``.
"""

from __future__ import annotations

from functools import partial

from silver.cleaning import Cleaning, build_cleaned
from transforms import stock as t

CLEANING = Cleaning(
    raw_columns=("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point"),
    typed=t.typed_stock,
    rules=t.stock_rules,
    to_silver=t.to_silver_stock,
)
SCHEMA = t.SILVER_STOCK_SCHEMA

build = partial(build_cleaned, cleaning=CLEANING)
