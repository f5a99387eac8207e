"""Suite of gold.product_daily: one row per (product_id, date) with activity; non-negative measures."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical

COLUMNS = [
    "date",
    "product_id",
    "views",
    "add_to_carts",
    "units_sold",
    "revenue",
    "view_to_purchase_rate",
    "sales_spike",
]


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectTableColumnsToMatchSet(column_set=COLUMNS, exact_match=True)),
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["product_id", "date"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="product_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="date")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="views", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="add_to_carts", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="units_sold", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="view_to_purchase_rate", min_value=0)),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="sales_spike")),
    ]
