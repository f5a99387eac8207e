"""Suite of gold.retention_cohorts: one row per (cohort_month, month_offset); month 0 retains everyone."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["cohort_month", "month_offset"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="cohort_month")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="month_offset", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="cohort_size", min_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="retention_rate", min_value=0, max_value=1)),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="cohort_size",
                column_B="active_customers",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        ),
    ]
