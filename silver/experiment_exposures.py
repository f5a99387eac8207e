"""silver.experiment_exposures — one row per (user_id, experiment_id): the variant of the first exposure.

Derived from silver.events and silver.experiments, so it is recomputed whole on every change:
a late event or an edited experiment window can move a user's first exposure.
"""

from __future__ import annotations

from expectations import silver_experiment_exposures
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from transforms.experiments import experiment_exposures


def build(context: BuildContext) -> TableOutput:
    frame = experiment_exposures(context.read("silver.events"), context.read("silver.experiments"))
    return TableOutput(data=context.cache(frame))


TABLE = TableDef(
    layer="silver",
    name="experiment_exposures",
    grain="One row per (user_id, experiment_id).",
    build=build,
    inputs=("silver.events", "silver.experiments"),
    keys=("user_id", "experiment_id"),
    write="overwrite",
    suite=silver_experiment_exposures.suite,
    description="Users exposed to each experiment within its window, in the variant of their first exposure.",
)
