"""gold.category_daily — one row per (UTC order date, product category) with sales.

Sale lines join silver.products on product_id for the current category; lines of products
without a row or without a category go to ``unknown`` (see ``transforms.category_daily``).
"""

from __future__ import annotations

from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from transforms.category_daily import category_daily


def build(context: BuildContext) -> TableOutput:
    frame = category_daily(context.read("silver.order_lines"), context.read("silver.products"))
    return TableOutput(data=context.cache(frame.coalesce(1)))
