"""Suite of gold.experiment_metrics: one row per (experiment, variant, metric); p-values are probabilities."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    probabilities = ["p_value", "adjusted_p_value", "cuped_p_value", "always_valid_p_value", "srm_p_value"]
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["experiment_id", "variant", "metric"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="verdict")),
        critical(gxe.ExpectColumnValuesToBeInSet(column="role", value_set=["goal", "secondary", "guardrail"])),
        critical(gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["mean", "ratio"])),
        *[critical(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1)) for c in probabilities],
        critical(gxe.ExpectColumnValuesToBeBetween(column="variance_reduction", min_value=0, max_value=1)),
        # An adjusted p-value is never below its raw one.
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="adjusted_p_value", column_B="p_value", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="ci_high", column_B="ci_low", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        critical(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="cs_high", column_B="cs_low", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
        warn(gxe.ExpectColumnValuesToBeBetween(column="mde", min_value=0)),
    ]
