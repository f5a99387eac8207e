"""Suite of silver.order_lines: one row per (order_id, line_no) with valid amounts."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn

STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"]


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["order_id", "line_no"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="order_ts")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0, strict_min=True)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="unit_price", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="discount", min_value=0, max_value=1)),
        warn(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES)),
    ]


def products_known(product_ids: list[str]) -> Check:
    """Referential integrity: every line's product is in silver.products (warn; nulls are not checked)."""
    return warn(gxe.ExpectColumnValuesToBeInSet(column="product_id", value_set=sorted(product_ids)))
