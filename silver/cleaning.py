"""The build shared by silver tables fed by bronze tables: type, quarantine, de-duplicate.

A table may read several bronze tables carrying the same contract (silver.events reads the
landing files' bronze.events and Kafka's bronze.clickstream): their new rows are unioned by
name before anything else, so every rule and the de-duplication see one batch.

Quarantine comes before de-duplication, so a bad copy of a key never displaces a
good one. The row ledger takes rows in and per-rule rejections from one aggregation over
the cached, flagged batch, and rows out from the count of the cached, de-duplicated frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.model import Ledger, TableOutput
from lakehouse.runner import BuildContext
from transforms.latest import latest_per_key
from transforms.rules import REASON, RULE, RowRule, failing, flag_first_failure, passing

RECORD = "_record"
QUARANTINE_COLUMNS = (RECORD, RULE, REASON, "_source", "_ingest_file", "_ingest_seq", "_ingest_ts", "_ingest_batch_id")


@dataclass(frozen=True)
class Cleaning:
    """How a silver table is derived from its bronze inputs; which inputs and keys is the declaration's.

    ``dedup`` receives the declared keys (``TableDef.keys``); the inputs read are the declared
    inputs (``TableDef.inputs``), so neither is written twice.
    """

    raw_columns: Sequence[str]
    typed: Callable[[DataFrame], DataFrame]
    rules: Callable[[BuildContext], list[RowRule]]
    to_silver: Callable[[DataFrame], DataFrame]
    dedup: Callable[[DataFrame, Sequence[str]], DataFrame] = latest_per_key


def _ledger(flagged: DataFrame, rules: list[RowRule]) -> tuple[int, dict[str, int]]:
    """Rows in and rows per quarantine rule, in one aggregation over the flagged batch."""
    aggregates = [F.count(F.lit(1)).alias("rows_in"), *[F.count_if(F.col(RULE) == r.name).alias(r.name) for r in rules]]
    row = flagged.agg(*aggregates).first()
    assert row is not None
    by_rule = {r.name: int(row[r.name]) for r in rules if row[r.name]}
    return int(row["rows_in"]), by_rule


def read_new_bronze(context: BuildContext, tables: Sequence[str]) -> DataFrame:
    """New rows of every input since this table last read it; columns one input lacks are null."""
    frames = [context.read_new(table_id) for table_id in tables]
    batch = frames[0]
    for frame in frames[1:]:
        batch = batch.unionByName(frame, allowMissingColumns=True)
    return batch


def build_cleaned(context: BuildContext, cleaning: Cleaning) -> TableOutput:
    """Type, quarantine and de-duplicate the new rows of the declared bronze inputs (see the module docstring)."""
    bronze = read_new_bronze(context, context.table.inputs)
    raw = F.to_json(F.struct(*[F.col(c) for c in [*cleaning.raw_columns, "_corrupt_record", "_rescued_data"]]))
    rules = cleaning.rules(context)
    flagged = flag_first_failure(cleaning.typed(bronze.withColumn(RECORD, raw)), rules)
    # Only a quarantined row needs its raw record: the cached batch holds it for those rows alone
    # (on 1M events the record text was most of the cache; caching it cost about 1 s more).
    flagged = context.cache(flagged.withColumn(RECORD, F.when(F.col(RULE).isNotNull(), F.col(RECORD))))
    rows_in, by_rule = _ledger(flagged, rules)
    if rows_in == 0 and context.exists(context.table.id):
        return TableOutput(data=None, note="no new bronze rows")
    quarantined = sum(by_rule.values())
    valid_rows = rows_in - quarantined
    silver = context.cache(cleaning.dedup(cleaning.to_silver(passing(flagged)), context.table.keys))
    # De-duplication keeps one row per key, so its count is the number of distinct valid keys;
    # counting the cached frame computes it once for the gate and the write as well, instead
    # of a separate count_distinct aggregation over the whole batch.
    distinct_keys = silver.count()
    quarantine = failing(flagged).select(
        *QUARANTINE_COLUMNS,
        F.lit(context.run_id).alias("_run_id"),
        F.lit(context.started_at).cast("timestamp").alias("_quarantined_at"),
    )
    ledger = Ledger(
        rows_in=rows_in,
        rows_out=distinct_keys,
        quarantined=quarantined,
        deduplicated=valid_rows - distinct_keys,
        by_rule=by_rule,
    )
    return TableOutput(data=silver, quarantine=quarantine, ledger=ledger)
