"""The build shared by silver tables fed by bronze tables: type, quarantine, de-duplicate.

A table may read several bronze tables carrying the same contract (silver.events reads the
landing files' bronze.events and Kafka's bronze.clickstream): their new rows are unioned by
name before anything else, so every rule and the de-duplication see one batch.

Quarantine comes before de-duplication, so a bad copy of a key never displaces a
good one. The row ledger takes rows in and per-rule rejections from one aggregation over
the cached, flagged batch, and rows out from the count of the cached, de-duplicated frame.

The build is a function of frames: the runner hands it each input's new rows (the declaration's
``receives="new"``), the keys and rule settings come bound from the declaration, and the runner
stamps the quarantine rows with the run and skips a batch with no rows for a table that exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.model import InputFrames, Ledger, TableOutput
from transforms.latest import latest_per_key
from transforms.rules import REASON, RULE, RowRule, failing, flag_first_failure, passing

RECORD = "_record"
# Both frames are read by several actions (ledger, gate, quarantine and table writes); the runner
# releases them after the write (``TableOutput.cached``).
CACHED = StorageLevel.MEMORY_AND_DISK
QUARANTINE_COLUMNS = (RECORD, RULE, REASON, "_source", "_ingest_file", "_ingest_seq", "_ingest_ts", "_ingest_batch_id")


@dataclass(frozen=True)
class Cleaning:
    """How a silver table is derived from its bronze inputs; which inputs and keys is the declaration's.

    ``dedup`` receives the declared keys (``TableDef.keys``); the inputs read are the declared
    inputs (``TableDef.inputs``), so neither is written twice. ``rules`` is called with the
    arguments the declaration binds (silver.events: the late-event tolerance setting).
    """

    raw_columns: Sequence[str]
    typed: Callable[[DataFrame], DataFrame]
    rules: Callable[..., list[RowRule]]
    to_silver: Callable[[DataFrame], DataFrame]
    dedup: Callable[[DataFrame, Sequence[str]], DataFrame] = latest_per_key


def _ledger(flagged: DataFrame, rules: list[RowRule]) -> tuple[int, dict[str, int]]:
    """Rows in and rows per quarantine rule, in one aggregation over the flagged batch."""
    aggregates = [F.count(F.lit(1)).alias("rows_in"), *[F.count_if(F.col(RULE) == r.name).alias(r.name) for r in rules]]
    row = flagged.agg(*aggregates).first()
    assert row is not None
    by_rule = {r.name: int(row[r.name]) for r in rules if row[r.name]}
    return int(row["rows_in"]), by_rule


def union_of_inputs(inputs: InputFrames) -> DataFrame:
    """The new rows of every input as one batch; columns one input lacks are null."""
    frames = list(inputs.values())
    batch = frames[0]
    for frame in frames[1:]:
        batch = batch.unionByName(frame, allowMissingColumns=True)
    return batch


def build_cleaned(
    inputs: InputFrames, cleaning: Cleaning, keys: Sequence[str], bronze_inputs: Sequence[str], **rule_args: Any
) -> TableOutput:
    """Type, quarantine and de-duplicate the new rows of ``bronze_inputs`` (see the module docstring).

    ``keys`` and ``bronze_inputs`` are the declaration's keys and inputs; ``rule_args`` go to ``cleaning.rules``.
    """
    bronze = union_of_inputs({table_id: inputs[table_id] for table_id in bronze_inputs})
    raw = F.to_json(F.struct(*[F.col(c) for c in [*cleaning.raw_columns, "_corrupt_record", "_rescued_data"]]))
    rules = cleaning.rules(**rule_args)
    flagged = flag_first_failure(cleaning.typed(bronze.withColumn(RECORD, raw)), rules)
    # Only a quarantined row needs its raw record: the cached batch holds it for those rows alone
    # (on 1M events the record text was most of the cache; caching it cost about 1 s more).
    flagged = flagged.withColumn(RECORD, F.when(F.col(RULE).isNotNull(), F.col(RECORD))).persist(CACHED)
    cached = [flagged]
    try:
        rows_in, by_rule = _ledger(flagged, rules)
        silver = cleaning.dedup(cleaning.to_silver(passing(flagged)), keys).persist(CACHED)
        cached.append(silver)
        # De-duplication keeps one row per key, so its count is the number of distinct valid keys;
        # counting the cached frame computes it once for the gate and the write as well, instead
        # of a separate count_distinct aggregation over the whole batch.
        distinct_keys = silver.count()
    except Exception:
        for frame in cached:  # no output will carry them to the runner
            frame.unpersist()
        raise
    quarantined = sum(by_rule.values())
    ledger = Ledger(
        rows_in=rows_in,
        rows_out=distinct_keys,
        quarantined=quarantined,
        deduplicated=rows_in - quarantined - distinct_keys,
        by_rule=by_rule,
    )
    quarantine = failing(flagged).select(*QUARANTINE_COLUMNS)
    return TableOutput(data=silver, quarantine=quarantine, ledger=ledger, cached=cached)
