"""silver.products — the build: one row per product_id, the latest ingested attributes (a later workbook overrides).

Declared in ``silver/tables.py``.
"""

from __future__ import annotations

from functools import partial

from silver.cleaning import Cleaning, build_cleaned
from transforms import products as t

CLEANING = Cleaning(
    raw_columns=("product_id", "name", "category", "brand", "list_price", "cost"),
    typed=t.typed_products,
    rules=t.product_rules,
    to_silver=t.to_silver_products,
)
SCHEMA = t.SILVER_PRODUCTS_SCHEMA

build = partial(build_cleaned, cleaning=CLEANING)
