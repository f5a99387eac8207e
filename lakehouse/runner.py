"""The runner: builds declared tables in dependency order, gating each before it is written.

For each table: find out whether its inputs changed since the versions recorded in
its last commit (its watermark); if so, build the new data, validate it with the
table's suite, and write it, storing the input versions in the same commit. A
table whose inputs did not change is skipped, so a rerun on unchanged landing data
writes no new version anywhere. A failed critical check stops the run before the
table (and anything downstream) is written.

The watermark is also mirrored in ``ops.table_state``, read when log cleanup removed the
commits holding it. When the history an incremental read needs is gone (old commits
cleaned up, change-feed files vacuumed), the table is rebuilt from the whole of its inputs,
with one warning line, as a full refresh would rebuild it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse import delta_io, monitors, ops, schema_policy
from lakehouse.catalog import Catalog, TableDef, load_catalog
from lakehouse.hooks import RunCommitted, RunHooks, TableFailure
from lakehouse.model import InputChanges, Ledger, RunReport, TableOutput, TableResult
from lakehouse.quality import CheckResult, GateFailed, QualityGate, raise_on_critical
from lakehouse.settings import Settings
from lakehouse.storage import quarantine_id, table_id_path, table_path

log = logging.getLogger(__name__)

WATERMARK_KEY = "inputs"
# A MERGE target above this size is probed for updates first (about a second) so that a batch of new
# keys takes Delta's insert-only path, which rewrites no file. Below it the probe costs more than
# rewriting the few small files a full MERGE touches (measured on the demo: 60-row products merge
# 1.2 s faster without it, the 1.5 MB silver.events 1.6 s slower).
MERGE_PROBE_MIN_BYTES = 1024 * 1024


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_run_id(at: dt.datetime) -> str:
    return f"{at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"


class BuildContext:
    """What a build function may use: the session, settings, and reads pinned to this run's versions."""

    def __init__(
        self, pipeline: Pipeline, table: TableDef, versions: dict[str, int | None], watermarks: dict[str, int | None]
    ) -> None:
        self.pipeline = pipeline
        self.table = table
        self.spark = pipeline.spark
        self.settings = pipeline.settings
        self.run_id = pipeline.run_id
        self.started_at = pipeline.started_at
        # Read whole inputs: a full refresh, or this table's incremental history is gone.
        self.full_refresh = pipeline.rebuilds(table)
        self.versions = versions
        self.watermarks = watermarks
        self._cached: list[DataFrame] = []

    def path(self, table_id: str) -> str:
        return table_id_path(self.settings, table_id)

    def exists(self, table_id: str) -> bool:
        return delta_io.table_version(self.settings, self.path(table_id)) is not None

    def read(self, table_id: str) -> DataFrame:
        """The whole input table at the version this run saw when the table started."""
        return delta_io.read_table(self.spark, self.path(table_id), self.versions[table_id])

    def read_reference(self, table_id: str) -> DataFrame | None:
        """The latest version of a table a check compares with but the build does not depend on.

        It is not an input: its changes do not trigger a rebuild, and a missing table gives None
        (the check is then left out) instead of making this table wait for it.
        """
        if not self.exists(table_id):
            return None
        return delta_io.read_table(self.spark, self.path(table_id))

    def read_new(self, table_id: str) -> DataFrame:
        """Input rows committed since this table last consumed ``table_id`` (all rows on a full refresh)."""
        upto = self.versions[table_id]
        assert upto is not None, f"{table_id} has no version"
        after = None if self.full_refresh else self.watermarks.get(table_id)
        path = self.path(table_id)
        if after is not None and after < upto and not delta_io.versions_available(self.settings, path, after + 1, upto):
            raise delta_io.ChangeDataGone(f"{table_id}'s commits {after + 1}..{upto} are no longer in its log")
        return delta_io.read_inserted_since(self.spark, path, after, upto)

    def changes(self, table_id: str) -> DataFrame | None:
        """Rows of ``table_id`` changed since this table last consumed it (see :func:`delta_io.read_changes`).

        None means "read the whole input": on a full refresh or a first build, when there is no
        watermark for it, or when the input records no change feed. A build that gets None
        recomputes everything, which is always right.
        """
        after, upto = self.watermarks.get(table_id), self.versions[table_id]
        if self.full_refresh or after is None or upto is None or after > upto:
            return None
        if not delta_io.table_facts(self.settings, self.path(self.table.id)).exists:
            return None
        if not delta_io.table_facts(self.settings, self.path(table_id)).change_feed:
            log.info("%s: %s records no change feed; reading all of it", self.table.id, table_id)
            return None
        if not delta_io.versions_available(self.settings, self.path(table_id), after, upto):
            log.warning(
                "%s: %s's commits %d..%d are gone from its log; reading all of it", self.table.id, table_id, after, upto
            )
            return None
        return delta_io.read_changes(self.spark, self.path(table_id), after, upto)

    def read_previous(self, table_id: str) -> DataFrame | None:
        """The input as this table's last build saw it (its watermark version), or None without one."""
        after = self.watermarks.get(table_id)
        return None if after is None else delta_io.read_table(self.spark, self.path(table_id), after)

    def worth_narrowing(self, table_id: str) -> bool:
        """Whether finding what changed first is likely cheaper than recomputing from all of the input.

        Finding the dates a change reached reads the input three or four times, so it pays only
        on a large input (over ``narrow_input_bytes``) whose dates span at least
        ``narrow_min_days`` (a day's change is then a small part of it). The span comes from the
        log's statistics of the input's declared ``date_column``; without them, size decides.
        """
        path = self.path(table_id)
        if delta_io.table_facts(self.settings, path).size_bytes <= self.settings.narrow_input_bytes:
            return False
        column = self.pipeline.catalog.get(table_id).date_column
        span = delta_io.date_span_days(self.settings, path, column) if column else None
        return span is None or span >= self.settings.narrow_min_days

    def read_current(self) -> DataFrame:
        """This table as it stands (an incremental build compares with it to find the dates to replace)."""
        return delta_io.read_table(self.spark, self.path(self.table.id))

    def input_changes(self) -> InputChanges | None:
        """What changed in this table's inputs since its last build, or None: recompute from all of them.

        None on a first build or a full refresh, when no input is worth narrowing
        (:meth:`worth_narrowing`), or when an input has no readable change feed or previous version.
        """
        inputs = self.table.inputs
        if not any(self.worth_narrowing(table_id) for table_id in inputs):
            return None
        changed, previous = {}, {}
        for table_id in inputs:
            rows, before = self.changes(table_id), self.read_previous(table_id)
            if rows is None or before is None:
                return None
            changed[table_id], previous[table_id] = rows, before
        return InputChanges(changed, previous, self.read_current())

    def cache(self, df: DataFrame) -> DataFrame:
        """Persist a frame several actions reuse (gate, ledger, write); released after the write."""
        self._cached.append(df.persist(StorageLevel.MEMORY_AND_DISK))
        return df

    def release_later(self, frames: list[DataFrame]) -> None:
        """Frames a build persisted itself (``TableOutput.cached``): released with the context's own."""
        self._cached.extend(frames)

    def release(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()


class DeclaredInputs(Mapping[str, DataFrame]):
    """A build's declared inputs as frames, read on first use (``lakehouse.model.InputFrames``).

    What the runner hands a build declared with ``receives="pinned"`` or ``"changes"`` (each input
    whole at the version this run pinned) or ``receives="new"`` (each input's rows since this table
    last read it). A declared ``after`` table, which a check compares with, is served whole as it stands,
    and only when it exists.
    """

    def __init__(self, context: BuildContext) -> None:
        self._context = context
        self._table = context.table
        self._read = context.read_new if self._table.receives == "new" else context.read
        self._frames: dict[str, DataFrame] = {}

    def __getitem__(self, table_id: str) -> DataFrame:
        if table_id not in self._frames:
            if table_id in self._table.inputs:
                self._frames[table_id] = self._read(table_id)
            elif table_id in self._table.after and (reference := self._context.read_reference(table_id)) is not None:
                self._frames[table_id] = reference
            else:
                raise KeyError(f"{self._table.id} declares no input or written `after` table {table_id}")
        return self._frames[table_id]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._table.inputs, *(t for t in self._table.after if self._context.exists(t))])

    def __len__(self) -> int:
        return len(list(iter(self)))


