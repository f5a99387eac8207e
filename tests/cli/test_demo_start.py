"""The demo's start: files it has just generated are read by its run, after their settle time.

A local landing file modified within ``landing_settle_seconds`` is taken for one still being
copied in and left for a later run. The demo no longer sleeps that time away after generating:
it starts Spark (and Prefect's local API) meanwhile, and its run begins at the moment the files
have settled (``settled_at``). Run a moment too early, the run would find no file to ingest.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from cli.main import _run_pipeline, _wait_until, _warm_prefect
from devtools.generate import generate_landing
from lakehouse.ops import read_ops
from lakehouse.quality import QualityGate
from lakehouse.storage import table_path
from tests.conftest import make_settings

SETTLE_SECONDS = 1.0
# Later than the files settle, so that a run that does not wait for ``settled_at`` starts visibly before it.
WAIT_SECONDS = 4.0


def test_a_run_given_settled_at_starts_then_and_reads_every_new_file(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, landing_settle_seconds=SETTLE_SECONDS)
    QualityGate()  # Great Expectations imported beforehand: the run itself then starts within a second
    landing = generate_landing(Path(settings.landing), days=1, users=20, seed=3)
    settled_at = time.monotonic() + WAIT_SECONDS
    settled_wall = pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=WAIT_SECONDS)

    rows, _catalog = _run_pipeline(settings, False, False, ["bronze.orders"], settled_at=settled_at)

    assert rows is not None
    assert [(row["table"], row["status"]) for row in rows] == [("bronze.orders", "written")]
    runs = read_ops(settings, "pipeline_runs")
    (started,) = runs.loc[runs["table"] == "bronze.orders", "started_at"].tolist()
    assert pd.Timestamp(started) >= settled_wall - pd.Timedelta(seconds=0.2)  # both in UTC
    written = spark.read.format("delta").load(table_path(settings, "bronze", "orders")).count()
    assert written == landing.order_lines  # every generated line: none was left behind as unsettled


def test_wait_until_sleeps_only_what_is_left() -> None:
    started = time.monotonic()
    _wait_until(None)
    _wait_until(started - 5)  # already past
    assert time.monotonic() - started < 0.1
    _wait_until(time.monotonic() + 0.3)
    assert time.monotonic() - started >= 0.3


def test_the_warm_up_boots_the_local_api_a_flow_then_uses(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings(updates={PREFECT_HOME: tmp_path / "prefect-home"}, set_defaults={PREFECT_API_URL: None}):
        thread = _warm_prefect()
        assert thread is not None
        thread.join(timeout=120)
        server = SubprocessASGIServer()
        try:
            assert not thread.is_alive() and server.running  # booted once, here, not by the next client
            with get_client(sync_client=True) as client:
                assert client.api_healthcheck() is None
                assert str(client.api_url).startswith(server.address)  # the same server, not a second one
        finally:
            server.stop()


def test_no_warm_up_when_a_prefect_server_is_configured() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert _warm_prefect() is None  # the configured server is used as it is; nothing local boots
