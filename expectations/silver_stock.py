"""Suite of silver.stock: one row per (snapshot_date, product_id, warehouse) with a whole on-hand count."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["snapshot_date", "product_id", "warehouse"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="snapshot_date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="product_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="warehouse")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="on_hand")),
        # Negative stock or reorder points are bookkeeping errors upstream, not unreadable rows.
        warn(gxe.ExpectColumnValuesToBeBetween(column="on_hand", min_value=0)),
        warn(gxe.ExpectColumnValuesToBeBetween(column="reorder_point", min_value=0)),
    ]