class Pipeline:
    """One run over the catalog. Flows call :meth:`run_table` per table; the CLI calls :meth:`run`."""

    def __init__(
        self,
        settings: Settings,
        spark: SparkSession,
        *,
        full_refresh: bool = False,
        catalog: Catalog | None = None,
        gate: QualityGate | None = None,
        dates: tuple[dt.date, dt.date] | None = None,
        hooks: RunHooks | None = None,
    ) -> None:
        self.settings = settings
        # Alerts and reports are the caller's (see lakehouse.hooks); none by default.
        self.hooks = hooks or RunHooks()
        self.spark = spark
        # A backfill window implies rebuilding: inputs are re-read even when unchanged.
        self.full_refresh = full_refresh or dates is not None
        self.dates = dates
        self.catalog = catalog or load_catalog(settings)
        self.started_at = _now()
        self.run_id = new_run_id(self.started_at)
        self._gate = gate
        self.results: list[TableResult] = []
        self._run_records: list[ops.RunRecord] = []
        self._ingest_records: list[ops.IngestRecord] = []
        self._records_lock = threading.Lock()
        self._quality_records: list[ops.QualityRecord] = []
        self._state_records: list[ops.TableStateRecord] = []
        # Tables rebuilt from their whole inputs this run because their incremental history is gone.
        self._rebuilt_whole: set[str] = set()
        self._monitored = False
        # At most this many tables build at once, whoever calls run_table (the DAG runner below or
        # Prefect's task threads); each holds a slot and a FAIR scheduler pool of its own.
        self._slots = threading.BoundedSemaphore(settings.table_workers)
        # Called with each table's result as it is recorded (the CLI prints a progress line).
        self.on_result: Callable[[TableResult], None] | None = None
        self._gate_lock = threading.Lock()

    @property
    def gate(self) -> QualityGate:
        with self._gate_lock:
            if self._gate is None:
                self._gate = QualityGate()
            return self._gate

    def _path(self, table: TableDef) -> str:
        return table_path(self.settings, table.layer, table.name)

    def rebuilds(self, table: TableDef) -> bool:
        """Whether ``table`` is rebuilt from the whole of its inputs: a full refresh, or history gone."""
        return self.full_refresh or table.id in self._rebuilt_whole

    def _input_state(
        self, table: TableDef, facts: delta_io.TableFacts | None = None
    ) -> tuple[dict[str, int | None], dict[str, int | None]]:
        """Each input's current version, and the input versions the table's last build recorded."""
        versions = {}
        for table_id in table.inputs:
            versions[table_id] = delta_io.table_version(self.settings, table_id_path(self.settings, table_id))
        if facts is None:
            facts = delta_io.table_facts(self.settings, self._path(table), WATERMARK_KEY)
        recorded = facts.tagged_metadata
        if recorded is None and facts.exists and table.inputs:
            # Log cleanup removed every commit that held the watermark: its mirror still has it.
            recorded = ops.mirrored_state(self.settings, table.id, WATERMARK_KEY, facts.version)
        recorded = recorded or {}
        watermarks = {k: v for k, v in recorded.get(WATERMARK_KEY, {}).items() if k in versions}
        return versions, watermarks

    def _skip_reason(
        self, table: TableDef, versions: dict[str, int | None], watermarks: dict[str, int | None]
    ) -> str | None:
        if not table.inputs:
            return None
        missing = [name for name, version in versions.items() if version is None]
        if missing:
            return f"waiting for {', '.join(missing)}"
        if not self.full_refresh and all(self._unchanged(k, watermarks.get(k), v) for k, v in versions.items()):
            return "inputs unchanged"
        return None

    def _unchanged(self, table_id: str, seen: int | None, now: int | None) -> bool:
        """The input is where the last build saw it, or only maintenance (OPTIMIZE, VACUUM) committed since."""
        if seen == now:
            return True
        if seen is None or now is None or now < seen:
            return False
        return not delta_io.data_changed(self.settings, table_id_path(self.settings, table_id), seen, now)

    def run_table(self, table_id: str) -> TableResult:
        """Build, gate and write one table. Raises :class:`GateFailed` when a critical check fails.

        Safe to call from several threads at once for tables that do not depend on each other.
        """
        with self._slots:
            context = self.spark.sparkContext
            previous_pool = context.getLocalProperty("spark.scheduler.pool")
            context.setLocalProperty("spark.scheduler.pool", table_id)
            started = _now()
            try:
                return self._run_table(table_id)
            except GateFailed:
                raise  # recorded and alerted where the gate failed
            except Exception as exc:
                self._record_error(table_id, exc, started)
                raise
            finally:
                context.setLocalProperty("spark.scheduler.pool", previous_pool)  # type: ignore[arg-type]

    def _run_table(self, table_id: str) -> TableResult:
        table = self.catalog.get(table_id)
        started = _now()
        path = self._path(table)
        # One look at the table's log, reused for the skip decision, watermark, schema policy and write.
        facts = delta_io.table_facts(self.settings, path, WATERMARK_KEY)
        versions, watermarks = self._input_state(table, facts)
        skip = self._skip_reason(table, versions, watermarks)
        if skip is not None:
            return self._record(TableResult(table.id, table.layer, "skipped", facts.version, message=skip), started)
        if facts.exists and table.inputs and not watermarks:
            # Written before, yet neither its log nor its mirror says from what: only a whole
            # rebuild cannot double what the table (and its quarantine) already hold.
            log.warning("%s: no record of the input versions it was built from; rebuilding it whole", table.id)
            self._rebuilt_whole.add(table.id)
        try:
            return self._build_and_write(table, facts, versions, watermarks, started)
        except Exception as exc:
            if self.rebuilds(table) or not delta_io.history_gone(exc):
                raise
            log.warning(
                "%s: the history its incremental read needs is gone (%s); rebuilding it from the whole of its inputs",
                table.id,
                _first_line(exc),
            )
            self._rebuilt_whole.add(table.id)
            with self._records_lock:  # the failed attempt's check rows, if it got that far, are not kept
                self._quality_records[:] = [r for r in self._quality_records if r.table != table.id]
            facts = delta_io.table_facts(self.settings, path, WATERMARK_KEY)
            return self._build_and_write(table, facts, versions, watermarks, started)

    def _build_and_write(
        self,
        table: TableDef,
        facts: delta_io.TableFacts,
        versions: dict[str, int | None],
        watermarks: dict[str, int | None],
        started: dt.datetime,
    ) -> TableResult:
        path = self._path(table)
        context = BuildContext(self, table, versions, watermarks)
        clock = _Stopwatch()
        try:
            output = _call_build(table, context)
            context.release_later(output.cached)
            clock.lap("build")
            if table.receives == "new" and output.ledger is not None and output.ledger.rows_in == 0 and facts.exists:
                output = TableOutput(data=None, note="no new input rows")
            if output.data is None:
                result = TableResult(table.id, table.layer, "skipped", facts.version, message=output.note)
                return self._record(result, started)
            declared = table.declared_schema()
            if declared is not None:
                schema_policy.check_declared(table.id, declared, output.data.schema)
            if not output.data.is_cached:
                # Gate, counts and write read the frame; compute it once (released after the write).
                output.data = context.cache(output.data)
            self._apply_schema_policy(table, output.data, path, facts.exists)
            checks = self.gate.validate(
                table.id,
                output.data,
                [*table.checks(), *output.checks],
                rows=output.ledger.rows_out if output.ledger else None,
                pandas_max_rows=self.settings.gate_pandas_max_rows,
            )
            clock.lap("gate")
            self._record_checks(checks)
            try:
                raise_on_critical(table.id, checks)
            except GateFailed as failure:
                result = TableResult(
                    table.id,
                    table.layer,
                    "failed",
                    facts.version,
                    checks=checks,
                    message=str(failure),
                )
                self._record(result, started)
                self.hooks.notify_table_failed(TableFailure(self.run_id, table.id, str(failure), failure))
                raise
            if output.ledger is not None:
                ledger_checks = _ledger_checks(table.id, output.ledger)
                self._record_checks(ledger_checks)
                checks = [*checks, *ledger_checks]
                if not output.ledger.balanced:
                    raise RuntimeError(f"{table.id}: row ledger does not balance: {output.ledger}")
            if self._set_missing_properties(table, facts):
                facts = delta_io.table_facts(self.settings, path, WATERMARK_KEY)  # once in a table's life
            state = {WATERMARK_KEY: versions, "run_id": self.run_id}
            self._write(table, output, state, facts)
            clock.lap("write")
        finally:
            context.release()
        version = delta_io.table_version(self.settings, path)
        if output.txn is not None and version == facts.version:
            # Delta skipped the append: its idempotent write id says this batch is already in the
            # table (a retried or concurrent duplicate). Nothing was written, nothing is logged.
            message = f"already committed (write id {output.txn[0]} {output.txn[1]})"
            return self._record(TableResult(table.id, table.layer, "skipped", version, message=message), started)
        with self._records_lock:
            # The ingest log and the state mirror: one commit each in finish.
            self._ingest_records.extend(output.ingest_records)
            if version is not None:
                state_record = ops.state_record(table.id, version, {**output.commit_metadata, **state}, self.run_id)
                self._state_records.append(state_record)
        ledger = output.ledger
        result = TableResult(
            table.id,
            table.layer,
            "written",
            version,
            rows_written=ledger.rows_out if ledger else _rows_in_commit(self.settings, path),
            quarantined=ledger.quarantined if ledger else None,
            deduplicated=ledger.deduplicated if ledger else None,
            checks=checks,
            message=output.note,
            seconds=clock.laps,
        )
        return self._record(result, started, rows_in=ledger.rows_in if ledger else None)

    def _write(self, table: TableDef, output: TableOutput, metadata: dict, facts: delta_io.TableFacts) -> None:
        path = self._path(table)
        metadata = {**output.commit_metadata, **metadata}
        if output.ingest_records:
            # The files this commit ingests commit atomically with their rows: a crash before the
            # ingest log is written cannot make the next run read them again (ops.ingested_files).
            metadata[ops.INGESTED_KEY] = ops.ingested_entries(output.ingest_records)
        if output.txn is not None and table.write != "append":
            raise RuntimeError(f"{table.id}: an idempotent write id (txn) needs write='append', not {table.write}")
        if output.quarantine is not None and table.quarantine:
            self._write_quarantine(table, output.quarantine, output.ledger, metadata[WATERMARK_KEY])
        data = output.data
        assert data is not None
        replace_where = output.replace_where
        if table.date_column and table.write == "overwrite" and facts.exists:
            if self.dates is not None:
                # Backfill: replace only the window's dates; rows outside it stay as they are.
                start, end = self.dates
                replace_where = f"`{table.date_column}` BETWEEN DATE'{start}' AND DATE'{end}'"
                data = data.filter(replace_where)
            elif (
                replace_where is None
                and not self.rebuilds(table)
                and facts.size_bytes > self.settings.small_table_bytes
            ):
                # A small table (``small_table_bytes``, one file's worth) is replaced whole: cheaper
                # than the comparison that finds its changed dates.
                data, replace_where = self._changed_dates_only(table, data, path)
        if table.change_feed and facts.exists and not facts.change_feed:
            # Declared after the table was first written: enable it, so the next run can read changes.
            delta_io.set_properties(self.spark, path, {delta_io.CDF_PROPERTY: "true"})
        properties = {} if facts.exists else self._declared_properties(table)
        if table.write == "append":
            delta_io.append(
                data,
                path,
                partition_by=table.partition_by,
                user_metadata=metadata,
                change_feed=table.change_feed,
                txn=output.txn,
                properties=properties,
            )
        elif table.write == "merge" and not self.rebuilds(table):
            delta_io.merge(
                data,
                path,
                table.keys,
                update_condition=table.merge_condition,
                partition_by=table.partition_by,
                user_metadata=metadata,
                probe_updates=facts.size_bytes > MERGE_PROBE_MIN_BYTES,
                change_feed=table.change_feed,
            )
        else:
            delta_io.overwrite(
                data,
                path,
                partition_by=table.partition_by,
                user_metadata=metadata,
                replace_where=replace_where,
                replace_schema=self.full_refresh,
                change_feed=table.change_feed,
                properties=properties,
            )

    @staticmethod
    def _declared_properties(table: TableDef) -> dict[str, str]:
        """Table properties the declaration asks for (set on the table by the write that creates it)."""
        if table.stats_columns is None:
            return {}
        return {delta_io.STATS_COLUMNS_PROPERTY: str(table.stats_columns)}

    def _set_missing_properties(self, table: TableDef, facts: delta_io.TableFacts) -> bool:
        """Set declared properties a table written before they were declared lacks; True when it did.

        They go in a commit of their own, which adds no data (downstream sees no change).
        """
        wanted = self._declared_properties(table)
        if not facts.exists or all(facts.properties.get(key) == value for key, value in wanted.items()):
            return False
        delta_io.set_properties(self.spark, self._path(table), wanted)
        return True

    def _write_quarantine(
        self, table: TableDef, quarantine: DataFrame, ledger: Ledger | None, versions: dict[str, int | None]
    ) -> None:
        path = table_id_path(self.settings, quarantine_id(table.name))
        # Which run put each row there, for the Data health page and the run report.
        quarantine = quarantine.select(
            "*",
            F.lit(self.run_id).alias("_run_id"),
            F.lit(self.started_at).cast("timestamp").alias("_quarantined_at"),
        )
        if self.rebuilds(table):
            # A rebuild re-reads all of bronze, so it recomputes the whole quarantine too.
            delta_io.overwrite(quarantine, path)
            return
        if ledger is not None and ledger.quarantined == 0 and delta_io.table_version(self.settings, path) is not None:
            return  # an empty append commits nothing, yet its write would still cost a few Spark jobs
        delta_io.append(
            quarantine,
            path,
            # One quarantine write per batch: the batch is named by its pinned input versions, which
            # only grow from one batch to the next, so a retried write of the same batch is a no-op
            # (no clock involved: a host's time zone or a clock step cannot skip or double it).
            txn=(f"{quarantine_id(table.name)}.batch", sum(v or 0 for v in versions.values())),
        )

    def _apply_schema_policy(self, table: TableDef, data: DataFrame, path: str, exists: bool) -> None:
        """Refuse a breaking schema change before the gate runs; apply allowed ones to the table first.

        A full rebuild of an overwritten table may replace the schema (the deliberate way to change
        a contract); every other write must match the table, up to bronze adding a column a source
        newly declares and the widenings of :func:`lakehouse.schema_policy.is_widening`.
        """
        rebuilds = self.full_refresh and self.dates is None and table.write != "append"
        if rebuilds or not exists:
            return
        current = delta_io.read_table(self.spark, path).schema
        diff = schema_policy.check_write(table.id, current, data.schema, allow_added=table.layer == "bronze")
        if diff.added or diff.widened:
            log.info("%s: evolving schema: %s", table.id, "; ".join(diff.lines()))
            delta_io.evolve_schema(self.spark, path, diff.added, [(name, new) for name, _old, new in diff.widened])

    def _changed_dates_only(self, table: TableDef, data: DataFrame, path: str) -> tuple[DataFrame, str | None]:
        """The rows of the dates whose gold rows changed, and the ``replaceWhere`` that replaces just those dates.

        Gold is computed from all of silver at the pinned versions, so every look-back (the 7-day
        spike baseline, a customer's first order date behind ``new_customers``) is already right
        in ``data``; comparing it with the current table finds every date a change reached, late
        data and moved first orders included, without a widening rule per metric that could miss
        one. Only those dates are rewritten. When the schema changed, the whole table is replaced.
        """
        current = delta_io.read_table(self.spark, path)
        if [(f.name, f.dataType) for f in current.schema] != [(f.name, f.dataType) for f in data.schema]:
            return data, None
        date = table.date_column
        assert date is not None
        changed = data.exceptAll(current).select(date).union(current.exceptAll(data).select(date)).distinct()
        dates = sorted(row[0] for row in changed.collect())  # one row per date: small
        if not dates:
            # Nothing moved, but the commit must still record the new input versions (an empty
            # replace commits nothing in Delta): rewrite the latest date with its identical rows.
            row = data.agg({date: "max"}).first()
            latest = row[0] if row is not None else None
            if latest is None:
                return data, None
            dates = [latest]
        listed = ", ".join(f"DATE'{day}'" for day in dates)
        predicate = f"`{date}` IN ({listed})"
        log.info("%s: replacing %d changed date(s) of %s", table.id, len(dates), date)
        return data.filter(predicate), predicate

    def _exists(self, path: str) -> bool:
        return delta_io.table_version(self.settings, path) is not None

    def _record_checks(self, checks: list[CheckResult]) -> None:
        at = _now()
        with self._records_lock:
            self._quality_records.extend(
                ops.QualityRecord(
                    self.run_id,
                    c.table,
                    c.expectation,
                    c.column,
                    c.severity,
                    c.success,
                    c.unexpected_count,
                    c.observed,
                    at,
                )
                for c in checks
            )

    def _record(self, result: TableResult, started: dt.datetime, rows_in: int | None = None) -> TableResult:
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        self._run_records.append(
            ops.RunRecord(
                self.run_id,
                result.table,
                result.layer,
                result.status,
                rows_in,
                result.rows_written,
                result.quarantined,
                result.deduplicated,
                result.delta_version,
                started,
                _now(),
                result.message,
            )
        )
        log.info(
            "%s: %s (version %s) %s %s",
            result.table,
            result.status,
            result.delta_version,
            result.message or "",
            result.seconds,
        )
        return result

    def finish(self) -> None:
        """Persist this run's ops records (one commit per ops table), then publish its reports.

        The table monitors (freshness, volume) are warn-level checks recorded with the gates', once
        per run even when a retried ``finish`` comes back. The run-committed hooks (Data Docs, the
        sales-spike alert) follow the commit and never raise: a report must not fail its run.
        """
        if not self._monitored:
            self._record_checks(monitors.check_tables(self.settings, [t.id for t in self.catalog]))
            self._monitored = True
        with self._records_lock:
            ingested, self._ingest_records = self._ingest_records, []
            states, self._state_records = self._state_records, []
        batches: dict[str, list[Any]] = {
            "ingest_log": ingested,
            "table_state": states,
            "pipeline_runs": self._run_records,
            "quality_results": self._quality_records,
        }
        # Four independent tables, one small commit each: written at once, the commits' fixed
        # costs (log listing, checkpoint check, commit) overlap instead of adding up.
        with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="ops") as pool:
            writes = [pool.submit(ops.append_records, self.spark, self.settings, t, r) for t, r in batches.items()]
            for write in writes:
                write.result()
        self._run_records.clear()
        self._quality_records.clear()
        validations = self._gate.last_validations if self._gate is not None else {}
        self.hooks.notify_run_committed(
            RunCommitted(self.run_id, self.started_at, self.catalog, list(self.results), validations)
        )

    def run(self, tables: Iterable[str] | None = None, on_table: Callable[[TableDef], None] | None = None) -> RunReport:
        """Run ``tables`` (default: all) as a DAG: each table starts once its inputs are done.

        Up to ``settings.table_workers`` independent tables build at once. A failed critical gate
        stops exactly the tables downstream of it (recorded as skipped, naming the failed table);
        every other table still runs. Any other error stops scheduling, lets running tables
        finish, and is raised after the run's records are written.
        """
        wanted = set(tables) if tables is not None else None
        selected = [t for t in self.catalog if wanted is None or t.id in wanted]
        failure: GateFailed | None = None
        try:
            failure = self._run_dag(selected, on_table)
        finally:
            self.finish()
        order = {t.id: i for i, t in enumerate(self.catalog)}
        self.results.sort(key=lambda r: order.get(r.table, len(order)))
        return RunReport(self.run_id, list(self.results), failure)

    def _run_dag(self, selected: list[TableDef], on_table: Callable[[TableDef], None] | None) -> GateFailed | None:
        ids = {t.id for t in selected}
        waiting = {t.id: {i for i in self.catalog.prerequisites(t) if i in ids} for t in selected}
        by_id = {t.id: t for t in selected}
        blocked: dict[str, str] = {}  # table -> the failed table upstream of it
        failure: GateFailed | None = None
        error: BaseException | None = None
        if any(t.suite for t in selected):
            _ = self.gate  # one GX context, created before the threads start
        running: dict[Future[TableResult], str] = {}
        with ThreadPoolExecutor(max_workers=self.settings.table_workers, thread_name_prefix="table") as pool:
            while waiting or running:
                ready = [t for t, deps in waiting.items() if not deps] if error is None else []
                while ready:
                    table_id = ready.pop(0)
                    del waiting[table_id]
                    if table_id in blocked:
                        self._record_blocked(by_id[table_id], blocked[table_id])
                        self._release(table_id, waiting)
                        ready += [t for t, deps in waiting.items() if not deps and t not in ready]
                        continue
                    if on_table is not None:
                        on_table(by_id[table_id])
                    running[pool.submit(self.run_table, table_id)] = table_id
                if not running:
                    break  # all done, or an error stopped scheduling
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    table_id = running.pop(future)
                    exc = future.exception()
                    if isinstance(exc, GateFailed):
                        failure = failure or exc
                        for downstream in self._downstream(table_id, selected):
                            blocked.setdefault(downstream, table_id)
                    elif exc is not None:
                        error = error or exc
                    self._release(table_id, waiting)
        if error is not None:
            raise error
        return failure

    @staticmethod
    def _release(table_id: str, waiting: dict[str, set[str]]) -> None:
        for deps in waiting.values():
            deps.discard(table_id)

    @staticmethod
    def _downstream(table_id: str, tables: list[TableDef]) -> set[str]:
        reached = {table_id}
        for table in tables:  # catalog order: inputs come first
            if reached.intersection(table.inputs):
                reached.add(table.id)
        reached.discard(table_id)
        return reached

    def _record_error(self, table_id: str, exc: Exception, started: dt.datetime) -> None:
        """Any failure other than a gate (schema break, engine error): a ``failed`` run row and an alert.

        The exception still propagates; this only makes sure ``ops.pipeline_runs`` and the alert
        channel hear of it, the same as of a failed critical check.
        """
        table = self.catalog.get(table_id)
        message = f"{type(exc).__name__}: {_first_line(exc)}"[:1000]
        version = delta_io.table_version(self.settings, self._path(table))
        self._record(TableResult(table.id, table.layer, "failed", version, message=message), started)
        self.hooks.notify_table_failed(TableFailure(self.run_id, table.id, message))

    def _record_blocked(self, table: TableDef, failed: str) -> None:
        path = self._path(table)
        message = f"not built: {failed} failed a critical check upstream"
        self._record(
            TableResult(table.id, table.layer, "skipped", delta_io.table_version(self.settings, path), message=message),
            _now(),
        )


