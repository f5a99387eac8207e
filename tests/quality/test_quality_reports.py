"""Quality reporting end to end on real Spark + Delta + GX: Data Docs, monitors, alerts, ``lakehouse quality``.

One module fixture runs two small pipelines on one throwaway lakehouse, with a real HTTP
receiver as the alert webhook:

1. bronze -> silver -> two gold tables, where gold.daily_kpis carries an extra *warn* check that
   fails on any real data and gold.product_daily gets two planted sales spikes; the run succeeds.
2. a full refresh of gold.daily_kpis with a *critical* check that fails: the gate blocks the write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import great_expectations.expectations as gxe
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from typer.testing import CliRunner

from cli.main import app
from devtools.generate import generate_landing
from lakehouse import monitors, reports
from lakehouse.catalog import Catalog, TableDef, load_catalog
from lakehouse.model import InputChanges, InputFrames, RunReport, TableOutput
from lakehouse.ops import read_ops
from lakehouse.quality import GateFailed, critical, suite_name_of, warn
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_path
from tests.conftest import make_settings
from tests.quality.receiver import Receiver

TABLES = (
    "bronze.events",
    "bronze.orders",
    "silver.events",
    "silver.order_lines",
    "gold.daily_kpis",
    "gold.product_daily",
)


@dataclasses.dataclass
class Runs:
    settings: Settings
    receiver: Receiver
    first: RunReport
    second: RunReport
    planted_spikes: list[tuple[str, str]]
    env: dict[str, str]


def _no_orders_warn(table: TableDef) -> TableDef:
    """gold.daily_kpis with a warn check that fails on any day with orders: reported, never blocking."""
    original = table.checks
    assert original is not None
    return dataclasses.replace(
        table,
        suite=lambda: [*original(), warn(gxe.ExpectColumnValuesToBeBetween(column="orders", min_value=0, max_value=0))],
    )


def _no_orders_critical(table: TableDef) -> TableDef:
    return dataclasses.replace(
        table, suite=lambda: [critical(gxe.ExpectColumnValuesToBeBetween(column="orders", min_value=0, max_value=0))]
    )


def _planting_spikes(table: TableDef, planted: list[tuple[str, str]]) -> TableDef:
    """gold.product_daily whose build marks the two first products of its last date as sales spikes.

    Two days of sample data are too short for the real 7-day baseline to flag anything; planting
    keeps the alert test about the alert path, with rows that really are written to gold.
    """
    build = table.build_function()

    def planted_build(inputs: InputFrames, changes: InputChanges | None) -> TableOutput:
        output = build(inputs, changes)
        assert output.data is not None
        last = output.data.agg(F.max("date")).first()[0]
        products = [
            r.product_id
            for r in output.data.filter(F.col("date") == last)
            .select("product_id")
            .orderBy("product_id")
            .limit(2)
            .collect()
        ]
        planted[:] = [(last.isoformat(), str(p)) for p in products]
        spike = (F.col("date") == F.lit(last)) & F.col("product_id").isin(products)
        data = output.data.withColumn("sales_spike", F.col("sales_spike") | spike)
        return dataclasses.replace(output, data=data)

    return dataclasses.replace(table, build=planted_build)


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("quality")
    with Receiver() as receiver:
        settings = make_settings(root, alert_webhook_url=receiver.url, cache_dir=root / "cache")
        generate_landing(Path(settings.landing), days=2, users=60, seed=5)
        planted: list[tuple[str, str]] = []
        tables = {t.id: t for t in load_catalog(settings) if t.id in TABLES}
        tables["gold.daily_kpis"] = _no_orders_warn(tables["gold.daily_kpis"])
        tables["gold.product_daily"] = _planting_spikes(tables["gold.product_daily"], planted)
        hooks = reports.run_hooks(settings)
        first = Pipeline(settings, spark, catalog=Catalog(list(tables.values())), hooks=hooks).run()

        tables["gold.daily_kpis"] = _no_orders_critical(tables["gold.daily_kpis"])
        second = Pipeline(settings, spark, full_refresh=True, catalog=Catalog(list(tables.values())), hooks=hooks).run(
            ["gold.daily_kpis"]
        )
        env = {
            "LAKEHOUSE_ROOT": settings.root,
            "LAKEHOUSE_LANDING": settings.landing,
            "LAKEHOUSE_CACHE_DIR": str(settings.cache_dir),
            "LAKEHOUSE_ENV_FILE": str(root / "no.env"),
        }
        yield Runs(settings, receiver, first, second, planted, env)


def _quality(runs: Runs, *args: str):
    return CliRunner().invoke(app, ["quality", *args], env=runs.env)


def test_warn_failure_does_not_stop_the_run_and_is_listed(runs: Runs) -> None:
    assert runs.first.ok, runs.first.failed
    assert {r.table: r.status for r in runs.first.results} == dict.fromkeys(TABLES, "written")

    done = _quality(runs, "--run", runs.first.run_id)

    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"run {runs.first.run_id}: ")
    warned = [line.split() for line in lines if line.startswith("gold.daily_kpis") and "FAILED" in line]
    # both sample days had orders: 2 failing rows
    assert warned == [["gold.daily_kpis", "expect_column_values_to_be_between", "orders", "warn", "FAILED", "2"]]
    assert "critical  FAILED" not in done.stdout
    for table in TABLES:
        assert any(line.startswith(table) and "monitor_freshness" in line for line in lines), table
    assert f"Data Docs: {Path(runs.settings.root).parent / 'data_docs' / 'index.html'}" in done.stdout


def test_quarantine_counts_by_rule_match_the_run_ledger(runs: Runs) -> None:
    report = reports.run_quality(runs.settings, runs.first.run_id)
    assert report is not None
    by_table: dict[str, int] = {}
    for count in report.quarantine:
        assert count.rule and count.rule != "(all rules)"
        by_table[count.table] = by_table.get(count.table, 0) + count.rows
    expected = {r.table: r.quarantined for r in runs.first.results if r.quarantined}
    assert expected, "the sample data plants bad rows: something must be quarantined"
    assert by_table == expected
    text = reports.format_text(report)
    for count in report.quarantine:
        assert f"  {count.table}  {count.rule}  {count.rows}" in text


def test_critical_failure_exits_2_and_alerts(runs: Runs) -> None:
    assert isinstance(runs.second.failed, GateFailed)
    assert runs.second.failed.table == "gold.daily_kpis"

    latest = _quality(runs)

    assert latest.exit_code == 2, latest.output  # the same code as a run stopped by the gate
    assert latest.stdout.startswith(f"run {runs.second.run_id}: ")
    failed = [line.split() for line in latest.stdout.splitlines() if "FAILED" in line and "critical" in line]
    assert failed == [["gold.daily_kpis", "expect_column_values_to_be_between", "orders", "critical", "FAILED", "2"]]
    assert _quality(runs, "--run", runs.first.run_id).exit_code == 0
    assert _quality(runs, "--run", "no-such-run").exit_code == 1

    alerts = [m for m in runs.receiver.received if m["json"]["type"] == "failure"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["path"] == "/hooks/lakehouse"
    assert alert["content_type"].startswith("application/json")
    assert alert["json"]["title"] == "lakehouse: quality gate failed on gold.daily_kpis"
    assert runs.second.run_id in alert["json"]["message"]
    assert "gold.daily_kpis: expect_column_values_to_be_between on orders: 2 failing rows" in alert["json"]["message"]


def test_sales_spike_alert_names_the_planted_spikes(runs: Runs) -> None:
    assert len(runs.planted_spikes) == 2
    spikes = [m["json"] for m in runs.receiver.received if "sales spike" in m["json"]["title"]]
    assert len(spikes) == 1, runs.receiver.received
    message = spikes[0]["message"]
    assert spikes[0]["type"] == "warning"
    assert runs.first.run_id in message
    for day, product in runs.planted_spikes:
        assert f"- {day} product {product}" in message
    # Exactly the spikes gold holds: the planted ones, and any the data itself has.
    product_daily = DeltaTable(table_path(runs.settings, "gold", "product_daily")).to_pandas()
    flagged = product_daily[product_daily["sales_spike"]]
    assert message.count("\n- ") == len(flagged) >= 2
    for row in flagged.itertuples():
        assert f"- {row.date.isoformat()} product {row.product_id}" in message


def test_data_docs_have_a_page_for_every_suite(runs: Runs) -> None:
    docs = Path(runs.settings.root).parent / "data_docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    for table in TABLES:
        name = suite_name_of(table)
        assert name in index, name
        layer, rest = name.split(".", 1)
        assert (docs / "expectations" / layer / f"{rest}.html").is_file(), name
        pages = list((docs / "validations" / layer / rest / runs.first.run_id).rglob("*.html"))
        assert len(pages) == 1, (name, pages)
        assert table in pages[0].read_text(encoding="utf-8")
    # the second run's (failed) validation has its page too, under its own run id
    assert list((docs / "validations" / "gold" / "daily_kpis-suite" / runs.second.run_id).rglob("*.html"))
    assert runs.second.run_id in index and runs.first.run_id in index


def test_monitors_are_recorded_as_warn_results(runs: Runs) -> None:
    results = read_ops(runs.settings, "quality_results")
    mine = results[(results["run_id"] == runs.first.run_id) & results["expectation"].isin(monitors.MONITORS)]
    assert sorted(zip(mine["table"], mine["expectation"], strict=True)) == sorted(
        (t, m) for t in TABLES for m in monitors.MONITORS
    )
    assert set(mine["severity"]) == {"warn"}
    assert mine["success"].all()  # written seconds ago, first writes
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=runs.settings.freshness_warn_hours + 1)
    stale = [r for r in monitors.check_tables(runs.settings, TABLES, now=later) if r.expectation == monitors.FRESHNESS]
    assert len(stale) == len(TABLES)
    assert not any(r.success for r in stale)
    assert all("h ago" in (r.observed or "") for r in stale)


def test_run_markdown_summarises_checks_quarantine_and_docs(runs: Runs) -> None:
    text = reports.run_markdown(runs.settings, runs.first.run_id)
    assert text.startswith(f"# Quality of run `{runs.first.run_id}`")
    assert "| gold.daily_kpis | expect_column_values_to_be_between | orders | warn | 2 |" in text
    assert "## Monitors" in text
    for table in TABLES:
        assert f"| {table} | ok: last write " in text, table
    assert "## Quarantine" in text and "| silver." in text
    assert str(Path(runs.settings.root).parent / "data_docs" / "index.html") in text
    critical_text = reports.run_markdown(runs.settings, runs.second.run_id)
    assert "**critical check failed**" in critical_text
