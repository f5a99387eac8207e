"""Suite of silver.experiment_exposures: one row per (user_id, experiment_id), attributed to one variant."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["user_id", "experiment_id"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="user_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="experiment_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="variant")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="first_exposure_ts")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="variants_seen", min_value=1)),
        # Users re-bucketed into another variant (cookie resets) should be rare; many means broken assignment.
        warn(gxe.ExpectColumnValuesToBeBetween(column="variants_seen", max_value=1, mostly=0.95)),
    ]


def experiments_known(experiment_ids: list[str]) -> Check:
    """Referential integrity: every exposure names an experiment of silver.experiments (critical)."""
    return critical(gxe.ExpectColumnValuesToBeInSet(column="experiment_id", value_set=sorted(experiment_ids)))
