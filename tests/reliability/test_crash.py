"""``kill -9`` at any moment, then a rerun: the tables equal one clean run's, nothing lost or doubled.

The run is a real ``lakehouse run`` process killed with SIGKILL to its whole process group (the
JVM included) at several seeded random moments, each followed by the next attempt on the same
root; a last attempt runs to the end. Bronze's files commit with their rows (the commit's user
metadata lists them), so a kill between the data commit and the ingest log cannot make the next
run read them again. Runs build the lineage of gold.daily_kpis: bronze appends, silver MERGEs
with quarantine, a gold overwrite and the ops appends, every kind of write.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import reader_uri, table_path
from tests.conftest import make_settings
from tests.services.lakehouse_runs import DAILY_KPIS_LINEAGE, LAKEHOUSE_BIN, child_env, table_args

TABLES = (*DAILY_KPIS_LINEAGE, "quarantine.events", "quarantine.order_lines")
# Columns that name the run or the moment that wrote a row: everything else must match.
RUN_COLUMNS = {"_ingest_ts", "_ingest_batch_id", "_run_id", "_quarantined_at"}
KILLS = 2


def _content(settings: Settings, table_id: str) -> list[tuple[Any, ...]]:
    layer, name = table_id.split(".")
    rows = DeltaTable(reader_uri(table_path(settings, layer, name))).to_pyarrow_table().to_pylist()
    return sorted((tuple((k, str(v)) for k, v in sorted(r.items()) if k not in RUN_COLUMNS) for r in rows), key=repr)


def _kill_at(args: list[str], env: dict[str, str], cwd: Path, seconds: float) -> int | None:
    """Start ``lakehouse`` and SIGKILL its process group after ``seconds`` (None: it finished first)."""
    with (cwd / "killed.out").open("ab") as out:
        proc = subprocess.Popen(
            [str(LAKEHOUSE_BIN), *args], env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
        )
        try:
            return proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None


def test_sigkill_at_random_moments_then_rerun_equals_a_clean_run(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "killed")
    generate_landing(Path(settings.landing), days=2, users=60, seed=4)
    clean = make_settings(tmp_path / "clean")
    shutil.copytree(settings.landing, clean.landing)
    report = Pipeline(clean, spark).run(list(DAILY_KPIS_LINEAGE))
    assert report.ok, report.failed

    # A killed holder's lease expires after its TTL: keep it short so each retry starts at once.
    env = child_env(tmp_path, {"LAKEHOUSE_ROOT": settings.root, "LAKEHOUSE_LANDING": settings.landing})
    env["LAKEHOUSE_LEASE_TTL_SECONDS"] = "2"
    args = ["run", "--no-prefect", "--wait", *table_args()]
    # Spread over JVM start, bronze appends and silver MERGEs of a run that takes 30-60 s here.
    moments = sorted(random.Random(20261204).uniform(6.0, 20.0) for _ in range(KILLS))
    killed = 0
    for seconds in moments:
        started = time.monotonic()
        code = _kill_at(args, env, tmp_path, seconds)
        killed += code is None
        assert code in (None, 0), (code, (tmp_path / "killed.out").read_text(errors="replace")[-3000:])
        time.sleep(max(0.0, 2.5 - (time.monotonic() - started)))  # let the lease lapse
    assert killed >= 1
    final = subprocess.run([str(LAKEHOUSE_BIN), *args], env=env, cwd=tmp_path, capture_output=True, timeout=900)
    assert final.returncode == 0, final.stderr.decode(errors="replace")[-3000:]

    for table_id in TABLES:
        assert _content(settings, table_id) == _content(clean, table_id), table_id
    log = DeltaTable(reader_uri(table_path(settings, "ops", "ingest_log"))).to_pyarrow_table().to_pylist()
    files = [(row["source"], row["file"]) for row in log]
    assert len(files) == len(set(files))  # each landing file logged once
    clean_log = DeltaTable(reader_uri(table_path(clean, "ops", "ingest_log"))).to_pyarrow_table().to_pylist()
    assert sorted(files) == sorted((row["source"], row["file"]) for row in clean_log)


def test_a_crash_between_the_bronze_commit_and_the_ingest_log_reads_no_file_twice(
    spark: SparkSession, tmp_path: Path, monkeypatch
) -> None:
    """The exact window of the measured defect: rows committed, the ingest log not yet written."""
    from lakehouse import ops

    settings = make_settings(tmp_path)
    generate_landing(Path(settings.landing), days=2, users=40, seed=6)
    real_append = ops.append_records

    def crash_on_the_log(spark_: SparkSession, settings_: Settings, table: str, records: list) -> None:
        if table == "ingest_log" and records:
            raise SystemExit("killed")  # stands in for SIGKILL: nothing after this point runs
        real_append(spark_, settings_, table, records)

    monkeypatch.setattr(ops, "append_records", crash_on_the_log)
    with contextlib.suppress(SystemExit):
        Pipeline(settings, spark).run(["bronze.orders"])
    monkeypatch.setattr(ops, "append_records", real_append)
    rows_after_crash = _content(settings, "bronze.orders")
    assert rows_after_crash  # the data commit happened
    assert ops.read_ops(settings, "ingest_log").empty  # the log write did not

    report = Pipeline(settings, spark).run(["bronze.orders"])

    assert report.ok
    assert [r.status for r in report.results] == ["skipped"]  # nothing new: the commit lists its files
    assert _content(settings, "bronze.orders") == rows_after_crash
    landed = sorted(p.name for p in (Path(settings.landing) / "orders").iterdir())
    logged = ops.read_ops(settings, "ingest_log")
    assert sorted(Path(f).name for f in logged["file"]) == landed  # repaired, each file once
