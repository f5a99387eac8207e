"""The one place that reads and writes Delta tables.

Spark (delta-spark) is the only writer of every table. Metadata that needs no
Spark job (current version, commit history) is read with delta-rs, which answers
in milliseconds instead of a Spark job each.

Each write can carry ``user_metadata``: the runner stores there which input
versions a table was built from, so the watermark commits atomically with data.
Old commits do not last for ever (log cleanup after a checkpoint, VACUUM of the change
feed's files): :func:`versions_available` and :func:`history_gone` tell a reader when
the history an incremental read needs is gone, so it can read the whole input instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from delta.tables import DeltaTable
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.delta_log import (  # noqa: F401  (re-exported: callers read logs through delta_io too)
    CDF_PROPERTY,
    MAINTENANCE_OPERATIONS,
    TableFacts,
    data_changed,
    date_span_days,
    latest_user_metadata,
    open_reader,
    parse_user_metadata,
    table_exists,
    table_facts,
    table_version,
    versions_available,
)

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
# How many leading columns Delta keeps min/max/null-count statistics for (default 32); row counts
# are kept whatever it says.
STATS_COLUMNS_PROPERTY = "delta.dataSkippingNumIndexedCols"


class ChangeDataGone(RuntimeError):
    """The commits an incremental read needs are no longer in the input's log."""


# What Spark says when a version, its log file or its (change) data files are gone: log cleanup
# after a checkpoint, or VACUUM of the files an old version or the change feed needs.
_GONE_CONDITIONS = (
    "DELTA_MISSING_CHANGE_DATA",
    "DELTA_LOG_FILE_NOT_FOUND",
    "DELTA_VERSION_NOT_FOUND",
    "DELTA_FILE_NOT_FOUND",
    "FAILED_READ_FILE.FILE_NOT_EXIST",
)


def history_gone(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says an old version's log or files are gone.

    Such a read can be answered by reading the whole current input instead; no other error can.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ChangeDataGone):
            return True
        condition = seen.getCondition() if isinstance(seen, PySparkException) else None
        text = f"{condition or ''} {seen}"
        if any(name in text for name in _GONE_CONDITIONS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def read_table(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def read_inserted_since(spark: SparkSession, path: str, after: int | None, upto: int) -> DataFrame:
    """Rows an append-only table gained in versions ``(after, upto]`` (all rows when ``after`` is None)."""
    if after is None:
        return read_table(spark, path, upto)
    if after >= upto:
        # Nothing new (one input of a multi-input table may be unchanged): the change feed rejects an empty range.
        return read_table(spark, path, upto).limit(0)
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after + 1)
        .option("endingVersion", upto)
        .load(path)
    )
    return changes.filter("_change_type = 'insert'").drop("_change_type", "_commit_version", "_commit_timestamp")


def read_changes(spark: SparkSession, path: str, after: int, upto: int) -> DataFrame:
    """Every row version the commits ``(after, upto]`` changed (Delta's change feed), with ``_change_type``.

    Inserted and deleted rows and both images of an updated row: a reader that must find what a
    change reached (dates, sessions, customers) sees the old values as well as the new ones.
    """
    if after >= upto:
        return read_table(spark, path, upto).withColumn("_change_type", F.lit("insert")).limit(0)
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after + 1)
        .option("endingVersion", upto)
        .load(path)
    )
    return changes.drop("_commit_version", "_commit_timestamp")


def _metadata_json(metadata: dict[str, Any] | None) -> str | None:
    return json.dumps(metadata, sort_keys=True) if metadata else None


# The session conf is shared by every thread of the process, and tables are written from several
# threads at once: a statement that can only take its user metadata from the conf (MERGE, ALTER)
# holds this lock from setting the conf to committing, so no other commit picks up its metadata.
_SESSION_METADATA_LOCK = threading.Lock()


class _CommitMetadata:
    """Sets the commit's user metadata for the statements inside the block (MERGE takes no writer option)."""

    def __init__(self, spark: SparkSession, metadata: dict[str, Any] | None) -> None:
        self.spark = spark
        self.value = _metadata_json(metadata)

    def __enter__(self) -> None:
        _SESSION_METADATA_LOCK.acquire()
        if self.value is not None:
            self.spark.conf.set(USER_METADATA_CONF, self.value)

    def __exit__(self, *_exc: object) -> None:
        try:
            if self.value is not None:
                self.spark.conf.unset(USER_METADATA_CONF)
        finally:
            _SESSION_METADATA_LOCK.release()


def _writer(
    df: DataFrame,
    mode: str,
    partition_by: Sequence[str],
    cdf: bool,
    txn: tuple[str, int] | None,
    user_metadata: dict[str, Any] | None = None,
    properties: dict[str, str] | None = None,
):
    writer = df.write.format("delta").mode(mode)
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)  # a ``delta.*`` option becomes a property of a new table
    # Always a writer option, never the session conf: a MERGE in another thread may have set that
    # conf for its own commit (an empty value records no metadata).
    writer = writer.option("userMetadata", _metadata_json(user_metadata) or "")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if cdf:
        writer = writer.option(CDF_PROPERTY, "true")
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    return writer


