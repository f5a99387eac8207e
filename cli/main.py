"""``lakehouse``: the command line of the medallion lakehouse.

Errors print as one line naming what failed and what to do; ``--debug`` shows the
traceback. Exit codes (:class:`cli.exit_codes.ExitCode`): 0 success, 1 an error,
2 a failed critical quality check, 3 success with rejected landing files (listed), 75 the
writer lease is held by another command.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cli import common
from cli.exit_codes import ExitCode
from lakehouse.settings import Settings, SettingsError

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The ephemeral API starts in a subprocess; on a busy 2-core machine the 20 s default is too tight.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="A self-hostable medallion lakehouse: landing files -> bronze -> silver -> gold, gated by quality checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks and Spark/Prefect logs."),
) -> None:
    common.State.debug = debug
    if not debug:
        # Prefect logs every task's state at INFO; the CLI prints one line per table itself.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(levelname)s %(message)s")


@app.command()
def generate(
    landing: Path | None = typer.Option(None, help="Landing folder to write (default: LAKEHOUSE_LANDING)."),
    days: int = typer.Option(14, min=1, help="Days of activity."),
    users: int = typer.Option(1500, min=10, help="Distinct users."),
    seed: int = typer.Option(7, help="Random seed: the same seed writes byte-identical files."),
) -> None:
    """Write deterministic sample landing files: events JSONL(.gz), orders CSV, inventory XLSX, experiments JSON."""
    from devtools.generate import generate_landing

    try:
        target = landing or Path(common.load().landing)
        summary = generate_landing(target, days=days, users=users, seed=seed)
    except (SettingsError, OSError) as exc:
        raise common.fail(exc) from exc
    typer.echo(
        f"wrote {len(summary.files)} files to {target}: {summary.events:,} event lines, "
        f"{summary.order_lines:,} order lines, {summary.products} products "
        f"({len(summary.faults)} planted bad rows)"
    )


def _warm_spark(settings: Settings) -> threading.Thread:
    """Start the JVM while Prefect boots its ephemeral API: the two are the slowest starts."""
    from lakehouse.spark import create_spark_session

    thread = threading.Thread(target=create_spark_session, args=(settings,), daemon=True)
    thread.start()
    return thread


def _warm_prefect() -> threading.Thread | None:
    """Boot Prefect's local (ephemeral) API in the background; None when a server is configured.

    It takes seconds of one core; the demo starts it before generating its sample data, which
    keeps the other core busy meanwhile. Join the thread before running a flow: until the API
    answers its health check, a flow would be handed an address that does not answer yet.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None

    def boot() -> None:
        from prefect.client.orchestration import get_client

        try:
            with get_client(sync_client=True) as client:
                client.api_healthcheck()
        except (RuntimeError, OSError) as exc:  # the flow starts it again and reports what fails
            logging.getLogger(__name__).info("Prefect's local API did not start early: %s", exc)

    thread = threading.Thread(target=boot, name="prefect-warmup", daemon=True)
    thread.start()
    return thread


def _wait_until(moment: float | None) -> None:
    """Sleep until ``moment`` (``time.monotonic()``), if it is still ahead."""
    if moment is not None:
        time.sleep(max(0.0, moment - time.monotonic()))


# EX_TEMPFAIL (sysexits.h): another run, backfill or maintenance holds the lakehouse; retry, or --wait.
EXIT_LEASE_HELD = ExitCode.LEASE_HELD
_WAIT_OPTION = typer.Option(
    False,
    "--wait",
    help="If another run, backfill or maintenance holds this lakehouse, wait for it to finish "
    f"(up to LAKEHOUSE_LEASE_WAIT_TIMEOUT_SECONDS) instead of exiting with code {EXIT_LEASE_HELD}.",
)


def _say_waiting(held: Exception) -> None:
    typer.echo(f"waiting: {held}", err=True)


