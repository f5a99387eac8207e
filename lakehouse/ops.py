"""Ops tables: what was ingested, what each run did, and what the checks found.

``ops.ingest_log``     one row per landing file ingested (source, path, size, checksum, batch).
``ops.pipeline_runs``  one row per table per run (status, rows, quarantined, Delta version).
``ops.quality_results`` one row per check per table per run.
``ops.rejected_files`` one row per landing file a source could not read (path, checksum, reason).
``ops.table_state``    one row per table version a run wrote: the state its commit carries
                       (input watermarks, Kafka offsets), kept after log cleanup removes the commit.

They are Delta tables written by Spark like every other table; reads go through
delta-rs so that looking up "what is new" costs no Spark job.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from lakehouse import delta_io
from lakehouse.settings import Settings
from lakehouse.storage import table_id_path, table_path


@dataclass(frozen=True)
class IngestRecord:
    source: str
    table: str
    file: str
    size: int
    checksum: str
    batch_id: str
    run_id: str
    ingested_at: dt.datetime


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    table: str
    layer: str
    status: str  # written | skipped | failed
    rows_in: int | None
    rows_written: int | None
    quarantined: int | None
    deduplicated: int | None
    delta_version: int | None
    started_at: dt.datetime
    finished_at: dt.datetime
    message: str | None


@dataclass(frozen=True)
class QualityRecord:
    run_id: str
    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    observed: str | None
    checked_at: dt.datetime


@dataclass(frozen=True)
class RejectedFileRecord:
    """A landing file that was not ingested because it cannot be read as its source declares.

    ``reason`` is a short code of :data:`ingestion.readers.REJECT_REASONS` (for filtering and
    counting), ``detail`` the one-line specifics (the missing columns, the decompression error).
    Keyed by (source, path, checksum): the same bytes are not tried again, a corrected file is.
    """

    source: str
    path: str
    size: int
    checksum: str
    reason: str
    detail: str | None
    run_id: str
    rejected_at: dt.datetime


@dataclass(frozen=True)
class TableStateRecord:
    """The state a table's commit carries (``state``: its user metadata as JSON), mirrored here.

    A commit's user metadata is the table's watermark (the input versions it was built from)
    and, for bronze.clickstream, its Kafka offsets. Checkpoints do not carry it and log cleanup
    deletes old commits, so a table untouched by new data for longer than the log's retention
    could lose it; this row keeps it (:func:`mirrored_state`).
    """

    table: str
    version: int
    state: str
    run_id: str
    recorded_at: dt.datetime


_SPARK_TYPES = {
    "str": T.StringType(),
    "str | None": T.StringType(),
    "int": T.LongType(),
    "int | None": T.LongType(),
    "bool": T.BooleanType(),
    "dt.datetime": T.TimestampType(),
}

OPS_TABLES = {
    "ingest_log": IngestRecord,
    "pipeline_runs": RunRecord,
    "quality_results": QualityRecord,
    "rejected_files": RejectedFileRecord,
    "table_state": TableStateRecord,
}


def _schema(record_type: type) -> T.StructType:
    return T.StructType([T.StructField(f.name, _SPARK_TYPES[str(f.type)]) for f in fields(record_type)])


# Bronze tables built in parallel append to the one ingest log; the first appends also create it,
# and two creations at once conflict. One writer per ops table at a time inside a process; different
# ops tables are written concurrently (the end of a run appends four of them at once).
_APPEND_LOCKS = {table: threading.Lock() for table in OPS_TABLES}


def append_records(spark: SparkSession, settings: Settings, table: str, records: list) -> None:
    """Append records of one ops table in a single commit (nothing to write: no commit)."""
    if not records:
        return
    with _APPEND_LOCKS[table]:
        _append_records(spark, settings, table, records)


def _append_records(spark: SparkSession, settings: Settings, table: str, records: list) -> None:
    record_type = OPS_TABLES[table]
    rows = [tuple(asdict(record).values()) for record in records]
    frame = spark.createDataFrame(rows, _schema(record_type)).coalesce(1)
    delta_io.append(frame, table_path(settings, "ops", table))


def read_ops(settings: Settings, table: str) -> pd.DataFrame:
    """An ops table as pandas (empty with the right columns when it does not exist yet)."""
    reader = delta_io.open_reader(settings, table_path(settings, "ops", table))
    if reader is None:
        return pd.DataFrame(columns=[f.name for f in fields(OPS_TABLES[table])])
    return reader.to_pandas()


# Key of a bronze commit's user metadata listing the files that commit ingested.
INGESTED_KEY = "ingested"


def ingested_entries(records: list[IngestRecord]) -> list[list[object]]:
    """The compact form of ``records`` a bronze commit carries: [source, file, checksum, size, batch]."""
    return [[r.source, r.file, r.checksum, r.size, r.batch_id] for r in records]


def committed_ingests(settings: Settings, table: str) -> list[IngestRecord]:
    """Files the bronze ``table``'s commits say they ingested (delta-rs, no Spark).

    A bronze commit lists its files in its own user metadata, atomically with the rows; the
    ingest log is appended afterwards. These records are what a crash between the two would
    leave out of the log.
    """
    reader = delta_io.open_reader(settings, table_path(settings, "bronze", table))
    if reader is None:
        return []
    found = []
    for commit in reader.history():
        metadata = delta_io.parse_user_metadata(commit.get("userMetadata"))
        at = commit.get("timestamp")
        when = dt.datetime.fromtimestamp(at / 1000, dt.UTC).replace(tzinfo=None) if at else dt.datetime(1970, 1, 1)
        for source, file, checksum, size, batch in metadata.get(INGESTED_KEY, []):
            found.append(IngestRecord(source, table, file, int(size), checksum, batch, batch, when))
    return found


def ingested_files(settings: Settings, source: str, table: str | None = None) -> set[tuple[str, str]]:
    """(path, checksum) pairs already ingested for ``source``: the ingest log, plus the files the
    bronze ``table``'s commits record (so a crash before the log write cannot re-ingest them)."""
    log = read_ops(settings, "ingest_log")
    seen: set[tuple[str, str]] = set()
    if not log.empty:
        mine = log[log["source"] == source]
        seen = set(zip(mine["file"], mine["checksum"], strict=True))
    if table is not None:
        seen |= {(r.file, r.checksum) for r in committed_ingests(settings, table) if r.source == source}
    return seen


