"""silver.experiments — one row per experiment_id: variants (first = control), allocation and window."""

from __future__ import annotations

from functools import partial

from expectations import silver_experiments
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from silver.cleaning import Cleaning, build_cleaned
from transforms import experiments as t
from transforms.latest import LATER_INGESTED_WINS, latest_per_key

RAW_COLUMNS = ("experiment_id", "name", "variants", "allocation", "start_date", "end_date")
KEYS = ("experiment_id",)

CLEANING = Cleaning(
    bronze=("bronze.experiments",),
    raw_columns=RAW_COLUMNS,
    typed=t.typed_experiments,
    rules=lambda _context: t.experiment_rules(),
    to_silver=t.to_silver_experiments,
    dedup=partial(latest_per_key, keys=KEYS),
    keys=KEYS,
)


def build(context: BuildContext) -> TableOutput:
    return build_cleaned(context, CLEANING)


TABLE = TableDef(
    layer="silver",
    name="experiments",
    grain="One row per experiment_id.",
    build=build,
    inputs=("bronze.experiments",),
    keys=KEYS,
    write="merge",
    merge_condition=LATER_INGESTED_WINS,
    suite=silver_experiments.suite,
    quarantine=True,
    description="The experiment catalogue: variants array, allocation map and UTC date window.",
)