def _one_writer(purpose: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run a writing command under the lakehouse's lease (:mod:`lakehouse.lease`); its ``--wait`` waits for it.

    Taken here, before Spark or Prefect start, so a busy lakehouse is answered within a second
    by one line naming the holder and exit code 75; the flow the command runs joins this hold
    (the lease is re-entrant within a process) instead of taking it again.
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(command)
        def guarded(*args: Any, **kwargs: Any) -> None:
            from lakehouse.lease import LeaseError, LeaseHeld, hold_lease

            wait = bool(kwargs.get("wait"))
            try:
                with contextlib.ExitStack() as stack:
                    try:
                        stack.enter_context(hold_lease(common.load(), purpose, wait=wait, on_wait=_say_waiting))
                    except LeaseHeld as exc:
                        hint = "" if wait else "; rerun with --wait to wait for it"
                        raise common.error_exit(f"{exc}{hint}", EXIT_LEASE_HELD) from None
                    command(*args, **kwargs)
            except (SettingsError, LeaseError) as exc:  # a bad setting, the lease's storage, a lost lease
                raise common.fail(exc) from exc

        return guarded

    return decorate


def _run_pipeline(
    settings: Settings,
    full_refresh: bool,
    use_prefect: bool,
    tables: list[str] | None,
    layers: list[str] | None = None,
    *,
    settled_at: float | None = None,
    prefect_warmup: threading.Thread | None = None,
):
    """Run the pipeline and return (run results, catalog); (None, catalog) when there is nothing new.

    ``settled_at`` is for a caller that has just landed files itself (the demo's generator): there
    is work, so Spark starts at once, and the run begins at that moment (``time.monotonic()``),
    when the files are older than ``landing_settle_seconds`` and will be listed. ``prefect_warmup``
    is the :func:`_warm_prefect` thread, joined before the flow starts.
    """
    from lakehouse.catalog import load_catalog
    from lakehouse.runner import Pipeline, tables_with_work
    from lakehouse.spark import create_spark_session

    catalog = load_catalog(settings)
    if not full_refresh and settled_at is None:
        selected = [t.id for t in catalog if (not tables or t.id in tables) and (not layers or t.layer in layers)]
        if not tables_with_work(settings, catalog, selected):
            return None, catalog

    if use_prefect:
        from flows.medallion import medallion_pipeline

        _warm_spark(settings)
        if prefect_warmup is not None:
            prefect_warmup.join()
        _wait_until(settled_at)
        rows = medallion_pipeline(full_refresh=full_refresh, tables=tables, layers=layers, progress=True)
        return rows, catalog
    from lakehouse.reports import run_hooks

    spark = create_spark_session(settings)
    _wait_until(settled_at)
    pipeline = Pipeline(
        settings,
        spark,
        full_refresh=full_refresh,
        catalog=catalog,
        hooks=run_hooks(settings),
    )
    selected = [t.id for t in pipeline.catalog if (not tables or t.id in tables) and (not layers or t.layer in layers)]
    from flows.medallion import progress_line

    pipeline.on_result = lambda result: typer.echo(progress_line(result), err=True)
    report = pipeline.run(selected)
    if report.failed is not None:
        raise report.failed
    from flows.medallion import summary_rows

    return summary_rows(report.results), pipeline.catalog


NOTHING_NEW = "nothing new: no new landing files and every table is up to date (Spark not started)"


def _print_summary(settings: Settings, catalog, rows: list[dict] | None) -> None:
    if rows is None:
        typer.echo(NOTHING_NEW)
        return
    from lakehouse.model import TableResult
    from lakehouse.summary import format_summary, summarize

    results = [TableResult(r["table"], r["table"].split(".")[0], r["status"], r["delta_version"]) for r in rows]
    checks = {r["table"]: r["checks"] for r in rows}
    summary = summarize(settings, catalog, results)
    summary = [s.__class__(**{**s.__dict__, "checks": checks.get(s.table, "-")}) for s in summary]
    typer.echo(format_summary(summary))


def _report_rejections(settings: Settings, since: dt.datetime) -> ExitCode:
    """List the landing files rejected since ``since`` (this run); REJECTED_FILES when there are any."""
    from lakehouse import ops

    rejected = ops.rejected_since(settings, since)
    if rejected.empty:
        return ExitCode.OK
    typer.echo(f"\nrejected {len(rejected)} landing file(s), not ingested (see ops.rejected_files):")
    for row in rejected.itertuples():
        typer.echo(f"  {row.source:<12} {row.path}  {row.reason}: {row.detail}")
    return ExitCode.REJECTED_FILES


@app.command()
@_one_writer("run")
def run(
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild silver and gold from all of bronze."),
    table: list[str] = typer.Option(None, "--table", help="Only these tables (e.g. silver.events); repeatable."),
    layer: list[str] = typer.Option(None, "--layer", help="Only these layers (bronze, silver, gold); repeatable."),
    prefect: bool = typer.Option(True, "--prefect/--no-prefect", help="Run as the Prefect flow medallion_pipeline."),
    wait: bool = _WAIT_OPTION,
) -> None:
    """Ingest new landing files and bring silver and gold up to date."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        settings = common.load()
        rows, catalog = _run_pipeline(settings, full_refresh, prefect, table or None, layer or None)
        _print_summary(settings, catalog, rows)
        outcome = _report_rejections(settings, started_at) if rows is not None else ExitCode.OK
    except common.handled_errors() as exc:
        raise common.fail(exc) from exc
    typer.echo(f"done in {time.monotonic() - started:.0f} s")
    if outcome != ExitCode.OK:
        raise typer.Exit(outcome)


@app.command()
@_one_writer("demo")
def demo(
    days: int = typer.Option(14, min=1, help="Days of sample data when the landing zone is empty."),
    users: int = typer.Option(1500, min=10, help="Users of sample data when the landing zone is empty."),
    prefect: bool = typer.Option(True, "--prefect/--no-prefect", help="Run as the Prefect flow medallion_pipeline."),
    wait: bool = _WAIT_OPTION,
) -> None:
    """Generate sample data if the landing zone is empty, run the whole pipeline and print a summary."""
    from devtools.generate import generate_landing

    started = time.monotonic()
    try:
        settings = demo_settings(common.load())
        landing = Path(settings.landing)
        settled_at, prefect_warmup = None, None
        if not landing.exists() or not any(landing.rglob("*")):
            # Generating keeps one core busy: Prefect's local API boots on the other meanwhile.
            prefect_warmup = _warm_prefect() if prefect else None
            typer.echo(f"generating sample data into {landing} ...")
            generate_landing(landing, days=days, users=users)
            # Files this new are not listed yet: the run starts once they have settled, and Spark's
            # start fills that wait instead of a sleep before it.
            settled_at = time.monotonic() + settings.landing_settle_seconds
        typer.echo("running the pipeline (landing -> bronze -> silver -> gold) ...")
        rows, catalog = _run_pipeline(
            settings, False, prefect, None, settled_at=settled_at, prefect_warmup=prefect_warmup
        )
        _print_summary(settings, catalog, rows)
    except common.handled_errors() as exc:
        raise common.fail(exc) from exc
    typer.echo(f"\ndone in {time.monotonic() - started:.0f} s. Lakehouse: {settings.root}")
    typer.echo("Open the dashboard with:  lakehouse dashboard   (then http://127.0.0.1:8501)")


def demo_settings(settings: Settings) -> Settings:
    """The demo's settings: the JVM's quick compiler unless ``LAKEHOUSE_SPARK_QUICK_JIT`` says otherwise.

    Demo data is small, so compiling less saves more than the slower code costs (docs/benchmarks.md).
    """
    if "spark_quick_jit" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"spark_quick_jit": True})


@app.command()
@_one_writer("backfill")
def backfill(
    date_from: dt.datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First date (YYYY-MM-DD)."),
    date_to: dt.datetime = typer.Option(..., "--to", formats=["%Y-%m-%d"], help="Last date, inclusive."),
    layer: list[str] = typer.Option(["silver", "gold"], "--layers", help="Layers to rebuild; repeatable."),
    wait: bool = _WAIT_OPTION,
) -> None:
    """Rebuild silver and gold for a date window (gold replaces only those dates), as the Prefect flow ``backfill``."""
    from flows.backfill import backfill as backfill_flow
    from lakehouse.catalog import load_catalog

    started = time.monotonic()
    try:
        settings = common.load()
        _warm_spark(settings)
        rows = backfill_flow(date_from=date_from.date(), date_to=date_to.date(), layers=list(layer))
        _print_summary(settings, load_catalog(settings), rows)
    except common.handled_errors(ValueError) as exc:
        raise common.fail(exc) from exc
    typer.echo(f"done in {time.monotonic() - started:.0f} s")


def _maintain(tables: list[str] | None, retention_hours: float, optimize: bool, vacuum: bool) -> None:
    """Run the ``maintenance`` flow for ``optimize`` and/or ``vacuum`` and print one line per table."""
    from flows.maintenance import maintenance

    started = time.monotonic()
    try:
        _warm_spark(common.load())
        rows = maintenance(retention_hours=retention_hours, tables=tables, optimize=optimize, vacuum=vacuum)
    except common.handled_errors(ValueError) as exc:
        raise common.fail(exc) from exc
    for row in rows:
        if row["status"] == "missing":
            typer.echo(f"{row['table']:<32} not written yet")
            continue
        done = []
        if optimize:
            done.append(f"compacted {row['files_removed']} files into {row['files_added']}")
        if vacuum:
            done.append(f"vacuumed {row['files_vacuumed'] or 0} files")
        typer.echo(f"{row['table']:<32} {', '.join(done)}, version {row['version_before']} -> {row['version_after']}")
    typer.echo(f"done in {time.monotonic() - started:.0f} s")


_TABLES_OPTION = typer.Option(None, "--table", help="Only these tables (e.g. ops.ingest_log); repeatable.")
_RETENTION_OPTION = typer.Option(168.0, "--retention-hours", help="Keep files younger than this; >= 168 (7 days).")


@app.command()
@_one_writer("optimize")
def optimize(
    table: list[str] = _TABLES_OPTION,
    vacuum: bool = typer.Option(False, "--vacuum/--no-vacuum", help="Also VACUUM afterwards."),
    retention_hours: float = _RETENTION_OPTION,
    wait: bool = _WAIT_OPTION,
) -> None:
    """Compact the small files of every table (Delta OPTIMIZE), as the Prefect flow ``maintenance``."""
    _maintain(table or None, retention_hours, optimize=True, vacuum=vacuum)


@app.command()
@_one_writer("vacuum")
def vacuum(
    table: list[str] = _TABLES_OPTION,
    retention_hours: float = _RETENTION_OPTION,
    wait: bool = _WAIT_OPTION,
) -> None:
    """Delete data files no version within the retention needs (Delta VACUUM; never below 7 days)."""
    _maintain(table or None, retention_hours, optimize=False, vacuum=True)


@app.command()
def dashboard(
    port: int = typer.Option(None, help="Port on 127.0.0.1 (default: LAKEHOUSE_DASHBOARD_PORT or 8501)."),
) -> None:
    """Serve the Streamlit KPI dashboard on 127.0.0.1 (reads gold without Spark)."""
    from dashboard.launch import launch

    try:
        settings = common.load()
        process = launch(settings, port=port, wait=True)
    except common.handled_errors() as exc:
        raise common.fail(exc) from exc
    typer.echo(f"dashboard at http://127.0.0.1:{port or settings.dashboard_port} (Ctrl+C to stop)")
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()


def _register_optional_commands() -> None:
    from cli import deploy, kafka, quality, services, storage

    services.register(app)
    storage.register(app)
    deploy.register(app)
    kafka.register(app)
    quality.register(app)


_register_optional_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
