"""Deployments served by ``lakehouse deploy`` against a real Prefect server.

The services test starts ``lakehouse deploy`` in the background (its own process group, stopped
at the end), triggers deployments through the API like the UI's "Run" button, and checks what a
user would: the run completes, gold exists, the run summary artifact is there, the schedules and
the per-table concurrency limits are registered. Bronze is filled beforehand with one
``lakehouse run --no-prefect --layer bronze`` so the nightly silver+gold deployment has input.

The unmarked tests cover, in milliseconds, the parts that need no server: the schedule table,
the retry condition and the refusals of ``deploy`` and VACUUM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from deltalake import DeltaTable
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from cli import deploy as cli_deploy
from devtools.services import ServiceStatus
from flows.deployments import DEPLOYMENTS, build_deployments, deployment_names
from lakehouse.maintenance import MIN_RETENTION_HOURS, check_retention
from lakehouse.transient import is_transient
from tests.conftest import make_settings
from tests.services.lakehouse_runs import (
    DAILY_KPIS_LINEAGE,
    DAYS,
    LAKEHOUSE_BIN,
    PIPELINE_TIMEOUT,
    SEED,
    USERS,
    child_env,
    run_lakehouse,
    table_args,
)

BRONZE = tuple(t for t in DAILY_KPIS_LINEAGE if t.startswith("bronze."))
EXPECTED_CRONS = {
    "medallion_pipeline/clickstream-hourly": "5 * * * *",
    "medallion_pipeline/orders-daily": "30 1 * * *",
    "medallion_pipeline/inventory-weekly": "0 1 * * 1",
    "medallion_pipeline/silver-gold-nightly": "0 2 * * *",
    "maintenance/maintenance-weekly": "0 4 * * 0",
    "medallion_pipeline/on-demand": None,
}


# --------------------------------------------------------------------------- no server needed


def test_schedule_table() -> None:
    assert deployment_names() == EXPECTED_CRONS
    by_name = {spec.name: spec for spec in DEPLOYMENTS}
    assert by_name["clickstream-hourly"].parameters == {
        "layers": ["bronze"],
        "tables": ["bronze.clickstream", "bronze.events"],
    }
    assert by_name["silver-gold-nightly"].parameters == {"layers": ["silver", "gold"]}
    deployments = {d.name: d for d in build_deployments()}
    assert deployments["orders-daily"].entrypoint == "flows.medallion.medallion_pipeline"
    assert [s.schedule.cron for s in deployments["inventory-weekly"].schedules] == ["0 1 * * 1"]
    assert deployments["on-demand"].schedules == []


class _FakePy4JError(Exception):
    """Stands in for Py4JJavaError, whose message carries the Java exception's name and trace."""


def test_retry_condition_is_narrowed_to_transient_errors() -> None:
    from minio.error import S3Error

    from ingestion.landing import LandingError
    from lakehouse.quality import GateFailed

    def s3(code: str) -> S3Error:
        return S3Error(None, code, "msg", "/landing", "req", "host")  # type: ignore[arg-type]

    assert is_transient(ConnectionRefusedError(111, "Connection refused"))
    assert is_transient(TimeoutError())
    assert is_transient(_FakePy4JError("An error occurred ... java.net.ConnectException: Connection refused"))
    assert is_transient(s3("SlowDown"))
    try:
        raise LandingError("cannot list s3://lakehouse/landing/: SlowDown") from s3("SlowDown")
    except LandingError as wrapped:
        assert is_transient(wrapped)  # judged by its cause
    assert not is_transient(s3("NoSuchBucket"))
    assert not is_transient(ValueError("bad row"))
    assert not is_transient(FileNotFoundError("landing/orders/a.csv"))
    gate = GateFailed("gold.daily_kpis", [])
    gate.__cause__ = ConnectionRefusedError()
    assert not is_transient(gate)  # a failed gate is final, whatever happened on the way


def test_vacuum_never_goes_below_seven_days() -> None:
    assert check_retention(MIN_RETENTION_HOURS) == 168
    with pytest.raises(ValueError, match="below the minimum of 168 h"):
        check_retention(24)


def test_deploy_without_a_server_is_one_clear_line() -> None:
    app = typer.Typer()
    cli_deploy.register(app)
    app.command("noop")(lambda: None)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: PREFECT_API_URL is not set"), result.stderr