def unlogged_ingests(settings: Settings, table: str) -> list[IngestRecord]:
    """Files bronze ``table`` committed that the ingest log lacks (a run that crashed in between).

    Appending them repairs the log, which outlives the commit history (log cleanup removes old
    commits; the ingest log keeps every file for good).
    """
    log = read_ops(settings, "ingest_log")
    logged = set() if log.empty else set(zip(log["source"], log["file"], log["checksum"], strict=True))
    missing, kept = [], set()
    for record in committed_ingests(settings, table):
        key = (record.source, record.file, record.checksum)
        if key not in logged and key not in kept:
            kept.add(key)
            missing.append(record)
    return missing


def rejected_files(settings: Settings, source: str) -> set[tuple[str, str]]:
    """(path, checksum) pairs already rejected for ``source``: not re-attempted while unchanged."""
    rejected = read_ops(settings, "rejected_files")
    if rejected.empty:
        return set()
    mine = rejected[rejected["source"] == source]
    return set(zip(mine["path"], mine["checksum"], strict=True))


def rejected_since(settings: Settings, since: dt.datetime) -> pd.DataFrame:
    """Files rejected at or after ``since`` (naive UTC), oldest first: what a run just rejected.

    The CLI reads this after a run to list the run's rejections and choose its exit code; it
    needs no Spark and no run id (a Prefect flow run hands back only its summary rows).
    """
    rejected = read_ops(settings, "rejected_files")
    if rejected.empty:
        return rejected
    # delta-rs may hand the timestamp back tz-aware (UTC) or naive; compare both as naive UTC.
    at = pd.to_datetime(rejected["rejected_at"], utc=True).dt.tz_localize(None)
    recent = rejected[at >= pd.Timestamp(since)]
    return recent.sort_values(["rejected_at", "source", "path"]).reset_index(drop=True)


def state_record(table_id: str, version: int, state: dict[str, Any], run_id: str) -> TableStateRecord:
    """The mirror row of ``table_id``'s commit ``version`` (the ingested-files list stays out: the
    ingest log already keeps it for good)."""
    kept = {key: value for key, value in state.items() if key != INGESTED_KEY}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return TableStateRecord(table_id, version, json.dumps(kept, sort_keys=True), run_id, now)


def mirrored_state(settings: Settings, table_id: str, key: str, version: int | None) -> dict[str, Any] | None:
    """The newest mirrored state of ``table_id`` holding ``key``, at or below ``version``; None without one.

    The fallback for a table whose commits holding ``key`` were removed by log cleanup. Versions
    above the table's current one (a table deleted and rebuilt from scratch) are not its state.
    """
    states = read_ops(settings, "table_state")
    if states.empty or version is None:
        return None
    mine = states[(states["table"] == table_id) & (states["version"] <= version)]
    for raw in mine.sort_values("version", ascending=False)["state"]:
        state = delta_io.parse_user_metadata(raw)
        if key in state:
            return state
    return None


def committed_state(settings: Settings, table_id: str, key: str) -> dict[str, Any] | None:
    """The newest commit state of ``table_id`` holding ``key``: from its log, else from its mirror."""
    path = table_id_path(settings, table_id)
    recorded = delta_io.latest_user_metadata(settings, path, key)
    if recorded is None:
        recorded = mirrored_state(settings, table_id, key, delta_io.table_version(settings, path))
    return recorded
