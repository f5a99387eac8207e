"""silver.experiment_exposures — one row per (user_id, experiment_id): the variant of the first exposure.

Derived from silver.events and silver.experiments, so it is recomputed whole on every change:
a late event or an edited experiment window can move a user's first exposure. The row ledger
counts exposure events in (every in-window event carrying an experiment) and repeat exposures
as de-duplicated, so the run report shows how much collapsing happened.
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import functions as F

from expectations import silver_experiment_exposures
from lakehouse.model import InputFrames, Ledger, TableOutput
from transforms.experiments import EXPOSURE_EVENTS, exposure_events, first_exposures_counted


def build(inputs: InputFrames) -> TableOutput:
    experiments = inputs["silver.experiments"]
    # Cached for the ledger, the gate and the write; the runner releases it after the write.
    counted = first_exposures_counted(exposure_events(inputs["silver.events"], experiments))
    counted = counted.persist(StorageLevel.MEMORY_AND_DISK)
    # One pass over the small collapsed frame gives the ledger: the exposure events are not cached
    # or counted again (a distinct count over them was a shuffle of every exposure event).
    counts = counted.agg(F.sum(EXPOSURE_EVENTS).alias("rows_in"), F.count(F.lit(1)).alias("keys")).first()
    assert counts is not None
    rows_in, keys = int(counts["rows_in"] or 0), int(counts["keys"])
    ledger = Ledger(rows_in=rows_in, rows_out=keys, quarantined=0, deduplicated=rows_in - keys)
    known = [row[0] for row in experiments.select("experiment_id").collect()]
    return TableOutput(
        data=counted.drop(EXPOSURE_EVENTS),
        ledger=ledger,
        checks=[silver_experiment_exposures.experiments_known(known)],
        cached=[counted],
    )
