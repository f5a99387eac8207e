"""Suite of gold.funnel_daily: one row per (session_date, device, step); the funnel never widens.

``step_conversion`` <= 1 is the check that sessions_reached(n) <= sessions_reached(n-1).
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["session_date", "device", "step"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="session_date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="device")),
        critical(gxe.ExpectColumnValuesToBeInSet(column="step", value_set=[1, 2, 3, 4])),
        critical(
            gxe.ExpectColumnValuesToBeInSet(
                column="step_name",
                value_set=["product_view", "add_to_cart", "begin_checkout", "purchase"],
            )
        ),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sessions_reached", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="step_conversion", min_value=0, max_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="overall_conversion", min_value=0, max_value=1)),
    ]
