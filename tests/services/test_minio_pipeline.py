"""The lakehouse on MinIO: upload landing files, run the pipeline on s3a://, read gold back with delta-rs.

The pipeline runs in a subprocess (``lakehouse run --no-prefect``) because this pytest process's
first SparkSession is the local one of ``tests/conftest.py`` and Spark cannot add the S3A jars
to a running JVM. Its gold must equal, row for row, the same pipeline on local folders: object
storage is configuration, not a different result.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from minio import Minio
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from cli import storage as cli_storage
from devtools.services import ServiceStatus
from ingestion.landing import LandingError
from ingestion.upload import local_files, upload_landing
from lakehouse.settings import Settings
from tests.services.lakehouse_runs import Reference, child_env, read_gold, reference_gold, run_lakehouse, table_args


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> Reference:
    return reference_gold(tmp_path_factory, spark)


@pytest.fixture(scope="module")
def minio_settings(minio_server: ServiceStatus, service_settings: Settings) -> Settings:
    """The service session's MinIO and keys, with the lakehouse root and landing zone in its bucket."""
    bucket = service_settings.s3_bucket
    return service_settings.model_copy(
        update={"root": f"s3a://{bucket}/lakehouse", "landing": f"s3a://{bucket}/landing", "shuffle_partitions": 1}
    )


def _minio_env(settings: Settings) -> dict[str, str]:
    return {
        "LAKEHOUSE_ROOT": settings.root,
        "LAKEHOUSE_LANDING": settings.landing,
        "LAKEHOUSE_S3_ENDPOINT": settings.s3_endpoint,
        "LAKEHOUSE_S3_ACCESS_KEY": settings.s3_access_key_value(),
        "LAKEHOUSE_S3_SECRET_KEY": settings.s3_secret_key_value(),
        "LAKEHOUSE_S3_BUCKET": settings.s3_bucket,
        "LAKEHOUSE_S3_REGION": settings.s3_region,
    }


def _client(settings: Settings) -> Minio:
    return Minio(
        settings.s3_endpoint.split("://", 1)[1],
        access_key=settings.s3_access_key_value(),
        secret_key=settings.s3_secret_key_value(),
        secure=False,
    )


def _keys(settings: Settings, prefix: str) -> list[str]:
    return sorted(o.object_name for o in _client(settings).list_objects(settings.s3_bucket, prefix, recursive=True))


def _upload_cli(settings: Settings, source: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """``lakehouse upload --from`` in-process: the CLI reads settings from the environment like a user's shell."""
    for key, value in _minio_env(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "no.env"))
    app = typer.Typer()
    cli_storage.register(app)
    app.command("noop")(lambda: None)  # a second command keeps Typer from collapsing the app into `upload`
    result = CliRunner().invoke(app, ["upload", "--from", str(source)])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def uploaded(
    reference: Reference, minio_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """Upload the reference landing folder twice with the CLI; returns both outputs."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        tmp = tmp_path_factory.mktemp("upload")
        first = _upload_cli(minio_settings, reference.landing, monkeypatch, tmp)
        second = _upload_cli(minio_settings, reference.landing, monkeypatch, tmp)
    return first, second


@pytest.mark.services
def test_upload_puts_every_landing_file_once(
    uploaded: tuple[str, str], reference: Reference, minio_settings: Settings
) -> None:
    first, second = uploaded
    relative = [path for path, _ in local_files(reference.landing)]
    assert len(relative) >= 8  # events (plain and gz), orders, inventory, experiments
    assert _keys(minio_settings, "landing/") == [f"landing/{path}" for path in relative]
    assert first.startswith(f"uploaded {len(relative)} files")
    # Same bytes again: nothing is sent, so object ETags (bronze's checksums) cannot change.
    assert second.startswith("uploaded 0 files") and f"{len(relative)} already there unchanged" in second


@pytest.mark.services
def test_pipeline_on_minio_matches_local_folders(
    uploaded: tuple[str, str], reference: Reference, minio_settings: Settings, tmp_path: Path
) -> None:
    out = run_lakehouse(
        ["run", "--no-prefect", *table_args()], child_env(tmp_path, _minio_env(minio_settings)), cwd=tmp_path
    )
    assert "gold.daily_kpis" in out

    delta_log = _keys(minio_settings, "lakehouse/gold/daily_kpis/_delta_log/")
    assert "lakehouse/gold/daily_kpis/_delta_log/00000000000000000000.json" in delta_log
    assert _keys(minio_settings, "lakehouse/ops/ingest_log/_delta_log/")  # ops tables live in the bucket too

    gold = read_gold(minio_settings, "daily_kpis")  # delta-rs with settings.s3_storage_options()
    assert len(gold) >= 3
    assert gold == reference.daily_kpis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_upload_names_an_unreachable_minio(tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "a.csv").write_text("order_id\n1\n")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        landing="s3a://lakehouse/landing",
        s3_endpoint=f"http://127.0.0.1:{_free_port()}",
        s3_access_key="lakehouse-test",
        s3_secret_key="x" * 16,
    )
    with pytest.raises(LandingError, match=r"cannot reach MinIO at http://127\.0\.0\.1:\d+ .*lakehouse up"):
        upload_landing(settings, tmp_path)


def test_upload_refuses_a_local_landing_zone(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, landing=str(tmp_path / "landing"))  # type: ignore[call-arg]
    with pytest.raises(LandingError, match="s3a://"):
        upload_landing(settings, tmp_path)
