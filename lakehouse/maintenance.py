"""Delta table maintenance: compact small files (OPTIMIZE) and delete unreferenced ones (VACUUM).

Every incremental run appends a few small files per table (bronze batches, ops records,
quarantine rows), and every overwrite or MERGE leaves the replaced files behind for time
travel. Left alone, reads slow down with the file count and storage grows without bound, so a
weekly maintenance pass compacts and vacuums every Delta table the lakehouse writes.

VACUUM never goes below :data:`MIN_RETENTION_HOURS` (7 days): a shorter retention can delete
files that a concurrent reader or a slow writer still needs, and would break the time travel
the runner relies on for "read the input at the version this run saw". Spark's own
``retentionDurationCheck`` stays on as a second guard.

Maintenance commits (OPTIMIZE, and the VACUUM START/END entries Delta logs) carry no user
metadata, so they never look like a build watermark to the runner, and none of them changes data,
so silver's change-feed reads skip them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from lakehouse.catalog import Catalog
from lakehouse.ops import OPS_TABLES
from lakehouse.settings import Settings
from lakehouse.storage import quarantine_id, table_id_path

MIN_RETENTION_HOURS = 168


@dataclass(frozen=True)
class MaintenanceResult:
    """What maintenance did to one table (``status`` is ``maintained`` or ``missing``)."""

    table: str
    status: str
    files_removed: int = 0
    files_added: int = 0
    files_vacuumed: int | None = None
    version_before: int | None = None
    version_after: int | None = None
    seconds: float = 0.0


def lakehouse_tables(catalog: Catalog) -> list[str]:
    """Every Delta table the pipeline writes: the catalog's, their quarantine tables and the ops tables.

    One list for maintenance and for the per-table concurrency limits, so a table that can be
    written can also be compacted and is also protected from concurrent writers.
    """
    tables = [table.id for table in catalog]
    tables += [quarantine_id(table.name) for table in catalog if table.quarantine]
    tables += [f"ops.{name}" for name in OPS_TABLES]
    return tables


def select_tables(known: list[str], wanted: list[str] | None) -> list[str]:
    """``wanted`` in the order of ``known`` (all of them when None); an unknown name is an error, not a no-op."""
    if not wanted:
        return known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"unknown table(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
    return [table for table in known if table in wanted]


def check_retention(retention_hours: float) -> float:
    """Refuse a VACUUM retention below 7 days rather than silently raising it: the caller asked for it."""
    if retention_hours < MIN_RETENTION_HOURS:
        raise ValueError(
            f"VACUUM retention of {retention_hours} h is below the minimum of {MIN_RETENTION_HOURS} h (7 days); "
            "shorter retention can delete files that running readers and time travel still need"
        )
    return retention_hours


def maintain_table(
    spark: SparkSession,
    settings: Settings,
    table_id: str,
    retention_hours: float = MIN_RETENTION_HOURS,
    *,
    optimize: bool = True,
    vacuum: bool = True,
) -> MaintenanceResult:
    """OPTIMIZE (bin-packing compaction) then VACUUM one table; a table not written yet is reported missing."""
    from delta.tables import DeltaTable

    check_retention(retention_hours)
    path = table_id_path(settings, table_id)
    started = time.monotonic()
    if not DeltaTable.isDeltaTable(spark, path):
        return MaintenanceResult(table_id, "missing")
    table = DeltaTable.forPath(spark, path)
    before = _version(table)
    metrics = None
    if optimize:
        compaction = table.optimize().executeCompaction()
        metrics = compaction.select("metrics.numFilesAdded", "metrics.numFilesRemoved").first()
    if vacuum:
        table.vacuum(float(retention_hours))
    return MaintenanceResult(
        table_id,
        "maintained",
        files_removed=int(metrics["numFilesRemoved"]) if metrics else 0,
        files_added=int(metrics["numFilesAdded"]) if metrics else 0,
        files_vacuumed=_vacuumed(table) if vacuum else None,
        version_before=before,
        version_after=_version(table),
        seconds=round(time.monotonic() - started, 2),
    )


def _version(table) -> int:
    return int(table.history(1).select("version").first()["version"])


def _vacuumed(table) -> int | None:
    """Files the VACUUM just deleted, from its "VACUUM END" commit (None when vacuum logging is off)."""
    for row in table.history(2).select("operation", "operationMetrics").collect():
        if row["operation"] == "VACUUM END":
            return int((row["operationMetrics"] or {}).get("numDeletedFiles", 0))
    return None


def maintain_lakehouse(
    spark: SparkSession,
    settings: Settings,
    catalog: Catalog,
    retention_hours: float = MIN_RETENTION_HOURS,
) -> list[MaintenanceResult]:
    """Maintain every table of :func:`lakehouse_tables` in turn (the flow does the same, one task per table)."""
    check_retention(retention_hours)
    return [maintain_table(spark, settings, table_id, retention_hours) for table_id in lakehouse_tables(catalog)]
