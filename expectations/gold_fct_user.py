"""Suite of gold.fct_user: one row per user, seen at least once, with consistent order facts."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectColumnValuesToBeUnique(column="user_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="user_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="first_seen")),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_seen", column_B="first_seen", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sessions", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="events", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="orders", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0)),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_order_date",
                column_B="first_order_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        ),
    ]
