"""Suite of silver.products: one row per product_id with a usable list price."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectColumnValuesToBeUnique(column="product_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="product_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="list_price")),
        # Prices and costs below 0 are not quarantined by the contract, but they are worth a look.
        warn(gxe.ExpectColumnValuesToBeBetween(column="list_price", min_value=0)),
        warn(gxe.ExpectColumnValuesToBeBetween(column="cost", min_value=0)),
        # A few products without category are normal (they report as "unknown"); many means a broken export.
        warn(gxe.ExpectColumnValuesToNotBeNull(column="category", mostly=0.9)),
    ]
