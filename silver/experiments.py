"""silver.experiments — one row per experiment_id: variants (first = control), allocation and window."""

from __future__ import annotations

from expectations import silver_experiments
from silver.cleaning import latest_wins_table
from transforms import experiments as t

TABLE = latest_wins_table(
    name="experiments",
    bronze="bronze.experiments",
    raw_columns=("experiment_id", "name", "variants", "allocation", "start_date", "end_date"),
    keys=("experiment_id",),
    typed=t.typed_experiments,
    rules=t.experiment_rules,
    to_silver=t.to_silver_experiments,
    schema=t.SILVER_EXPERIMENTS_SCHEMA,
    suite=silver_experiments.suite,
    grain="One row per experiment_id.",
    description="The experiment catalogue: variants array, allocation map and UTC date window.",
)
