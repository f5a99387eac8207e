"""Session fixtures that start the real local services once for all service tests.

Binaries and jars stay in the real cache (``settings.services_dir``) so the 3-minute MinIO
build happens once per machine, not once per run (and starts in the background as soon as the
tests are collected: ``tests/service_installs.py``); service *data* goes to a per-session
temporary folder so tests never see, or leave behind, a developer's buckets and topics.
Each fixture stops only what it started, and refuses to run over services a developer
started with ``lakehouse up`` or over foreign processes holding the ports.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import services
from devtools.services import ServiceStatus
from lakehouse.settings import Settings
from tests import service_installs

PROCS_OF = {"minio": ["minio"], "kafka": ["kafka"], "prefect": ["prefect"], "spark": ["spark-master", "spark-worker"]}


@pytest.fixture(scope="session")
def service_settings() -> Settings:
    """Default cache and ports, throwaway credentials generated per session (never stored)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        s3_access_key="lakehouse-test",
        s3_secret_key=secrets.token_urlsafe(18),
        s3_bucket="lakehouse-test",
    )


@pytest.fixture(scope="session")
def service_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-data")


def _preflight(settings: Settings, name: str) -> None:
    """Fail with a clear message rather than reuse or kill something that is not ours."""
    running = [p for p in PROCS_OF[name] if services.running_pid(settings, p) is not None]
    if running:
        pytest.fail(
            f"{name} is already running from `lakehouse up` (pid file in {settings.services_dir}); "
            "run `lakehouse down` first: the service tests start their own with throwaway data",
            pytrace=False,
        )
    for host, port in services.service_ports(settings, name):
        if services.port_open(host, port):
            pytest.fail(
                f"port {host}:{port} needed by {name} is held by another process; free it to run these tests",
                pytrace=False,
            )


def _assert_stopped(settings: Settings, name: str) -> None:
    """Teardown doubles as the test of `stop`: pid files gone, ports closed."""
    services.stop(settings, name)
    for proc in PROCS_OF[name]:
        assert not services.pid_file(settings, proc).exists(), f"{proc} pid file left behind"
    for host, port in services.service_ports(settings, name):
        assert not services.port_open(host, port), f"{name} still listens on {host}:{port} after stop"


@pytest.fixture(scope="session")
def minio_server(service_settings: Settings, service_data: Path) -> Iterator[ServiceStatus]:
    _preflight(service_settings, "minio")
    service_installs.install("minio", service_settings)  # started in the background after collection
    try:
        yield services.start_minio(service_settings, data_dir=service_data / "minio")
    finally:
        _assert_stopped(service_settings, "minio")


@pytest.fixture(scope="session")
def kafka_broker(service_settings: Settings, service_data: Path) -> Iterator[ServiceStatus]:
    _preflight(service_settings, "kafka")
    service_installs.install("kafka", service_settings)  # started in the background after collection
    try:
        yield services.start_kafka(service_settings, data_dir=service_data / "kafka")
    finally:
        _assert_stopped(service_settings, "kafka")


@pytest.fixture(scope="session")
def prefect_server(service_settings: Settings, service_data: Path) -> Iterator[ServiceStatus]:
    _preflight(service_settings, "prefect")
    try:
        yield services.start_prefect_server(service_settings, data_dir=service_data / "prefect")
    finally:
        _assert_stopped(service_settings, "prefect")


@pytest.fixture(scope="session")
def spark_cluster(service_settings: Settings, service_data: Path) -> Iterator[ServiceStatus]:
    _preflight(service_settings, "spark")
    try:
        yield services.start_spark_cluster(service_settings, data_dir=service_data / "spark")
    finally:
        _assert_stopped(service_settings, "spark")
