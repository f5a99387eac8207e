"""Suite of gold.experiment_results: one row per (experiment_id, variant); rates and p-values are probabilities."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["experiment_id", "variant"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="experiment_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="variant")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="users", min_value=0)),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="users", column_B="converters", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        critical(gxe.ExpectColumnValuesToBeBetween(column="converters", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="conversion_rate", min_value=0, max_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue_per_user", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="srm_p_value", min_value=0, max_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="p_value", min_value=0, max_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue_p_value", min_value=0, max_value=1)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="abs_lift", min_value=-1, max_value=1)),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="ci_high", column_B="ci_low", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="is_control")),
    ]