def tables_with_work(settings: Settings, catalog: Catalog, tables: Iterable[str] | None = None) -> list[str]:
    """The tables an incremental run would build now, decided without Spark (delta-rs and listings).

    A source-fed table has work when its ``has_new_input`` says so (or it declares none); a
    derived table when an input has work or changed since its watermark, or it was never
    written. An empty list means a run would skip every table, so the CLI need not start Spark.
    """
    wanted = set(tables) if tables is not None else None
    checker = Pipeline(settings, None, catalog=catalog)  # type: ignore[arg-type]  # metadata reads only
    needed = _with_upstream(catalog, wanted) if wanted is not None else None
    busy: set[str] = set()
    for table in catalog:
        if needed is not None and table.id not in needed:
            continue  # neither asked for nor upstream of what was: its sources need not even be there
        if table.inputs:
            versions, watermarks = checker._input_state(table)
            upstream_busy = any(i in busy for i in table.inputs)
            skip = checker._skip_reason(table, versions, watermarks)
            never_written = not checker._exists(checker._path(table))
            waiting = skip is not None and skip.startswith("waiting for")
            if upstream_busy or (skip is None) or (never_written and not waiting):
                busy.add(table.id)
        elif table.has_new_input is None or table.has_new_input(settings):
            busy.add(table.id)
    return [t.id for t in catalog if t.id in busy and (wanted is None or t.id in wanted)]


