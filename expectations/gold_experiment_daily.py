"""Suite of gold.experiment_daily: one row per (experiment, variant, metric, date); sums of non-negative metrics."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["experiment_id", "variant", "metric", "date"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="experiment_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="variant")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="metric")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="date")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="n", min_value=1)),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="sum_y")),
        # Every declared metric is a count or money amount: its sums cannot be negative.
        critical(gxe.ExpectColumnValuesToBeBetween(column="sum_y", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sum_y2", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sum_d", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sum_x", min_value=0)),
    ]
