"""Suite of silver.experiments: one row per experiment_id with a dated window."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    return [
        # Row-count bounds: an experiment file is a short catalogue; thousands of rows mean a wrong file.
        warn(gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=1000)),
        critical(gxe.ExpectColumnValuesToBeUnique(column="experiment_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="experiment_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="start_date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="end_date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="variants")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="allocation")),
        # An inverted window is legal data but exposes nobody: report it. Missing dates are the
        # not-null checks' business (and pandas and Spark would judge a null pair differently).
        warn(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="end_date", column_B="start_date", or_equal=True, ignore_row_if="either_value_is_missing"
            )
        ),
    ]
