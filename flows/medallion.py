"""The ``medallion_pipeline`` flow: one task per table, in catalog order, gates inside each task.

The flow only sequences. Building, gating and writing live in the runner, so the
CLI, the flow and the tests run exactly the same code. It runs without a server
(Prefect's ephemeral mode) or against one when ``PREFECT_API_URL`` is set.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE

from lakehouse.runner import Pipeline, TableResult
from lakehouse.settings import load_settings
from lakehouse.spark import create_spark_session


@task(cache_policy=NONE, task_run_name="build {table_id}")
def build_table(pipeline: Pipeline, table_id: str) -> TableResult:
    """Build, gate and write one table (raises GateFailed on a failed critical check)."""
    result = pipeline.run_table(table_id)
    get_run_logger().info(
        "%s: %s, version %s, rows %s, quarantined %s, checks %s/%s%s",
        result.table, result.status, result.delta_version, result.rows_written, result.quarantined,
        result.checks_passed, len(result.checks), f" ({result.message})" if result.message else "",
    )
    return result


def summary_rows(results: list[TableResult]) -> list[dict[str, Any]]:
    return [
        {
            "table": r.table,
            "status": r.status,
            "delta_version": r.delta_version,
            "rows_written": r.rows_written,
            "quarantined": r.quarantined,
            "deduplicated": r.deduplicated,
            "checks": f"{r.checks_passed}/{len(r.checks)}",
            "note": r.message or "",
        }
        for r in results
    ]


@flow(name="medallion_pipeline", log_prints=True)
def medallion_pipeline(
    full_refresh: bool = False, tables: list[str] | None = None, layers: list[str] | None = None
) -> list[dict[str, Any]]:
    """Ingest landing files into bronze, then build silver and gold, gating every table."""
    settings = load_settings()
    pipeline = Pipeline(settings, create_spark_session(settings), full_refresh=full_refresh)
    try:
        for table in pipeline.catalog:
            if (tables and table.id not in tables) or (layers and table.layer not in layers):
                continue
            build_table(pipeline, table.id)
    finally:
        pipeline.finish()
        rows = summary_rows(pipeline.results)
        create_table_artifact(
            key="medallion-run-summary",
            table=rows,
            description=f"Run {pipeline.run_id}: rows written, quarantined and checks per table.",
        )
    return rows