def append(
    df: DataFrame,
    path: str,
    *,
    partition_by: Sequence[str] = (),
    user_metadata: dict[str, Any] | None = None,
    change_feed: bool = False,
    txn: tuple[str, int] | None = None,
    properties: dict[str, str] | None = None,
) -> None:
    """Append; ``txn`` makes a retried write of the same (app id, version) a no-op.

    ``properties`` are set on a table this append creates (see :func:`set_properties` for an existing one).
    """
    _writer(df, "append", partition_by, change_feed, txn, user_metadata, properties).save(path)


def set_properties(
    spark: SparkSession, path: str, properties: dict[str, str], *, user_metadata: dict[str, Any] | None = None
) -> None:
    """Set table properties in one commit that adds no data.

    Delta commits nothing for an empty append, so a decision that must be recorded in the
    table's history with its ``user_metadata`` (e.g. skipping Kafka offsets) is a property change.
    """

    def quoted(text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    assignments = ", ".join(f"{quoted(key)} = {quoted(value)}" for key, value in properties.items())
    with _CommitMetadata(spark, user_metadata):
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({assignments})")


def overwrite(
    df: DataFrame,
    path: str,
    *,
    partition_by: Sequence[str] = (),
    user_metadata: dict[str, Any] | None = None,
    replace_where: str | None = None,
    replace_schema: bool = False,
    change_feed: bool = False,
    properties: dict[str, str] | None = None,
) -> None:
    """Replace the whole table, or only the rows matching ``replace_where``.

    ``replace_schema`` lets a full rebuild change the table's schema; any other overwrite
    must match it (the schema policy decides before anything is written).
    """
    replace_schema = replace_schema and replace_where is None
    writer = _writer(df, "overwrite", partition_by, change_feed, None, user_metadata, properties).option(
        "overwriteSchema", str(replace_schema).lower()
    )
    if replace_where is not None:
        writer = writer.option("replaceWhere", replace_where)
    writer.save(path)


def merge(
    df: DataFrame,
    path: str,
    keys: Sequence[str],
    *,
    update_condition: str | None = None,
    partition_by: Sequence[str] = (),
    user_metadata: dict[str, Any] | None = None,
    probe_updates: bool = True,
    change_feed: bool = False,
) -> None:
    """Upsert ``df`` on ``keys``: insert new keys, update existing ones where ``update_condition`` holds.

    ``df`` must already hold one row per key. The first write creates the table. ``probe_updates``
    looks first whether any row would update (see :func:`_any_update`); the caller turns it off for
    a small target, where the probe's join costs more than the file rewrite it could avoid.
    """
    spark = df.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        append(df, path, partition_by=partition_by, user_metadata=user_metadata, change_feed=change_feed)
        return
    on = " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in keys)
    target = DeltaTable.forPath(spark, path)
    statement = target.alias("t").merge(df.alias("s"), on)
    if not probe_updates or _any_update(df, target.toDF(), on, update_condition):
        statement = statement.whenMatchedUpdateAll(condition=update_condition)
    with _CommitMetadata(spark, user_metadata):
        statement.whenNotMatchedInsertAll().execute()


def _any_update(source: DataFrame, target: DataFrame, on: str, update_condition: str | None) -> bool:
    """Whether any source row would update a stored row (matches a key and passes ``update_condition``).

    When none would, the MERGE has the same outcome with its insert clause alone, and Delta runs
    an insert-only MERGE as one anti join that rewrites no file, instead of scanning the target
    twice and rewriting every file a matched key sits in. A batch of new keys plus re-delivered
    copies that lose to the stored row (the usual incremental batch) takes that path. The probe
    reads only the target's key and condition columns.
    """
    condition = on if update_condition is None else f"({on}) AND ({update_condition})"
    hits = source.alias("s").join(target.alias("t"), F.expr(condition), "left_semi")
    return bool(hits.limit(1).count())


def evolve_schema(
    spark: SparkSession, path: str, added: Sequence[tuple[str, str]], widened: Sequence[tuple[str, str]]
) -> None:
    """Add columns and widen column types in place, ahead of a write that brings them.

    Widening enables Delta's type-widening table feature; readers keep reading old files, whose
    values are widened on read. Each statement is its own commit without user metadata, so it
    never looks like a build watermark.
    """
    table = f"delta.`{path}`"
    with _CommitMetadata(spark, None):  # no other thread's MERGE metadata may land on these commits
        if added:
            columns = ", ".join(f"`{name}` {kind}" for name, kind in added)
            spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({columns})")
        if widened:
            spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('delta.enableTypeWidening' = 'true')")
            for name, kind in widened:
                spark.sql(f"ALTER TABLE {table} ALTER COLUMN `{name}` TYPE {kind}")
