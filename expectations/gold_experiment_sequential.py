"""Suite of gold.experiment_sequential: one row per daily look; the sequence holds the estimate."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["experiment_id", "variant", "metric", "date"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="date")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="users", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="always_valid_p_value", min_value=0, max_value=1)),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="cs_high", column_B="cs_low", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
    ]
