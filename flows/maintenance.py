"""The ``maintenance`` flow: OPTIMIZE and VACUUM every Delta table of the lakehouse, one task per table.

The work is :func:`lakehouse.maintenance.maintain_table`; the flow only sequences it. Each
task carries the table's ``table:<id>`` tag, so compaction never commits to a table while a
pipeline run writes it (the same limits as the build tasks), and retries transient storage
errors like them. The flow holds the lakehouse's one-writer lease (:mod:`lakehouse.lease`)
throughout, waiting for a running pipeline to finish first: a VACUUM next to a run could
delete files the run is about to commit.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from pyspark.sql import SparkSession

from flows.medallion import RETRY_DELAYS, TASK_RETRIES, retry_transient, table_tag
from lakehouse.catalog import load_catalog
from lakehouse.lease import hold_lease
from lakehouse.maintenance import (
    MIN_RETENTION_HOURS,
    MaintenanceResult,
    check_retention,
    lakehouse_tables,
    maintain_table,
    select_tables,
)
from lakehouse.settings import Settings, load_settings
from lakehouse.spark import create_spark_session


@task(
    cache_policy=NONE,
    task_run_name="maintain {table_id}",
    retries=TASK_RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
)
def maintain(
    spark: SparkSession, settings: Settings, table_id: str, retention_hours: float, optimize: bool, vacuum: bool
) -> MaintenanceResult:
    """Compact and/or vacuum one table."""
    result = maintain_table(spark, settings, table_id, retention_hours, optimize=optimize, vacuum=vacuum)
    get_run_logger().info(
        "%s: %s, compacted %s files into %s, vacuumed %s, version %s -> %s in %.1f s",
        result.table,
        result.status,
        result.files_removed,
        result.files_added,
        result.files_vacuumed,
        result.version_before,
        result.version_after,
        result.seconds,
    )
    return result


@flow(name="maintenance", log_prints=True)
def maintenance(
    retention_hours: float = MIN_RETENTION_HOURS,
    tables: list[str] | None = None,
    optimize: bool = True,
    vacuum: bool = True,
) -> list[dict[str, Any]]:
    """OPTIMIZE and/or VACUUM (retention at least 168 h) every table the pipeline writes, or only ``tables``."""
    check_retention(retention_hours)  # fail before a JVM starts
    settings = load_settings()
    with hold_lease(settings, purpose="maintenance", wait=True):  # joins the hold of `lakehouse optimize`
        return _maintain_all(settings, retention_hours, tables, optimize, vacuum)


def _maintain_all(
    settings: Settings, retention_hours: float, tables: list[str] | None, optimize: bool, vacuum: bool
) -> list[dict[str, Any]]:
    """The flow's body, run while the lease is held."""
    chosen = select_tables(lakehouse_tables(load_catalog(settings)), tables)
    spark = create_spark_session(settings)
    results = [
        maintain.with_options(tags=[table_tag(table_id)])(spark, settings, table_id, retention_hours, optimize, vacuum)
        for table_id in chosen
    ]
    rows = [asdict(r) for r in results]
    create_table_artifact(
        key="maintenance-summary",
        table=rows,
        description=" + ".join(
            step for step, on in (("OPTIMIZE", optimize), (f"VACUUM (retention {retention_hours} h)", vacuum)) if on
        )
        + " per table.",
    )
    return rows
