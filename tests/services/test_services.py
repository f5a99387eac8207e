"""The local services really start, serve their clients and stop.

Unmarked tests cover the failure paths in milliseconds with a throwaway cache; the
``services`` ones start MinIO, Kafka, the Prefect server and a Spark cluster for real
(fixtures in conftest.py) because every bug worth catching here lives in the interaction
with the real processes: flags, readiness, process groups.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import services as cli_services
from devtools import services
from devtools.services import ServiceError, ServiceStatus
from lakehouse.settings import Settings, SettingsError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scratch_settings(tmp_path: Path) -> Settings:
    """An empty cache: no installs, no pid files, so nothing real is touched."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        cache_dir=tmp_path / "cache",
        s3_access_key="lakehouse-test",
        s3_secret_key="x" * 16,
        s3_endpoint=f"http://127.0.0.1:{_free_port()}",
        kafka_bootstrap=f"127.0.0.1:{_free_port()}",
    )


# --------------------------------------------------------------------------- failure paths


def test_up_without_keys_points_at_env_example(scratch_settings: Settings) -> None:
    settings = scratch_settings.model_copy(update={"s3_access_key": None, "s3_secret_key": None})
    with pytest.raises(SettingsError, match=r"\.env\.example"):
        services.up(settings, ["minio"])
    assert not (settings.services_dir / "bin").exists(), "nothing may be installed before the key check"


def test_short_minio_secret_is_rejected_before_start(scratch_settings: Settings) -> None:
    from pydantic import SecretStr

    settings = scratch_settings.model_copy(update={"s3_secret_key": SecretStr("short")})
    with pytest.raises(SettingsError, match="at least 8"):
        services.start_minio(settings)


def test_unknown_service_is_rejected(scratch_settings: Settings) -> None:
    with pytest.raises(ServiceError, match="unknown service"):
        services.up(scratch_settings, ["minio", "zookeeper"])
    with pytest.raises(ServiceError, match="unknown service"):
        services.stop(scratch_settings, "zookeeper")


def test_start_refuses_a_port_held_by_another_process(scratch_settings: Settings) -> None:
    host, port = services.minio_address(scratch_settings)
    with socket.socket() as holder:
        holder.bind((host, port))
        holder.listen()
        with pytest.raises(ServiceError, match=rf"{port} is already in use"):
            services.start_minio(scratch_settings)


@pytest.mark.skipif(shutil.which("java") is None, reason="needs java")
def test_a_process_that_dies_at_start_reports_its_log(scratch_settings: Settings) -> None:
    # An "installed" Kafka with no jars and pre-formatted storage: the JVM starts and
    # exits at once, which must surface as a ServiceError carrying the log's last lines.
    lib = scratch_settings.services_dir / "kafka" / "lib"
    lib.mkdir(parents=True)
    (lib / ".installed").write_text("fake\n")
    data = scratch_settings.services_dir / "kafka" / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("")
    with pytest.raises(ServiceError) as info:
        services.start_kafka(scratch_settings, timeout=30)
    message = str(info.value)
    assert message.startswith("kafka exited before it was ready")
    assert "kafka.log" in message.splitlines()[0]
    assert "kafka.Kafka" in info.value.log_tail  # "Could not find or load main class kafka.Kafka"
    assert not services.pid_file(scratch_settings, "kafka").exists()


def test_status_removes_a_stale_pid_file(scratch_settings: Settings) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    pid_path = services.pid_file(scratch_settings, "minio")
    pid_path.parent.mkdir(parents=True)
    pid_path.write_text(f"{dead.pid}\n")
    rows = {row.name: row for row in services.status(scratch_settings)}
    assert set(rows) == {"minio", "kafka", "prefect", "spark-master", "spark-worker"}
    assert not rows["minio"].running
    assert "stale" in rows["minio"].detail
    assert not pid_path.exists()
    assert services.stop_all(scratch_settings) == []


