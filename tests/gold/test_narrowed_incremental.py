"""An incremental gold build that recomputes only the dates a change reached equals a full rebuild.

The second batch is late and corrective, not just a new day: an event that moves a session's
start to the day before, a re-delivered event that moves to another day (a MERGE update), an
order that moves a customer's first sale date back, and a re-delivered order line with a new
quantity. Every table counts as large here, so the narrowing path runs on tiny data.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from devtools.generate import generate_landing
from lakehouse import delta_io
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.runner import BuildContext, Pipeline
from lakehouse.storage import table_path
from tests.conftest import make_settings

GOLD = ("daily_kpis", "funnel_daily", "product_daily")
TABLES = {"bronze.events", "bronze.orders", "silver.events", "silver.order_lines", *(f"gold.{n}" for n in GOLD)}


def _late_batch(landing: Path) -> None:
    events = [json.loads(line) for p in sorted((landing / "events").glob("*.jsonl")) for line in p.open()]
    events = [e for e in events if isinstance(e, dict) and e.get("session_id") and e.get("event_ts")]
    first_seen: dict[str, str] = {}
    for event in sorted(events, key=lambda e: e["event_ts"]):
        first_seen.setdefault(event["session_id"], event["event_ts"])
    session = next(s for s, ts in sorted(first_seen.items()) if ts.startswith("2026-10-03"))
    template = next(e for e in events if e["session_id"] == session)
    early = {**template, "event_id": "late-0001", "event_ts": "2026-10-02T23:59:00Z", "event_type": "product_view"}
    early["product_id"] = "p0001"
    moved = next(e for e in events if e["event_ts"].startswith("2026-10-04") and e["event_type"] == "add_to_cart")
    moved = {**moved, "event_ts": "2026-10-01T12:00:00Z"}  # an earlier copy: it wins the MERGE
    (landing / "events" / "events_late.jsonl").write_text(json.dumps(early) + "\n" + json.dumps(moved) + "\n")

    rows = [r for p in sorted((landing / "orders").glob("*.csv")) for r in csv.DictReader(p.open())]
    firsts: dict[str, str] = defaultdict(lambda: "9999")
    for row in rows:
        if row["customer_id"] and row["status"].strip().lower() not in ("cancelled", "returned"):  # a sale
            firsts[row["customer_id"]] = min(firsts[row["customer_id"]], row["order_ts"])
    customer = next(c for c, ts in sorted(firsts.items()) if ts.startswith("2026-10-03"))
    header = list(rows[0])
    template = next(r for r in rows if r["customer_id"] == customer)
    back = {**template, "order_id": "late-o1", "line_no": "1", "order_ts": "2026-10-01 09:00:00", "status": "delivered"}
    requantified = next(r for r in rows if r["order_ts"].startswith("2026-10-02") and r["status"] == "delivered")
    requantified = {**requantified, "quantity": str(int(requantified["quantity"]) + 3)}
    with (landing / "orders" / "orders_late.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows([back, requantified])


def _gold(spark: SparkSession, settings) -> dict[str, list]:
    return {
        name: sorted(
            map(tuple, spark.read.format("delta").load(table_path(settings, "gold", name)).collect()), key=repr
        )
        for name in GOLD
    }


def _narrowing_needs_a_long_enough_history(spark: SparkSession, settings, catalog: Catalog) -> None:
    """The span of silver.events' dates comes from its log; narrowing waits for ``narrow_min_days`` of them."""
    events = spark.read.format("delta").load(table_path(settings, "silver", "events"))
    first, last = events.agg(F.min("event_date"), F.max("event_date")).first()
    span = (last - first).days + 1
    path = table_path(settings, "silver", "events")
    assert delta_io.date_span_days(settings, path, "event_date") == span >= 4
    assert delta_io.date_span_days(settings, path, "no_such_column") is None

    def worth(min_days: int) -> bool:
        adjusted = settings.model_copy(update={"narrow_min_days": min_days})
        context = BuildContext(Pipeline(adjusted, spark, catalog=catalog), catalog.get("gold.daily_kpis"), {}, {})
        return context.worth_narrowing("silver.events")

    assert worth(span) and not worth(span + 1)


def test_narrowed_incremental_gold_equals_a_full_rebuild(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, small_table_bytes=0, narrow_input_bytes=0, narrow_min_days=0)
    landing = Path(settings.landing)
    generate_landing(landing, days=4, users=60, seed=9)
    catalog = Catalog([t for t in load_catalog(settings) if t.id in TABLES])
    assert Pipeline(settings, spark, catalog=catalog).run().ok
    _narrowing_needs_a_long_enough_history(spark, settings, catalog)
    _late_batch(landing)

    report = Pipeline(settings, spark, catalog=catalog).run()
    assert report.ok, report.failed
    for name, column in (("daily_kpis", "date"), ("funnel_daily", "session_date"), ("product_daily", "date")):
        commit = DeltaTable(table_path(settings, "gold", name)).history(1)[0]
        assert commit["operationParameters"]["predicate"].startswith(f"`{column}` IN ("), name  # narrowed
    kpis_predicate = DeltaTable(table_path(settings, "gold", "daily_kpis")).history(1)[0]["operationParameters"]
    # The moved session start (10-02), the moved event (10-01 and 10-04), the moved first sale (10-01, 10-03).
    for day in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"):
        assert f"DATE'{day}'" in kpis_predicate["predicate"], day
    incremental = _gold(spark, settings)

    assert Pipeline(settings, spark, catalog=catalog, full_refresh=True).run().ok
    rebuilt = _gold(spark, settings)
    for name in GOLD:
        assert rebuilt[name] == incremental[name], name
