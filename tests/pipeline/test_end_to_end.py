"""The demo data end to end on real Spark + Delta: gold against an independent reading, quarantine, reruns."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse import delta_io
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_path
from tests.generated_run import LAST_DAY, GeneratedRun
from tests.pipeline import independent


@pytest.fixture(scope="module")
def demo_run(generated_run: GeneratedRun) -> GeneratedRun:
    """Five days built from scratch, then the sixth incrementally (shared: ``tests.generated_run``).

    Every test below checks the state after the incremental run, so the incremental path (bronze
    appends of new files only, silver MERGE from the change feed, gold replacing changed dates)
    is what they prove; the last test then compares it with a full refresh.
    """
    return generated_run


def _versions(settings: Settings) -> dict[str, int | None]:
    found = {}
    for layer in ("bronze", "silver", "gold", "quarantine"):
        folder = Path(settings.root) / layer
        for table in sorted(p.name for p in folder.iterdir()) if folder.exists() else []:
            found[f"{layer}.{table}"] = delta_io.table_version(settings, table_path(settings, layer, table))
    return found


def test_gold_daily_kpis_equal_an_independent_reading(spark: SparkSession, demo_run: GeneratedRun) -> None:
    expected = independent.daily_kpis(Path(demo_run.settings.landing), demo_run.pipeline.started_at)
    gold = spark.read.format("delta").load(table_path(demo_run.settings, "gold", "daily_kpis")).collect()
    got = {row.date: row.asDict() for row in gold}
    assert sorted(got) == sorted(expected)
    for day, want in expected.items():
        row = got[day]
        assert row["orders"] == want["orders"], day
        assert row["active_users"] == want["active_users"], day
        assert row["sessions"] == want["sessions"], day
        assert row["new_customers"] == want["new_customers"], day
        assert row["units"] == want["units"], day
        assert abs(row["revenue"] - want["revenue"]) < Decimal("0.000001"), day
        if want["aov"] is None:
            assert row["aov"] is None
        else:
            assert abs(row["aov"] - want["aov"]) < Decimal("0.000001"), day
        assert row["session_conversion_rate"] == pytest.approx(want["session_conversion_rate"], abs=1e-12)
    assert sum(row["orders"] for row in gold) > 50


def test_every_planted_bad_row_is_quarantined_with_its_reason(spark: SparkSession, demo_run: GeneratedRun) -> None:
    settings = demo_run.settings
    quarantined = []
    for table in ("events", "order_lines"):
        frame = spark.read.format("delta").load(table_path(settings, "quarantine", table))
        quarantined += [(r._ingest_file, r._rule, r._reason, r._record) for r in frame.collect()]
    assert all(reason for _, _, reason, _ in quarantined)
    # Exactly the planted rows, no more: count (file, rule) pairs on both sides.
    planted = Counter((fault.file, fault.reason) for fault in demo_run.landing.faults)
    assert Counter((file, rule) for file, rule, _, _ in quarantined) == planted
    # Faults with an id keep it in the quarantined raw record.
    for fault in demo_run.landing.faults:
        if ":" not in fault.key and "|" not in fault.key:
            assert any(f'"{fault.key}"' in record for _, _, _, record in quarantined), fault


def test_silver_collapses_duplicates_and_keeps_latest_order_line(spark: SparkSession, demo_run: GeneratedRun) -> None:
    events = spark.read.format("delta").load(table_path(demo_run.settings, "silver", "events"))
    assert events.count() == events.select("event_id").distinct().count()
    duplicated = set(demo_run.landing.duplicate_event_ids)
    assert events.filter(events.event_id.isin(list(duplicated))).count() == len(duplicated)
    # Counted as deduplicated within a batch; a copy arriving in the later batch collapses in the MERGE.
    assert sum(r.deduplicated or 0 for r in demo_run.first.results if r.table == "silver.events") > 0
    lines = spark.read.format("delta").load(table_path(demo_run.settings, "silver", "order_lines"))
    for key in demo_run.landing.resent_order_lines:
        order_id, line_no = key.split("|")
        kept = lines.filter((lines.order_id == order_id) & (lines.line_no == line_no)).collect()
        assert len(kept) == 1
        assert kept[0]._ingest_file > "orders/orders_" + kept[0].order_date.isoformat()  # the re-sent, later file


def test_row_ledger_balances_for_silver(demo_run: GeneratedRun) -> None:
    from lakehouse.ops import read_ops

    runs = read_ops(demo_run.settings, "pipeline_runs")
    silver = runs[(runs["layer"] == "silver") & (runs["status"] == "written")]
    assert len(silver) >= 2
    for row in silver.itertuples():
        assert row.rows_in == row.rows_written + row.quarantined + row.deduplicated, row.table

    # The same ledger, with its per-rule counts, in ops.quality_results next to the checks.
    results = read_ops(demo_run.settings, "quality_results")
    first = results[(results["run_id"] == demo_run.first.run_id) & (results["table"] == "silver.events")]
    [ledger] = first[first["expectation"] == "row_ledger_balances"].itertuples()
    written = next(r for r in demo_run.first.results if r.table == "silver.events")
    assert ledger.success and f"quarantined={written.quarantined} " in ledger.observed
    rules = first[first["expectation"].str.startswith("quarantine_rule:")]
    in_first_run = [f for f in demo_run.landing.faults if f.file.startswith("events/") and LAST_DAY not in f.file]
    names = rules["expectation"].str.removeprefix("quarantine_rule:")
    assert dict(zip(names, rules["unexpected_count"], strict=True)) == Counter(f.reason for f in in_first_run)


def test_rerun_on_unchanged_landing_writes_no_new_version(spark: SparkSession, demo_run: GeneratedRun) -> None:
    before = _versions(demo_run.settings)
    assert {"bronze.events", "silver.events", "gold.daily_kpis", "quarantine.events"} <= set(before)
    report = Pipeline(demo_run.settings, spark).run()
    assert report.ok
    assert {r.status for r in report.results} == {"skipped"}
    assert _versions(demo_run.settings) == before


def test_ingest_log_records_each_file_once_with_checksum(demo_run: GeneratedRun) -> None:
    from lakehouse.ops import read_ops

    log = read_ops(demo_run.settings, "ingest_log")
    landing_files = {f for f in demo_run.landing.files}
    logged = Counter(zip(log["source"], log["file"], strict=True))
    assert set(f for _, f in logged) == landing_files - set()  # every landing file, no other
    assert all(count == 1 for (source, _), count in logged.items() if source not in ("products", "stock"))
    assert log["checksum"].str.len().eq(64).all()
    assert (log["size"] > 0).all()


def test_quarantine_row_carries_run_and_source(spark: SparkSession, demo_run: GeneratedRun) -> None:
    frame = spark.read.format("delta").load(table_path(demo_run.settings, "quarantine", "events"))
    row = frame.filter("_rule = 'event_ts_in_future'").first()
    assert row is not None
    assert row._run_id == demo_run.first.run_id  # planted in day 3: quarantined by the first run
    assert row._source == "events"
    assert row._ingest_file.startswith("events/")
    assert row._quarantined_at <= dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_incremental_run_replaces_only_the_changed_gold_dates(demo_run: GeneratedRun) -> None:
    from deltalake import DeltaTable

    results = {r.table: r for r in demo_run.report.results}
    for name, column in (("daily_kpis", "date"), ("product_daily", "date"), ("funnel_daily", "session_date")):
        assert results[f"gold.{name}"].status == "written", name
        commit = DeltaTable(table_path(demo_run.settings, "gold", name)).history(1)[0]
        predicate = commit["operationParameters"]["predicate"]
        assert predicate.startswith(f"`{column}` IN ("), (name, predicate)
        assert f"DATE'{LAST_DAY}'" in predicate, (name, predicate)
        assert "DATE'2026-10-01'" not in predicate, (name, predicate)  # untouched by the new day


def test_maintenance_compacts_and_the_next_run_still_skips(spark: SparkSession, demo_run: GeneratedRun) -> None:
    from deltalake import DeltaTable

    from lakehouse.maintenance import maintain_table, select_tables

    settings = demo_run.settings
    with pytest.raises(ValueError, match="unknown table"):
        select_tables(["ops.ingest_log"], ["ops.nope"])
    ingest_log = table_path(settings, "ops", "ingest_log")
    files_before = len(DeltaTable(ingest_log).file_uris())
    assert files_before > 1  # one append per bronze table and run
    versions = _versions(settings)
    # Three tables, one per kind of writer (append, MERGE, overwrite): every table costs seconds here.
    chosen = ("ops.ingest_log", "silver.events", "gold.daily_kpis")
    results = {t: maintain_table(spark, settings, t) for t in chosen}
    assert results["ops.ingest_log"].status == "maintained"
    assert results["ops.ingest_log"].files_added == 1
    assert results["ops.ingest_log"].files_removed == files_before
    assert len(DeltaTable(ingest_log).file_uris()) == 1
    assert results["ops.ingest_log"].files_vacuumed == 0  # nothing is older than 7 days yet
    assert _versions(settings)["gold.daily_kpis"] > versions["gold.daily_kpis"]  # OPTIMIZE/VACUUM commits
    report = Pipeline(settings, spark).run()
    assert {r.status for r in report.results} == {"skipped"}  # maintenance commits are no watermark


def test_backfill_window_rebuilds_identically(spark: SparkSession, demo_run: GeneratedRun) -> None:
    """Runs last: a backfill (full rebuild of silver, window replace in gold) gives the same tables."""
    settings = demo_run.settings

    def snapshot() -> dict[str, list]:
        tables = {}
        for layer, name in [
            ("gold", "daily_kpis"),
            ("silver", "events"),
            ("silver", "order_lines"),
            ("quarantine", "events"),
            ("quarantine", "order_lines"),
        ]:
            frame = spark.read.format("delta").load(table_path(settings, layer, name))
            keep = [
                c for c in frame.columns if c not in ("_run_id", "_quarantined_at", "_ingest_ts", "_ingest_batch_id")
            ]
            tables[f"{layer}.{name}"] = sorted(map(tuple, frame.select(keep).collect()), key=repr)
        return tables

    before = snapshot()
    gold_version = delta_io.table_version(settings, table_path(settings, "gold", "daily_kpis"))
    window = (dt.date(2026, 10, 2), dt.date(2026, 10, 3))
    selected = ["silver.events", "silver.order_lines", "gold.daily_kpis"]
    report = Pipeline(settings, spark, dates=window).run(selected)
    assert report.ok, report.failed
    assert [r.status for r in report.results] == ["written"] * 3
    assert delta_io.table_version(settings, table_path(settings, "gold", "daily_kpis")) == gold_version + 1
    assert snapshot() == before


SNAPSHOT_TABLES = (
    "silver.events", "silver.order_lines", "silver.products", "silver.stock", "silver.experiments",
    "silver.experiment_exposures", "quarantine.events", "quarantine.order_lines",
    "gold.daily_kpis", "gold.product_daily", "gold.category_daily", "gold.fct_user", "gold.retention_cohorts",
    "gold.funnel_daily", "gold.experiment_results", "gold.experiment_daily", "gold.experiment_metrics",
    "gold.experiment_sequential",
)  # fmt: skip
RUN_COLUMNS = ("_run_id", "_quarantined_at")  # which run wrote a row; everything else must match


def _snapshot(spark: SparkSession, settings: Settings) -> dict[str, list]:
    tables = {}
    for table_id in SNAPSHOT_TABLES:
        layer, name = table_id.split(".")
        frame = spark.read.format("delta").load(table_path(settings, layer, name))
        keep = [c for c in frame.columns if c not in RUN_COLUMNS]
        tables[table_id] = sorted(map(tuple, frame.select(keep).collect()), key=repr)
    return tables


def test_full_refresh_equals_the_incremental_run_table_by_table(spark: SparkSession, demo_run: GeneratedRun) -> None:
    """Runs last: five days, then a sixth incrementally, must give exactly what one rebuild gives."""
    incremental = _snapshot(spark, demo_run.settings)
    report = Pipeline(demo_run.settings, spark, full_refresh=True).run()
    assert report.ok, report.failed
    rebuilt = _snapshot(spark, demo_run.settings)
    for table_id in SNAPSHOT_TABLES:
        assert len(rebuilt[table_id]) == len(incremental[table_id]), table_id
        assert rebuilt[table_id] == incremental[table_id], table_id
