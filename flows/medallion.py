"""The ``medallion_pipeline`` flow: one task per table, each waiting for its inputs' tasks.

The flow only wires the catalog's DAG into Prefect: every table is submitted at once with
``wait_for`` on the tasks of its inputs, so independent tables run in parallel (bounded by the
runner's ``table_workers``) and the Prefect UI shows the real graph. A failed critical gate
fails its task; Prefect then does not start the tasks downstream of it, while every other
table still runs. Building, gating and writing live in the runner, so the CLI, the flow and
the tests run exactly the same code. It runs without a server (Prefect's ephemeral mode) or
against one when ``PREFECT_API_URL`` is set.

Whoever starts it, a flow run holds the lakehouse's one-writer lease (:mod:`lakehouse.lease`)
for its whole duration, so two runs on one root (two CLI runs, a schedule next to a manual
run, a run next to maintenance) never ingest the same landing files twice or race each
other's Delta commits, with or without a Prefect server.

Against a server two more guarantees hold. Each task carries a ``table:<id>`` tag for every
Delta table it writes, and ``lakehouse deploy`` puts a concurrency limit of 1 on each such tag,
so two flow runs (a schedule and a manual run, say) never write the same table at once. Delta
on S3A has a single-driver log store: two drivers committing to one table can overwrite each
other's commit, so this is a correctness guard, not tuning. (Without a server the tasks go
untagged: no limit exists there, and asking the ephemeral API for slots only costs time.)
And tasks retry with backoff, but only on transient service errors
(:func:`lakehouse.transient.is_transient`): a failed quality gate or a bad declaration fails
at once.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import TaskRun
from prefect.futures import PrefectFuture, wait
from prefect.settings import get_current_settings
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import Task, exponential_backoff

from lakehouse import reports
from lakehouse.catalog import TableDef
from lakehouse.lease import hold_lease
from lakehouse.model import TableResult
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings, load_settings
from lakehouse.spark import create_spark_session
from lakehouse.storage import quarantine_id
from lakehouse.transient import is_transient

TASK_RETRIES = 3
# 10 s, 20 s, 40 s (+ jitter): long enough for MinIO or a broker to restart, short enough for an hourly job.
RETRY_DELAYS = exponential_backoff(backoff_factor=10)
RUN_RECORD_TABLES = ("ops.pipeline_runs", "ops.quality_results", "ops.ingest_log")


def table_tag(table_id: str) -> str:
    """The concurrency tag of one Delta table (``lakehouse deploy`` limits each to 1 writer)."""
    return f"table:{table_id}"


def write_tags(table: TableDef) -> list[str]:
    """Tags for every table a build of ``table`` writes: itself, its quarantine, bronze's ops tables.

    A bronze build writes ``ops.rejected_files`` and repairs ``ops.ingest_log`` (its own files go
    to the log with the run's records, after the build).
    """
    written = [table.id]
    if table.quarantine:
        written.append(quarantine_id(table.name))
    if table.layer == "bronze":
        written += ["ops.ingest_log", "ops.rejected_files"]
    return [table_tag(t) for t in written]


def server_limits_apply() -> bool:
    """Whether ``lakehouse deploy``'s per-table concurrency limits can exist: only on a Prefect server.

    Without a server (Prefect's ephemeral mode) no limit exists, yet every tagged task still asks
    the ephemeral API for its slots; tasks starting together contend for its SQLite file and are
    answered 503 with a retry delay of about 2 s, paid once per wave of tables. There the
    lakehouse lease alone keeps one writer per root, so tasks go untagged.
    """
    return get_current_settings().api.url is not None


def retry_transient(_task: Task, _task_run: TaskRun, state: State) -> bool:
    """Prefect's ``retry_condition_fn``: retry only what :func:`is_transient` calls transient."""
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


@task(
    cache_policy=NONE,
    task_run_name="build {table_id}",
    retries=TASK_RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
)
def build_table(pipeline: Pipeline, table_id: str, progress: bool = False) -> TableResult:
    """Build, gate and write one table (raises GateFailed on a failed critical check)."""
    result = pipeline.run_table(table_id)
    if progress:
        sys.stderr.write(progress_line(result) + "\n")  # not print: log_prints would turn it into a log line
    get_run_logger().info(
        "%s: %s, version %s, rows %s, quarantined %s, checks %s/%s%s",
        result.table,
        result.status,
        result.delta_version,
        result.rows_written,
        result.quarantined,
        result.checks_passed,
        len(result.checks),
        f" ({result.message})" if result.message else "",
    )
    return result


@task(
    cache_policy=NONE,
    task_run_name="record run",
    retries=TASK_RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
)
def record_run(pipeline: Pipeline) -> None:
    """Append this run's rows to the ops run and quality tables (shared by every run, hence tagged)."""
    pipeline.finish()


def progress_line(result: TableResult) -> str:
    """One line per finished table for a terminal: status, rows and seconds."""
    rows = f"{result.rows_written:,} rows" if result.rows_written is not None else ""
    seconds = sum(result.seconds.values())
    timing = f" in {seconds:.1f} s" if seconds else ""
    note = f" ({result.message})" if result.message and result.status != "written" else ""
    return f"  {result.status:<8} {result.table:<30} {rows}{timing}{note}"


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


# Threads only wait for a table slot of the runner, which bounds the real concurrency.
def _raise_first_failure(futures: dict[str, PrefectFuture]) -> None:
    """Raise the error of the first failed table (in catalog order), as a sequential run would.

    Tasks that did not run because an input failed end as ``NotReady`` and raise nothing; the
    table that failed carries the real error (a :class:`GateFailed`, say), which decides the exit code.
    """
    for future in futures.values():
        state = future.state
        if state.is_failed() or state.is_crashed():
            future.result()  # raises the table's error


@flow(name="medallion_pipeline", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=8))
def medallion_pipeline(
    full_refresh: bool = False,
    tables: list[str] | None = None,
    layers: list[str] | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Ingest landing files into bronze, then build silver and gold, gating every table.

    Holds the lakehouse's lease (:mod:`lakehouse.lease`) throughout, waiting for it up to
    ``lease_wait_timeout_seconds`` when another run, backfill or maintenance has it: a scheduled
    slice queues behind a manual run instead of ingesting the same files. Started by
    ``lakehouse run``, it joins the CLI's hold.
    """
    settings = load_settings()
    with hold_lease(settings, purpose="medallion_pipeline", wait=True):
        return _pipeline_body(settings, full_refresh, tables, layers, progress)


def _pipeline_body(
    settings: Settings, full_refresh: bool, tables: list[str] | None, layers: list[str] | None, progress: bool
) -> list[dict[str, Any]]:
    """The flow's body, run while the lease is held."""
    pipeline = Pipeline(
        settings, create_spark_session(settings), full_refresh=full_refresh, hooks=reports.run_hooks(settings)
    )
    unknown = sorted(set(tables or ()) - {t.id for t in pipeline.catalog})
    if unknown:  # e.g. bronze.clickstream while Kafka extracts are not enabled: nothing to do for those
        get_run_logger().warning("not in the catalog, skipped: %s", ", ".join(unknown))
    futures: dict[str, PrefectFuture] = {}
    tagged = server_limits_apply()
    try:
        for table in pipeline.catalog:  # inputs come before their consumers
            if (tables and table.id not in tables) or (layers and table.layer not in layers):
                continue
            upstream = [futures[i] for i in pipeline.catalog.prerequisites(table) if i in futures]
            builder = build_table.with_options(tags=write_tags(table)) if tagged else build_table
            futures[table.id] = builder.submit(pipeline, table.id, progress, wait_for=upstream)
        wait(list(futures.values()))
        _raise_first_failure(futures)
    finally:
        recorder = record_run.with_options(tags=[table_tag(t) for t in RUN_RECORD_TABLES]) if tagged else record_run
        recorder(pipeline)
        rows = summary_rows(pipeline.results)
        create_table_artifact(
            key="medallion-run-summary",
            table=rows,
            description=f"Run {pipeline.run_id}: rows written, quarantined and checks per table.",
        )
        create_markdown_artifact(key="medallion-run-quality", markdown=reports.run_markdown(settings, pipeline.run_id))
    return rows
