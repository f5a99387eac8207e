"""Small tables take the cheap write paths: whole gold replace, MERGE without probe, no empty quarantine commit.

At the default ``small_table_bytes`` every table of a tiny lakehouse is small; the end-to-end test
sets it to 0 so the paths that matter at scale (changed dates only, update probe) run there.
"""

from __future__ import annotations

import json
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from lakehouse import delta_io
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.runner import Pipeline
from lakehouse.storage import table_path
from tests.conftest import make_settings

TABLES = {"bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis"}
LAST_DAY = "2026-10-03"


def test_incremental_run_on_small_tables(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate_landing(Path(settings.landing), days=3, users=60, seed=5)
    held_back = tmp_path / "held-back"
    held_back.mkdir()
    for path in [p for p in Path(settings.landing).rglob("*") if p.is_file() and LAST_DAY in p.name]:
        path.rename(held_back / path.name)
    catalog = Catalog([t for t in load_catalog(settings) if t.id in TABLES])
    assert Pipeline(settings, spark, catalog=catalog).run().ok
    quarantine_before = {
        name: delta_io.table_version(settings, table_path(settings, "quarantine", name))
        for name in ("events", "order_lines")
    }
    for path in held_back.iterdir():
        folder = "events" if path.name.startswith("events") else "orders"
        path.rename(Path(settings.landing) / folder / path.name)
    # A clean order file of the new day: its silver batch quarantines nothing.
    orders_header = next((Path(settings.landing) / "orders").glob("*.csv")).read_text().splitlines()[0]
    (Path(settings.landing) / "orders" / "orders_extra.csv").write_text(orders_header + "\n")

    report = Pipeline(settings, spark, catalog=catalog).run()

    assert report.ok, report.failed
    results = {r.table: r for r in report.results}
    kpis = DeltaTable(table_path(settings, "gold", "daily_kpis"))
    commit = kpis.history(1)[0]
    assert commit["operation"] == "WRITE"
    assert "predicate" not in commit["operationParameters"]  # replaced whole, no changed-dates pass
    assert sorted(str(d) for d in kpis.to_pandas()["date"]) == ["2026-10-01", "2026-10-02", LAST_DAY]
    merge = DeltaTable(table_path(settings, "silver", "events")).history(1)[0]
    assert merge["operation"] == "MERGE"
    assert json.loads(merge["operationParameters"]["matchedPredicates"])  # update clause kept: no probe
    for name, table_id in (("events", "silver.events"), ("order_lines", "silver.order_lines")):
        version = delta_io.table_version(settings, table_path(settings, "quarantine", name))
        quarantined = results[table_id].quarantined
        assert quarantined is not None
        expected = quarantine_before[name] if quarantined == 0 else (quarantine_before[name] or 0) + 1
        assert version == expected, (name, quarantined)
    assert any(results[t].quarantined == 0 for t in ("silver.events", "silver.order_lines"))
