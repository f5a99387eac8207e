"""Data Docs of an object-storage lakehouse: rendered under cache_dir, mirrored to s3://<bucket>/data_docs/.

Runs its own MinIO (the project's binary, on free ports, throwaway data) rather than the
session services of tests/services: its pid file and ports stay out of their way.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import great_expectations.expectations as gxe
import pytest
from pyspark.sql import SparkSession

from devtools import services
from lakehouse import reports
from lakehouse.quality import QualityGate, critical
from lakehouse.settings import Settings
from tests import service_installs
from tests.conftest import make_settings

pytestmark = pytest.mark.services


def _free_port() -> int:
    # MinIO takes two ports (API and console): find a free pair.
    for _ in range(50):
        with socket.socket() as one:
            one.bind(("127.0.0.1", 0))
            port = one.getsockname()[1]
        if port < 65535 and not services.port_open("127.0.0.1", port + 1):
            return port
    raise RuntimeError("no free port pair for MinIO")


@pytest.fixture(scope="module")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    # Started in the background after collection; the default cache, as the service fixtures use.
    binary = service_installs.install("minio", Settings(_env_file=None))  # type: ignore[call-arg]
    data = tmp_path_factory.mktemp("minio-data")
    port, user, password = _free_port(), "docs-test", secrets.token_urlsafe(12)
    process = subprocess.Popen(
        [
            str(binary),
            "server",
            "--address",
            f"127.0.0.1:{port}",
            "--console-address",
            f"127.0.0.1:{port + 1}",
            str(data),
        ],
        env={"MINIO_ROOT_USER": user, "MINIO_ROOT_PASSWORD": password, "MINIO_UPDATE": "off", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/minio/health/live", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("MinIO did not become live within 60 s") from None
                time.sleep(0.5)
        yield endpoint, user, password
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_site_is_uploaded_and_kept_in_sync(minio: tuple[str, str, str], spark: SparkSession, tmp_path: Path) -> None:
    endpoint, user, password = minio
    settings = make_settings(
        tmp_path,
        root="s3a://docs-lake/lakehouse",
        s3_endpoint=endpoint,
        s3_access_key=user,
        s3_secret_key=password,
        cache_dir=tmp_path / "cache",
    )
    client = reports._minio_client(settings)
    client.make_bucket("docs-lake")
    client.put_object("docs-lake", "data_docs/stale.html", io.BytesIO(b"old"), 3)
    checks = [critical(gxe.ExpectColumnValuesToNotBeNull(column="a"))]
    gate = QualityGate()
    gate.validate("silver.things", spark.createDataFrame([(1,), (2,)], "a int"), checks, rows=2, pandas_max_rows=10)
    suites = {"silver.things": [critical(gxe.ExpectColumnValuesToNotBeNull(column="a"))]}

    location = reports.build_data_docs(settings, "run-1", dt.datetime(2026, 11, 1, 8), gate.last_validations, suites)

    assert location == "s3://docs-lake/data_docs/index.html"
    names = {o.object_name for o in client.list_objects("docs-lake", prefix="data_docs/", recursive=True)}
    assert "data_docs/index.html" in names
    assert "data_docs/expectations/silver/things-suite.html" in names
    assert any(n.startswith("data_docs/validations/silver/things-suite/run-1/") for n in names)
    assert "data_docs/stale.html" not in names
    index = client.get_object("docs-lake", "data_docs/index.html").read().decode()
    assert "silver.things-suite" in index
    assert client.stat_object("docs-lake", "data_docs/index.html").content_type == "text/html"
    # Nothing changed locally: a second mirror uploads nothing.
    target = reports.docs_target(settings)
    assert target.upload_to is not None
    assert reports.upload_site(settings, target.build_dir, target.upload_to) == 0
