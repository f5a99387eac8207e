"""gold.category_daily — one row per (UTC order date, product category) with sales.

Sale lines join silver.products on product_id for the current category; lines of products
without a row or without a category go to ``unknown`` (see ``transforms.category_daily``).
"""

from __future__ import annotations

from lakehouse.model import InputFrames, TableOutput
from transforms.category_daily import category_daily


def build(inputs: InputFrames) -> TableOutput:
    frame = category_daily(inputs["silver.order_lines"], inputs["silver.products"])
    return TableOutput(data=frame.coalesce(1))
