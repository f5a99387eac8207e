"""Watermarks and offsets survive log cleanup; a vacuumed change feed means a whole re-read, said once.

A table's watermark (the input versions it was built from) and bronze.clickstream's Kafka offsets
live in commit user metadata, which checkpoints do not carry: once log cleanup has removed the
commits holding them, ``ops.table_state`` still has them. When the input history an incremental
read needs is gone (old commits cleaned up, the files of appended versions vacuumed after an
OPTIMIZE), the table is rebuilt from the whole of its inputs with one warning line, and equals a
full refresh: no silent empty read, no doubled quarantine row.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest
from delta.tables import DeltaTable as SparkDeltaTable
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from ingestion import kafka
from lakehouse import delta_io, ops
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.runner import WATERMARK_KEY, Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_id_path
from tests.conftest import make_settings

TABLES = ("bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis")
DERIVED = ("silver.events", "silver.order_lines", "gold.daily_kpis")
COMPARED = (*DERIVED, "quarantine.events", "quarantine.order_lines")
DAY = 86400


def _lakehouse(tmp_path: Path) -> tuple[Settings, Catalog]:
    settings = make_settings(tmp_path)
    generate_landing(Path(settings.landing), days=3, users=30, seed=5)
    return settings, Catalog([t for t in load_catalog(settings) if t.id in TABLES])


def _clean_up_log(settings: Settings, table_id: str) -> None:
    """Checkpoint the table and remove every older commit, as log cleanup does once they pass retention."""
    path = table_id_path(settings, table_id)
    DeltaTable(path).create_checkpoint()
    latest = f"{DeltaTable(path).version():020d}.json"
    past = time.time() - 40 * DAY  # older than the default 30-day log retention
    for entry in (Path(path) / "_delta_log").glob("*.json"):
        if entry.name != latest:
            os.utime(entry, (past, past))
    DeltaTable(path).cleanup_metadata()


def _contents(spark: SparkSession, settings: Settings) -> dict[str, list[str]]:
    """Every compared table's rows, minus the columns that name the run that wrote them."""
    run_columns = {"_ingest_batch_id", "_ingest_ts", "_quarantined_at", "_run_id", "_processed_at", "_built_at"}
    found = {}
    for table_id in COMPARED:
        frame = spark.read.format("delta").load(table_id_path(settings, table_id))
        frame = frame.drop(*[c for c in frame.columns if c in run_columns])
        found[table_id] = sorted(
            json.dumps(r.asDict(recursive=True), default=str, sort_keys=True) for r in frame.collect()
        )
    return found


def _late_events(spark: SparkSession, settings: Settings) -> None:
    """A new events file: copies of five valid events under new ids, and one line that is not JSON."""
    silver = spark.read.format("delta").load(table_id_path(settings, "silver.events"))
    valid = {row.event_id for row in silver.select("event_id").collect()}
    copies = []
    for line in sorted((Path(settings.landing) / "events").glob("*.jsonl"))[0].read_text().splitlines():
        event = json.loads(line) if line.startswith("{") and line.endswith("}") else None
        if isinstance(event, dict) and event.get("event_id") in valid and len(copies) < 5:
            copies.append(json.dumps({**event, "event_id": f"late-{len(copies)}"}))
    (Path(settings.landing) / "events" / "events_late.jsonl").write_text("\n".join([*copies, "{not json"]) + "\n")


def test_watermarks_survive_log_cleanup(spark: SparkSession, tmp_path: Path) -> None:
    settings, catalog = _lakehouse(tmp_path)
    assert Pipeline(settings, spark, catalog=catalog).run().ok
    for table_id in DERIVED:
        # OPTIMIZE ZORDER rewrites even a one-file table: a newer commit without a watermark.
        table = SparkDeltaTable.forPath(spark, table_id_path(settings, table_id))
        table.optimize().executeZOrderBy(table.toDF().columns[0])
        _clean_up_log(settings, table_id)
        path = table_id_path(settings, table_id)
        assert [c["operation"] for c in DeltaTable(path).history()] == ["OPTIMIZE"], table_id
        assert delta_io.latest_user_metadata(settings, path, WATERMARK_KEY) is None, table_id

    rerun = Pipeline(settings, spark, catalog=catalog).run()
    assert rerun.ok
    assert {r.table: r.message for r in rerun.results if r.table in DERIVED} == dict.fromkeys(
        DERIVED, "inputs unchanged"
    )

    _late_events(spark, settings)
    incremental = Pipeline(settings, spark, catalog=catalog).run()
    assert incremental.ok, incremental.failed
    events = next(r for r in incremental.results if r.table == "silver.events")
    # Read from the mirrored watermark: only the new file's rows (all of bronze would be hundreds).
    assert (events.status, events.rows_written, events.quarantined) == ("written", 5, 1)


def test_vacuumed_change_feed_falls_back_to_a_whole_read(
    spark: SparkSession, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings, catalog = _lakehouse(tmp_path)
    assert Pipeline(settings, spark, catalog=catalog).run().ok
    quarantined = spark.read.format("delta").load(table_id_path(settings, "quarantine.events")).count()
    assert quarantined > 0  # the generated landing holds bad rows: a doubled quarantine would show

    _late_events(spark, settings)
    assert Pipeline(settings, spark, catalog=catalog).run(tables=["bronze.events"]).ok
    bronze = DeltaTable(table_id_path(settings, "bronze.events"))
    bronze.optimize.compact()
    bronze.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)

    with caplog.at_level(logging.WARNING, logger="lakehouse.runner"):
        report = Pipeline(settings, spark, catalog=catalog).run()
    assert report.ok, report.failed
    fallbacks = [r.getMessage() for r in caplog.records if "rebuilding it from the whole of its inputs" in r.message]
    assert len(fallbacks) == 1 and fallbacks[0].startswith("silver.events: the history"), fallbacks
    events = next(r for r in report.results if r.table == "silver.events")
    assert events.status == "written"
    assert spark.read.format("delta").load(table_id_path(settings, "quarantine.events")).count() == quarantined + 1

    after_fallback = _contents(spark, settings)
    assert Pipeline(settings, spark, catalog=catalog, full_refresh=True).run().ok
    assert _contents(spark, settings) == after_fallback


def test_kafka_offsets_survive_log_cleanup(spark: SparkSession, settings: Settings) -> None:
    """The offsets commit is cleaned up; the mirror row the runner keeps for it still plans from them."""
    table_id = "bronze.clickstream"
    path = table_id_path(settings, table_id)
    offsets = {kafka.OFFSETS_KEY: {"clicks": {"0": 40, "1": 12}}}
    spark.range(3).write.format("delta").option("userMetadata", json.dumps(offsets)).save(path)
    ops.append_records(spark, settings, "table_state", [ops.state_record(table_id, 0, offsets, "run-1")])
    spark.range(3, 5).write.format("delta").mode("append").save(path)  # a commit without offsets
    _clean_up_log(settings, table_id)
    assert delta_io.latest_user_metadata(settings, path, kafka.OFFSETS_KEY) is None

    assert kafka.all_committed_offsets(settings, table_id) == offsets[kafka.OFFSETS_KEY]
    # A mirror row above the table's version is another table's past (deleted and rebuilt): not used.
    later = {kafka.OFFSETS_KEY: {"clicks": {"0": 99}}}
    ops.append_records(spark, settings, "table_state", [ops.state_record(table_id, 7, later, "run-2")])
    assert kafka.all_committed_offsets(settings, table_id) == offsets[kafka.OFFSETS_KEY]