def test_deploy_refuses_a_folder_that_shadows_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lakehouse").mkdir()  # e.g. LAKEHOUSE_ROOT=lakehouse
    (tmp_path / "data").mkdir()
    assert cli_deploy.shadowing_folders(tmp_path) == ["lakehouse"]
    assert cli_deploy.shadowing_folders(Path(cli_deploy.__file__).parents[1]) == []  # the repo root is fine

    app = typer.Typer()
    cli_deploy.register(app)
    app.command("noop")(lambda: None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the current folder holds lakehouse/"), result.stderr


# --------------------------------------------------------------------------- real server


@pytest.fixture(scope="module")
def lakehouse_dirs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from devtools.generate import generate_landing

    base = tmp_path_factory.mktemp("deployed")
    generate_landing(base / "landing", days=DAYS, users=USERS, seed=SEED)
    return base


@pytest.fixture(scope="module")
def deploy_env(prefect_server: ServiceStatus, lakehouse_dirs: Path) -> dict[str, str]:
    settings = make_settings(lakehouse_dirs)
    return child_env(
        lakehouse_dirs,
        {
            "PREFECT_API_URL": f"{prefect_server.url}/api",
            "LAKEHOUSE_ROOT": settings.root,
            "LAKEHOUSE_LANDING": settings.landing,
        },
    )


@pytest.fixture(scope="module")
def client(deploy_env: dict[str, str]) -> Iterator[SyncPrefectClient]:
    with (
        temporary_settings(updates={PREFECT_API_URL: deploy_env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as prefect_client,
    ):
        yield prefect_client


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture(scope="module")
def served(deploy_env: dict[str, str], lakehouse_dirs: Path, client: SyncPrefectClient) -> Iterator[Path]:
    """Bronze filled, then ``lakehouse deploy`` serving in the background; yields its log file."""
    run_lakehouse(["run", "--no-prefect", *table_args(BRONZE)], deploy_env, cwd=lakehouse_dirs)
    log = lakehouse_dirs / "deploy.log"
    workdir = lakehouse_dirs / "work"  # not lakehouse_dirs: its lakehouse/ root would shadow the package
    workdir.mkdir()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(LAKEHOUSE_BIN), "deploy", "--limit", "1"],
            env=deploy_env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: teardown stops it and the flow runs it spawned
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"lakehouse deploy exited {proc.returncode}:\n{_tail(log)}", pytrace=False)
            try:
                client.read_deployment_by_name("medallion_pipeline/on-demand")
                break
            except Exception:
                if time.monotonic() > deadline:
                    pytest.fail(f"deployments not registered within 180 s:\n{_tail(log)}", pytrace=False)
                time.sleep(1)
        yield log
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (serve pauses its schedules and exits), then SIGKILL what is left of the group we started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _run(name: str, log: Path, parameters: dict | None = None) -> FlowRun:
    flow_run = run_deployment(name, parameters=parameters, timeout=PIPELINE_TIMEOUT, poll_interval=2, as_subflow=False)
    assert flow_run.state is not None and flow_run.state.is_completed(), f"{name}: {flow_run.state}\n{_tail(log)}"
    return flow_run


@pytest.mark.services
def test_deployments_are_registered_with_their_schedules(served: Path, client: SyncPrefectClient) -> None:
    for name, cron in EXPECTED_CRONS.items():
        deployment = client.read_deployment_by_name(name)
        crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]
        assert crons == ([(cron, "UTC")] if cron else []), name
    limit = client.read_concurrency_limit_by_tag("table:gold.daily_kpis")
    assert limit.concurrency_limit == 1
    assert client.read_concurrency_limit_by_tag("table:ops.ingest_log").concurrency_limit == 1


@pytest.mark.services
def test_silver_gold_deployment_runs_through_the_server(
    served: Path, client: SyncPrefectClient, deploy_env: dict[str, str]
) -> None:
    with temporary_settings(updates={PREFECT_API_URL: deploy_env["PREFECT_API_URL"]}):
        # The deployment's own layers=["silver", "gold"], narrowed to the lineage bronze was filled for.
        tables = [t for t in DAILY_KPIS_LINEAGE if t not in BRONZE]
        flow_run = _run("medallion_pipeline/silver-gold-nightly", served, {"tables": tables})
    assert flow_run.parameters == {"layers": ["silver", "gold"], "tables": tables}

    gold = Path(deploy_env["LAKEHOUSE_ROOT"]) / "gold" / "daily_kpis"
    assert DeltaTable(str(gold)).to_pyarrow_table().num_rows >= DAYS

    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["medallion-run-summary"])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
    )
    assert len(artifacts) == 1 and artifacts[0].type == "table"
    assert "gold.daily_kpis" in str(artifacts[0].data)

    task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
    tags = {run.name: set(run.tags) for run in task_runs}
    assert "table:gold.daily_kpis" in tags["build gold.daily_kpis"]
    assert {"table:silver.events", "table:quarantine.events"} <= tags["build silver.events"]
    assert not any(name.startswith("build bronze.") for name in tags)  # layers=["silver", "gold"] only


@pytest.mark.services
def test_maintenance_deployment_compacts_tables(
    served: Path, client: SyncPrefectClient, deploy_env: dict[str, str]
) -> None:
    # One append per run: the fixture's bronze run and the silver-gold deployment's run above.
    runs_table = Path(deploy_env["LAKEHOUSE_ROOT"]) / "ops" / "pipeline_runs"
    files_before = len(DeltaTable(str(runs_table)).file_uris())
    assert files_before > 1

    with temporary_settings(updates={PREFECT_API_URL: deploy_env["PREFECT_API_URL"]}):
        # The weekly deployment's flow, narrowed to one table: VACUUM lists every file of a table,
        # and all 25 tables would cost minutes here without testing anything more.
        flow_run = _run("maintenance/maintenance-weekly", served, {"tables": ["ops.pipeline_runs"]})

    table = DeltaTable(str(runs_table))
    assert "OPTIMIZE" in [commit.get("operation") for commit in table.history(3)]
    assert len(table.file_uris()) == 1
    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["maintenance-summary"])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
    )
    assert len(artifacts) == 1
    assert "ops.pipeline_runs" in str(artifacts[0].data)
