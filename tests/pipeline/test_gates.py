"""A failed critical check stops the hop: nothing downstream is written, and the CLI exits non-zero."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import great_expectations.expectations as gxe
from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from lakehouse import delta_io
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.ops import read_ops
from lakehouse.quality import GateFailed, critical
from lakehouse.reports import run_hooks
from lakehouse.runner import Pipeline
from lakehouse.storage import table_path
from tests.conftest import make_settings


def _strict_kpis() -> list:
    # No day may have an order: false on any real data, so the gold gate must fail.
    return [critical(gxe.ExpectColumnValuesToBeBetween(column="orders", min_value=0, max_value=0))]


def test_failed_gold_gate_writes_no_gold_version(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate_landing(Path(settings.landing), days=2, users=80, seed=3)
    needed = {"bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis"}
    catalog = Catalog(
        [
            dataclasses.replace(t, suite=_strict_kpis) if t.id == "gold.daily_kpis" else t
            for t in load_catalog(settings)
            if t.id in needed
        ]
    )
    report = Pipeline(settings, spark, catalog=catalog).run()

    assert isinstance(report.failed, GateFailed)
    assert report.failed.table == "gold.daily_kpis"
    [failure] = report.failed.failures
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.column == "orders"
    assert failure.unexpected_count == 2  # both days had orders
    assert "gold.daily_kpis" in str(report.failed) and "2 failing rows" in str(report.failed)
    assert delta_io.table_version(settings, table_path(settings, "gold", "daily_kpis")) is None
    assert delta_io.table_version(settings, table_path(settings, "silver", "events")) == 0
    runs = read_ops(settings, "pipeline_runs")
    assert runs.loc[runs["table"] == "gold.daily_kpis", "status"].tolist() == ["failed"]
    results = read_ops(settings, "quality_results")
    failed = results[(results["table"] == "gold.daily_kpis") & ~results["success"]]
    assert failed["unexpected_count"].tolist() == [2]


def test_cli_exits_non_zero_when_bronze_gate_fails(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "events").mkdir(parents=True)
    # Someone exported CSV into the JSON events folder: most lines do not parse.
    (landing / "events" / "events_2026-10-01.jsonl").write_text(
        "event_id,event_ts,user_id\n" + "".join(f"e{i},2026-10-01T10:00:00Z,u{i}\n" for i in range(20)),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "LAKEHOUSE_LANDING": str(landing),
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
    }
    done = subprocess.run(
        # Only the table under test: the rest of the catalog would build on empty sources (35 s).
        [sys.executable, "-m", "cli.main", "run", "--no-prefect", "--table", "bronze.events"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "bronze.events" in errors[0]
    assert "expect_column_values_to_be_null on _corrupt_record: 21 failing rows" in errors[0]
    settings = make_settings(tmp_path)
    assert delta_io.table_version(settings, table_path(settings, "bronze", "events")) is None
    assert "Traceback" not in done.stderr


def test_an_engine_error_is_a_failed_run_row_and_an_alert(spark: SparkSession, tmp_path: Path) -> None:
    """Not only a failed gate: any table failure is recorded in ops.pipeline_runs and alerted."""
    import pytest

    from tests.quality.receiver import Receiver

    def broken_build(_context: object) -> None:
        raise RuntimeError("disk on fire\nsecond line not shown")

    with Receiver() as receiver:
        settings = make_settings(tmp_path, alert_webhook_url=receiver.url)
        generate_landing(Path(settings.landing), days=1, users=20, seed=3)
        catalog = Catalog(
            [dataclasses.replace(t, build=broken_build) for t in load_catalog(settings) if t.id == "bronze.orders"]
        )
        with pytest.raises(RuntimeError, match="disk on fire"):
            Pipeline(settings, spark, catalog=catalog, hooks=run_hooks(settings)).run()

    runs = read_ops(settings, "pipeline_runs")
    row = runs[runs["table"] == "bronze.orders"].iloc[0]
    assert row["status"] == "failed"
    assert row["message"] == "RuntimeError: disk on fire"
    [alert] = [m["json"] for m in receiver.received if m["json"]["type"] == "failure"]
    assert "bronze.orders failed" in alert["title"] and "disk on fire" in alert["message"]
