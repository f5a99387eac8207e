"""silver.products — one row per product_id: the latest ingested attributes (a later workbook overrides)."""

from __future__ import annotations

from expectations import silver_products
from silver.cleaning import latest_wins_table
from transforms import products as t

TABLE = latest_wins_table(
    name="products",
    bronze="bronze.products",
    raw_columns=("product_id", "name", "category", "brand", "list_price", "cost"),
    keys=("product_id",),
    typed=t.typed_products,
    rules=t.product_rules,
    to_silver=t.to_silver_products,
    schema=t.SILVER_PRODUCTS_SCHEMA,
    suite=silver_products.suite,
    grain="One row per product_id.",
    description="Product attributes with list_price and cost as decimals; the latest ingested row wins.",
)