@pytest.fixture
def cli_app(scratch_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("LAKEHOUSE_CACHE_DIR", str(scratch_settings.cache_dir))
    app = typer.Typer()
    cli_services.register(app)
    return app


def test_cli_status_prints_a_table(cli_app: typer.Typer) -> None:
    result = CliRunner().invoke(cli_app, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "RUNNING", "PID", "URL", "DETAIL"]
    assert [line.split()[0] for line in lines[1:]] == ["minio", "kafka", "prefect", "spark-master", "spark-worker"]


def test_cli_errors_are_one_line_and_exit_1(cli_app: typer.Typer) -> None:
    result = CliRunner().invoke(cli_app, ["up", "--only", "minio,bogus"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: unknown service(s) bogus; expected some of minio, kafka, prefect, spark"
    ]


def test_cli_down_with_nothing_running(cli_app: typer.Typer) -> None:
    result = CliRunner().invoke(cli_app, ["down"])
    assert result.exit_code == 0
    assert "nothing was running" in result.stdout


# --------------------------------------------------------------------------- real services


@pytest.mark.services
def test_minio_put_and_list(minio_server: ServiceStatus, service_settings: Settings) -> None:
    from minio import Minio

    assert services.ensure_bucket(service_settings) in (True, False)
    assert services.ensure_bucket(service_settings) is False  # idempotent
    client = Minio(
        "127.0.0.1:9000",
        access_key=service_settings.s3_access_key_value(),
        secret_key=service_settings.s3_secret_key_value(),
        secure=False,
    )
    payload = b'{"order_id": 1}\n'
    # A prefix of its own: other service tests upload landing files into the same bucket.
    prefix = f"test-put-and-list-{uuid.uuid4().hex}/"
    client.put_object(service_settings.s3_bucket, f"{prefix}orders/part-0.json", io.BytesIO(payload), len(payload))
    names = [o.object_name for o in client.list_objects(service_settings.s3_bucket, prefix=prefix, recursive=True)]
    assert names == [f"{prefix}orders/part-0.json"]
    assert client.get_object(service_settings.s3_bucket, names[0]).read() == payload


@pytest.mark.services
def test_starting_a_running_service_is_a_no_op(minio_server: ServiceStatus, service_settings: Settings) -> None:
    again = services.start_minio(service_settings)
    assert again.pid == minio_server.pid
    assert again.detail == "already running"
    row = next(r for r in services.status(service_settings) if r.name == "minio")
    assert row.running and row.pid == minio_server.pid and row.detail == "healthy"


@pytest.mark.services
def test_kafka_produce_and_consume(kafka_broker: ServiceStatus, service_settings: Settings) -> None:
    from confluent_kafka import Consumer, KafkaError, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    bootstrap = service_settings.kafka_bootstrap
    topic = f"services-test-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)

    failures: list[KafkaError] = []
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(10):
        producer.produce(
            topic, key=str(i), value=f"message-{i}", on_delivery=lambda err, _msg: err and failures.append(err)
        )
    assert producer.flush(30) == 0
    assert failures == []

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"services-test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(received) < 10 and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            received.append(msg.value().decode())
    finally:
        consumer.close()
    assert received == [f"message-{i}" for i in range(10)]


FLOW_SCRIPT = textwrap.dedent(
    """
    from prefect import flow

    @flow(name="services-smoke")
    def double(x: int) -> int:
        return 2 * x

    state = double(21, return_state=True)
    print(state.state_details.flow_run_id)
    print(state.result())
    """
)


@pytest.fixture
def prefect_env(tmp_path: Path, prefect_server: ServiceStatus) -> Iterator[dict[str, str]]:
    """A child environment aimed at the test server, isolated from the user's Prefect home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_API_URL": f"{prefect_server.url}/api",
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    yield env


@pytest.mark.services
def test_prefect_server_runs_a_flow(prefect_server: ServiceStatus, prefect_env: dict[str, str], tmp_path: Path) -> None:
    with urllib.request.urlopen(f"{prefect_server.url}/api/health", timeout=5) as resp:
        assert json.loads(resp.read()) is True

    done = subprocess.run(
        [sys.executable, "-c", FLOW_SCRIPT],
        env=prefect_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_id, result = done.stdout.split()[-2:]
    assert result == "42"

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: prefect_env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        run = client.read_flow_run(uuid.UUID(run_id))
    assert run.state is not None and run.state.is_completed(), run.state


@pytest.mark.services
def test_spark_cluster_has_one_alive_worker(spark_cluster: ServiceStatus) -> None:
    assert spark_cluster.url == "spark://127.0.0.1:7077"
    with urllib.request.urlopen(f"http://127.0.0.1:{services.SPARK_MASTER_UI_PORT}/json/", timeout=5) as resp:
        master = json.loads(resp.read())
    alive = [w for w in master["workers"] if w["state"] == "ALIVE"]
    assert len(alive) == 1
    assert alive[0]["cores"] == services.SPARK_WORKER_CORES
    assert alive[0]["memory"] == 2048
    assert master["status"] == "ALIVE"
