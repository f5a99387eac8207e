"""Helpers the service tests share: run ``lakehouse`` in a subprocess and read gold without Spark.

Pipelines on MinIO or on the Spark cluster run in subprocesses because a pytest process's first
SparkSession fixes its jars and master for good; the reference run on local folders reuses the
shared in-process ``spark`` fixture and is computed once per session (see :func:`reference_gold`).
Data is tiny (3 days, 150 users) and runs build only the lineage of ``gold.daily_kpis`` (bronze
append, silver MERGE with quarantine, gold overwrite, ops appends: every kind of write), because
the machine has 2 cores, other developers test on it too, and a whole run costs three times as much.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import reader_uri, table_path
from tests.conftest import make_settings

LAKEHOUSE_BIN = Path(sys.executable).with_name("lakehouse")
DAYS, USERS, SEED = 3, 150, 7
# gold.daily_kpis and everything it is built from, in catalog order.
DAILY_KPIS_LINEAGE = ("bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis")
PIPELINE_TIMEOUT = 2400  # seconds; a run takes 1-3 min alone here but far longer when others load the machine


def table_args(tables: tuple[str, ...] = DAILY_KPIS_LINEAGE) -> list[str]:
    """``--table X --table Y ...`` for ``lakehouse run``."""
    return [arg for table in tables for arg in ("--table", table)]


def child_env(tmp_path: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """The environment of a ``lakehouse`` child: the user's LAKEHOUSE_*/PREFECT_* removed, ``settings`` added.

    No ``.env`` is read (LAKEHOUSE_ENV_FILE names a missing file, the cwd is a tmp folder), the
    Ivy cache is the developer's (the 686 MB S3A bundle downloads once per machine, not per test)
    and the Spark driver is kept small.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "PREFECT_", "SPARK_"))}
    env |= {
        "LAKEHOUSE_ENV_FILE": str(tmp_path / "no.env"),
        "LAKEHOUSE_CACHE_DIR": str(Settings(_env_file=None).cache_dir),  # type: ignore[call-arg]
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        # Tests land files right before a run: no settle time for still-being-written files.
        "LAKEHOUSE_LANDING_SETTLE_SECONDS": "0",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PYTHONUNBUFFERED": "1",
    }
    env |= settings
    return env


def run_lakehouse(args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = PIPELINE_TIMEOUT) -> str:
    """Run the ``lakehouse`` CLI and return its stdout; fail the test with the output's tail otherwise.

    Output goes to files in ``cwd`` (not pipes) so a slow run can be watched while it runs and a
    timed-out one still shows how far it got.
    """
    out_path, err_path = cwd / "lakehouse.out", cwd / "lakehouse.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(LAKEHOUSE_BIN), *args], env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        try:
            code: int | str = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = f"nothing within {timeout:.0f} s (killed)"
    stdout = out_path.read_text(errors="replace")
    if code != 0:
        stderr = err_path.read_text(errors="replace")
        pytest.fail(
            f"lakehouse {' '.join(args)} exited {code}\n--- stdout ---\n{stdout[-3000:]}"
            f"\n--- stderr ---\n{stderr[-6000:]}",
            pytrace=False,
        )
    return stdout


def read_gold(settings: Settings, name: str) -> list[dict[str, Any]]:
    """A gold table read with delta-rs (S3 storage options on object storage), rows sorted for comparing."""
    path = table_path(settings, "gold", name)
    options = settings.s3_storage_options() if path.startswith("s3") else None
    rows = DeltaTable(reader_uri(path), storage_options=options).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in sorted(row)))


class Reference:
    """The landing folder every service test uploads or reads, and gold built from it by ``local[*]``."""

    def __init__(self, landing: Path, daily_kpis: list[dict[str, Any]]) -> None:
        self.landing = landing
        self.daily_kpis = daily_kpis


_REFERENCE: dict[str, Reference] = {}


def reference_gold(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> Reference:
    """Generate the landing data once per session and run the pipeline on it in-process (local[*]).

    Memoised at module level rather than as a session fixture so the MinIO and cluster test
    modules share it without touching the services conftest.
    """
    if "ref" not in _REFERENCE:
        base = tmp_path_factory.mktemp("reference")
        settings = make_settings(base)
        generate_landing(Path(settings.landing), days=DAYS, users=USERS, seed=SEED)
        report = Pipeline(settings, spark).run(DAILY_KPIS_LINEAGE)
        assert report.ok, report.failed
        _REFERENCE["ref"] = Reference(Path(settings.landing), read_gold(settings, "daily_kpis"))
    return _REFERENCE["ref"]
