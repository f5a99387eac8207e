"""The pipeline on the Spark standalone cluster gives the same gold as ``local[*]``.

The run is a subprocess with ``LAKEHOUSE_SPARK_MASTER=spark://127.0.0.1:7077`` on local folders
(the worker runs on this machine, so executors see the same paths). It exercises what only a
real cluster shows: executors start the venv's Python (``spark.pyspark.python``), fit the
worker's 2g (``spark.executor.memory=1g``) and fetch the Delta jars from the driver.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from devtools import services
from devtools.services import ServiceStatus
from tests.conftest import make_settings
from tests.services.lakehouse_runs import child_env, read_gold, reference_gold, run_lakehouse, table_args


def _master_state() -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{services.SPARK_MASTER_UI_PORT}/json/", timeout=5) as resp:
        return json.loads(resp.read())


def _our_apps(state: dict[str, Any]) -> list[str]:
    return [app["id"] for app in state.get("completedapps", []) if app.get("name") == "medallion-lakehouse"]


@pytest.mark.services
def test_pipeline_on_the_cluster_matches_local(
    spark_cluster: ServiceStatus, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    reference = reference_gold(tmp_path_factory, spark)
    before = set(_our_apps(_master_state()))
    settings = make_settings(tmp_path)  # root under tmp_path, landing: the shared reference folder
    env = child_env(
        tmp_path,
        {
            "LAKEHOUSE_ROOT": settings.root,
            "LAKEHOUSE_LANDING": str(reference.landing),
            "LAKEHOUSE_SPARK_MASTER": spark_cluster.url,
        },
    )
    out = run_lakehouse(["run", "--no-prefect", *table_args()], env, cwd=tmp_path)
    assert "gold.daily_kpis" in out

    # The run really was an application of the cluster, not a silent local fallback. The master
    # moves it to completedapps when it notices the driver is gone, which can lag the exit a little.
    deadline = time.monotonic() + 30
    while not (finished := [app for app in _our_apps(_master_state()) if app not in before]):
        if time.monotonic() > deadline:
            pytest.fail(f"no finished medallion-lakehouse application on the master: {_master_state()}")
        time.sleep(1)
    assert len(finished) == 1
    assert read_gold(settings, "daily_kpis") == reference.daily_kpis