def _with_upstream(catalog: Catalog, tables: set[str]) -> set[str]:
    """``tables`` and every table they read, directly or not."""
    found, pending = set(), list(tables)
    while pending:
        table_id = pending.pop()
        if table_id in found:
            continue
        found.add(table_id)
        pending.extend(catalog.get(table_id).inputs)
    return found


def _call_build(table: TableDef, context: BuildContext) -> TableOutput:
    """Call ``table``'s build with what its declaration's ``receives`` asks for."""
    build = table.build_function()
    if table.receives == "context":
        return build(context)
    if table.receives == "changes":
        return build(DeclaredInputs(context), context.input_changes())
    return build(DeclaredInputs(context))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class _Stopwatch:
    """Wall time per phase (build, gate, write) of one table, for logs and the benchmark."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


LEDGER_CHECK = "row_ledger_balances"
QUARANTINE_RULE_PREFIX = "quarantine_rule:"


def _ledger_checks(table_id: str, ledger: Ledger) -> list[CheckResult]:
    """The hop's row ledger as check results for ``ops.quality_results``: the balance, then one row per rule.

    A quarantine rule's row is a success (the bad rows went where they belong) and carries the
    number of rows it moved, so the history of each rule's count sits next to the checks.
    """
    observed = (
        f"rows_in={ledger.rows_in} rows_out={ledger.rows_out} quarantined={ledger.quarantined} "
        f"deduplicated={ledger.deduplicated}"
    )
    checks = [CheckResult(table_id, LEDGER_CHECK, None, "critical", ledger.balanced, None, observed)]
    checks += [
        CheckResult(table_id, f"{QUARANTINE_RULE_PREFIX}{rule}", None, "warn", True, count, f"{count} rows quarantined")
        for rule, count in sorted(ledger.by_rule.items())
    ]
    return checks


def _rows_in_commit(settings: Settings, path: str) -> int | None:
    """Rows the latest commit wrote, from Delta's operation metrics (no Spark job)."""
    reader = delta_io.open_reader(settings, path)
    if reader is None:
        return None
    history = reader.history(1)
    metrics = history[0].get("operationMetrics", {}) if history else {}
    value = metrics.get("numOutputRows")
    return int(value) if value is not None else None
