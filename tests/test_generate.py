"""Tests of the sample data generator.

The generator is the ground truth for every pipeline test, so these tests re-read its files with
an independent, contract-shaped reader (METRICS.md): if the files and the summary disagree here,
the pipeline would be tested against the wrong expectations.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from devtools.generate import (
    EVENT_TYPES,
    ORDER_HEADER,
    GenerationSummary,
    PlantedFault,
    generate_landing,
    iter_clickstream,
)

START = date(2026, 10, 1)
DAYS = 14
USERS = 1500
SEED = 7
# Ingestion time for the "more than 1 day in the future" rule: after all generated data.
INGESTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
SALE_EXCLUDED = {"cancelled", "returned"}
STATUSES = {"placed", "paid", "shipped", "delivered", "cancelled", "returned"}

_TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?")


def parse_ts(text: Any) -> datetime | None:
    """The contract's timestamp grammar, to UTC; None when unparseable."""
    if not isinstance(text, str):
        return None
    if _TS.fullmatch(text) is None:
        return None
    # Within that grammar, fromisoformat (3.11+) reads every form, and rejects impossible dates.
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def file_date(rel: str) -> date:
    """The date in a landing file name such as ``events/events_2026-10-03.jsonl.gz``."""
    m = re.search(r"\d{4}-\d{2}-\d{2}", rel)
    assert m is not None, rel
    return date.fromisoformat(m.group())


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def classify_event(text: str) -> tuple[str | None, dict[str, Any] | None]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return "malformed_json", None
    if obj.get("event_id") in (None, ""):
        return "missing_event_id", obj
    if obj.get("user_id") in (None, ""):
        return "missing_user_id", obj
    ts = parse_ts(obj.get("event_ts"))
    if ts is None:
        return "unparseable_event_ts", obj
    if str(obj.get("event_type")).lower() not in EVENT_TYPES:
        return "unknown_event_type", obj
    if ts > INGESTED_AT + timedelta(days=1):
        return "event_ts_in_future", obj
    return None, obj


def classify_order(row: list[str]) -> str | None:
    if len(row) != len(ORDER_HEADER):
        return "malformed_csv_row"
    rec = dict(zip(ORDER_HEADER, row, strict=True))
    if not rec["order_id"]:
        return "missing_order_id"
    if parse_ts(rec["order_ts"]) is None:
        return "unparseable_order_ts"
    try:
        quantity = float(rec["quantity"])
    except ValueError:
        return "non_numeric_quantity"
    try:
        price = float(rec["unit_price"])
    except ValueError:
        return "non_numeric_unit_price"
    if quantity <= 0:
        return "non_positive_quantity"
    if price < 0:
        return "negative_unit_price"
    try:
        discount = float(rec["discount"]) if rec["discount"] else 0.0
    except ValueError:
        return "discount_out_of_range"
    if not 0 <= discount <= 1:
        return "discount_out_of_range"
    return None


@dataclass(eq=False)
class Landing:
    """The landing zone as a contract-following reader sees it."""

    root: Path
    summary: GenerationSummary
    flagged: list[PlantedFault]
    # good event lines in ingestion order: (file, line, record, instant)
    events: list[tuple[str, int, dict[str, Any], datetime]]
    # good order rows in ingestion order: (file, line, record)
    orders: list[tuple[str, int, dict[str, str]]]

    @cached_property
    def silver_events(self) -> dict[str, tuple[dict[str, Any], datetime]]:
        """One event per id: the first by event_ts, then by ingestion order."""
        best: dict[str, tuple[dict[str, Any], datetime]] = {}
        for _file, _line, record, instant in self.events:
            current = best.get(record["event_id"])
            if current is None or instant < current[1]:
                best[record["event_id"]] = (record, instant)
        return best

    def silver_orders(self) -> dict[str, dict[str, str]]:
        """One row per order line: the latest ingested version."""
        return {f"{r['order_id']}|{r['line_no']}": r for _f, _l, r in self.orders}


def read_landing(root: Path, summary: GenerationSummary) -> Landing:
    flagged: list[PlantedFault] = []
    events = []
    for path in sorted((root / "events").iterdir()):
        rel = path.relative_to(root).as_posix()
        for line_no, text in enumerate(read_text(path).split("\n")[:-1], start=1):
            reason, obj = classify_event(text)
            if reason is None:
                assert obj is not None
                instant = parse_ts(obj["event_ts"])
                assert instant is not None
                events.append((rel, line_no, obj, instant))
            else:
                by_line = reason in ("malformed_json", "missing_event_id")
                key = f"{rel}:{line_no}" if by_line or obj is None else obj["event_id"]
                flagged.append(PlantedFault("events", key, rel, reason))
    orders = []
    for path in sorted((root / "orders").iterdir()):
        rel = path.relative_to(root).as_posix()
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
        assert rows[0] == list(ORDER_HEADER)
        for line_no, row in enumerate(rows[1:], start=2):
            reason = classify_order(row)
            if reason is None:
                orders.append((rel, line_no, dict(zip(ORDER_HEADER, row, strict=True))))
            else:
                by_line = reason in ("malformed_csv_row", "missing_order_id")
                key = f"{rel}:{line_no}" if by_line else f"{row[0]}|{row[1]}"
                flagged.append(PlantedFault("orders", key, rel, reason))
    return Landing(root, summary, flagged, events, orders)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("landing")
    summary = generate_landing(root, days=DAYS, users=USERS, seed=SEED, start=START)
    return read_landing(root, summary)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    """A smaller zone that still has gzip days, two workbooks, every fault and every duplicate kind."""
    root = tmp_path_factory.mktemp("small")
    return read_landing(root, generate_landing(root, days=8, users=300, seed=SEED, start=START))


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_byte_identical_files(small: Landing, tmp_path: Path) -> None:
    # xlsx included: the generator pins workbook properties and zip member times, so the sha256 of
    # every file must match, not just the cell contents.
    again = generate_landing(tmp_path, days=8, users=300, seed=SEED, start=START)
    assert _digests(tmp_path) == _digests(small.root)
    assert len(_digests(tmp_path)) == len(again.files) == 8 + 8 + 2 + 1
    assert replace(again, landing=small.root) == small.summary


def test_seed_drives_the_data(tmp_path: Path) -> None:
    a = generate_landing(tmp_path / "a", days=3, users=60, seed=1)
    b = generate_landing(tmp_path / "b", days=3, users=60, seed=2)
    assert a.files == b.files
    assert _digests(tmp_path / "a") != _digests(tmp_path / "b")


def test_tiny_ranges_still_plant_every_fault(tmp_path: Path) -> None:
    summary = generate_landing(tmp_path, days=1, users=3, seed=3)
    reasons = Counter(f.reason for f in summary.faults)
    assert reasons["unparseable_event_ts"] == 2 and len(summary.faults) == 14
    assert read_landing(tmp_path, summary).flagged == summary.faults


def test_layout_and_counts(landing: Landing) -> None:
    s = landing.summary
    on_disk = sorted(p.relative_to(landing.root).as_posix() for p in landing.root.rglob("*") if p.is_file())
    assert s.files == on_disk
    days = [START + timedelta(days=i) for i in range(DAYS)]
    expected_events = [f"events/events_{d}.jsonl" + (".gz" if (i + 1) % 3 == 0 else "") for i, d in enumerate(days)]
    assert [f for f in s.files if f.startswith("events/")] == expected_events
    assert [f for f in s.files if f.startswith("orders/")] == [f"orders/orders_{d}.csv" for d in days]
    assert [f for f in s.files if f.startswith("inventory/")] == [
        "inventory/inventory_2026-10-01.xlsx",
        "inventory/inventory_2026-10-08.xlsx",
    ]
    assert "experiments/experiments.json" in s.files
    assert 40_000 <= s.events <= 80_000
    n_event_faults = sum(f.source == "events" for f in s.faults)
    assert s.events == len(landing.events) + n_event_faults
    assert s.order_lines == len(landing.orders) + sum(f.source == "orders" for f in s.faults)
    assert s.products == 60


def test_exactly_the_planted_faults_are_bad(landing: Landing) -> None:
    """A contract-following reader quarantines these rows and no others."""
    planted = landing.summary.faults
    assert len(set(planted)) == len(planted) == 14
    assert sorted(landing.flagged, key=repr) == sorted(planted, key=repr)
    reasons = Counter(f.reason for f in planted)
    assert reasons["unparseable_event_ts"] == 2
    assert set(reasons) == {
        "missing_event_id", "missing_user_id", "unparseable_event_ts", "unknown_event_type",
        "event_ts_in_future", "malformed_json", "missing_order_id", "unparseable_order_ts",
        "non_numeric_quantity", "non_positive_quantity", "negative_unit_price", "discount_out_of_range",
        "malformed_csv_row",
    }  # fmt: skip
    # Early files only, and one of them compressed so quarantine is exercised through gzip too.
    assert {file_date(f.file) for f in planted} <= {date(2026, 10, 2), date(2026, 10, 3)}
    assert any(f.file.endswith(".gz") for f in planted)
    # Bad order rows never reuse a real order id.
    real_ids = {r["order_id"] for _f, _l, r in landing.orders}
    assert not any(f.key.startswith("o-bad") and f.key.split("|")[0] in real_ids for f in planted)


def test_every_file_parses(landing: Landing) -> None:
    json.loads((landing.root / "experiments/experiments.json").read_text("utf-8"))
    for rel in landing.summary.files:
        path = landing.root / rel
        if rel.startswith("inventory/"):
            wb = load_workbook(path)
            assert wb.sheetnames == ["products", "stock"]
    # events and orders were parsed by read_landing; only the planted malformed lines failed there.


def test_event_shape(landing: Landing) -> None:
    silver = landing.silver_events
    records = [r for r, _ts in silver.values()]
    keys = ["event_id", "event_ts", "user_id", "session_id", "event_type", "product_id", "order_id",
            "device", "country", "experiments", "properties"]  # fmt: skip
    assert all(list(r) == keys for r in records)
    ids = re.compile(r"e\d{9}\|u\d{5}\|[A-Z]{2}")
    assert all(ids.fullmatch(f"{r['event_id']}|{r['user_id']}|{r['country']}") for r in records)
    for r in records:
        kind = r["event_type"].lower()
        assert (r["product_id"] is None) == (kind in ("page_view", "search")), r
        assert (r["order_id"] is not None) == (kind == "purchase"), r
        assert r["device"] in ("mobile", "desktop", "tablet", None)
        assert isinstance(r["experiments"], dict) and isinstance(r["properties"], dict)
        if kind == "search":
            assert r["properties"]["query"]
        if kind == "product_view":
            assert r["properties"]["price"] > 0
    n = len(records)
    odd_case = sum(r["event_type"] not in EVENT_TYPES for r in records)
    assert 0.01 * n < odd_case < 0.03 * n
    assert 0 < sum(r["device"] is None for r in records) < 0.03 * n
    texts = [r["event_ts"] for r in records]
    offset = re.compile(r"[+-]\d{2}(:?\d{2})?$")
    with_offset = [t for t in texts if offset.search(t)]
    assert 0.07 * n < len(with_offset) < 0.13 * n
    assert {"colon", "compact", "hours"} == {
        "colon" if t[-3] == ":" else "compact" if t[-5] in "+-" else "hours" for t in with_offset
    }
    crossing = [t for t in with_offset if parse_ts(t).date().isoformat() != t[:10]]  # type: ignore[union-attr]
    assert len(crossing) >= 20
    assert any(t[10] == " " for t in texts)
    assert any("." not in t for t in texts)
    # A session belongs to one user; some sessions cross UTC midnight.
    session_user: dict[str, set[str]] = defaultdict(set)
    session_dates: dict[str, set[date]] = defaultdict(set)
    for r, ts in silver.values():
        session_user[r["session_id"]].add(r["user_id"])
        session_dates[r["session_id"]].add(ts.date())
    assert all(len(users) == 1 for users in session_user.values())
    assert sum(len(d) > 1 for d in session_dates.values()) >= 5
    types = Counter(r["event_type"].lower() for r in records)
    assert set(types) == set(EVENT_TYPES)
    assert types["page_view"] > types["product_view"] > types["add_to_cart"] > types["begin_checkout"]
    assert types["begin_checkout"] > types["purchase"] > types["remove_from_cart"] / 2


def test_kafka_feed_is_the_good_events(small: Landing) -> None:
    """iter_clickstream yields exactly what silver keeps from the files, each event once."""
    feed = list(iter_clickstream(8, 300, SEED, START))
    assert len(feed) == len(small.silver_events)
    assert {e["event_id"]: e for e in feed} == {k: r for k, (r, _ts) in small.silver_events.items()}
    assert [e["event_id"] for e in feed] == sorted(e["event_id"] for e in feed)


def test_duplicate_events(landing: Landing) -> None:
    silver = landing.silver_events
    seen = Counter(r["event_id"] for _f, _l, r, _ts in landing.events)
    duplicated = sorted(k for k, c in seen.items() if c > 1)
    assert duplicated == landing.summary.duplicate_event_ids
    assert 0.005 * len(silver) < len(duplicated) < 0.02 * len(silver)
    # Both kinds exist: exact copies in a later file, and re-stamped copies, some ingested first.
    positions: dict[str, list[tuple[date, int, datetime]]] = defaultdict(list)
    for file, line, r, ts in landing.events:
        positions[r["event_id"]].append((file_date(file), line, ts))
    later_file = later_ts_first = 0
    for event_id in duplicated:
        (f1, _l1, t1), (f2, _l2, t2) = positions[event_id]
        later_file += f2 > f1 and t1 == t2
        later_ts_first += t1 > t2
    assert later_file > 10 and later_ts_first > 10


def test_orders_match_purchases(landing: Landing) -> None:
    silver = landing.silver_events
    orders = landing.silver_orders()
    purchases: dict[str, tuple[dict[str, Any], datetime]] = {}
    for r, ts in sorted(silver.values(), key=lambda item: item[1]):
        if r["event_type"].lower() == "purchase":
            purchases.setdefault(r["order_id"], (r, ts))
    by_order: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in orders.values():
        by_order[row["order_id"]].append(row)
    assert set(purchases) == set(by_order)
    refired = Counter(r["order_id"] for r, _ts in silver.values() if r["event_type"].lower() == "purchase")
    assert any(c > 1 for c in refired.values())  # a purchase event fired twice for one order
    guests = 0
    for order_id, rows in by_order.items():
        event, instant = purchases[order_id]
        assert 1 <= len(rows) <= 4
        assert sorted(int(r["line_no"]) for r in rows) == list(range(1, len(rows) + 1))
        for row in rows:
            assert parse_ts(row["order_ts"]) == instant
            assert row["customer_id"] in ("", event["user_id"])
            assert 1 <= int(row["quantity"]) <= 5 and re.fullmatch(r"\d+\.\d\d", row["unit_price"])
            assert row["discount"] in ("", "0.1", "0.25") and row["status"] in STATUSES
            assert row["country"] == event["country"]
        guests += rows[0]["customer_id"] == ""
    n = len(by_order)
    assert 0.01 * n < guests < 0.06 * n
    status = Counter(r["status"] for r in orders.values())
    assert 0.02 < status["cancelled"] / len(orders) < 0.07 and 0.01 < status["returned"] / len(orders) < 0.07
    # The file of a day holds the orders of that UTC day (re-sent lines aside).
    first_copy: dict[str, tuple[str, dict[str, str]]] = {}
    for file, _line, row in landing.orders:
        first_copy.setdefault(f"{row['order_id']}|{row['line_no']}", (file, row))
    for file, row in first_copy.values():
        assert parse_ts(row["order_ts"]).date() == file_date(file)  # type: ignore[union-attr]


def test_resent_and_repeated_order_rows(landing: Landing) -> None:
    copies: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for file, _line, row in landing.orders:
        copies[f"{row['order_id']}|{row['line_no']}"].append((file, row))
    resent = sorted(k for k, c in copies.items() if len({f for f, _r in c}) > 1)
    assert resent == landing.summary.resent_order_lines
    assert len(resent) >= 0.005 * len(copies)
    for key in resent:
        (f1, r1), (f2, r2) = copies[key]
        assert file_date(f2) == file_date(f1) + timedelta(days=1)
        assert r1["status"] != r2["status"] and {**r1, "status": ""} == {**r2, "status": ""}
    repeated = sorted(k for k, c in copies.items() if len(c) > 1 and len({f for f, _r in c}) == 1)
    assert repeated == landing.summary.duplicate_order_rows and len(repeated) >= 3
    assert all(copies[k][0] == copies[k][1] for k in repeated)


def test_inventory_workbooks(landing: Landing) -> None:
    products = {}
    for rel in ("inventory/inventory_2026-10-01.xlsx", "inventory/inventory_2026-10-08.xlsx"):
        wb = load_workbook(landing.root / rel)
        rows = list(wb["products"].iter_rows(values_only=True))
        assert rows[0] == ("product_id", "name", "category", "brand", "list_price", "cost")
        assert [r[0] for r in rows[1:]] == [f"p{i:04d}" for i in range(1, 61)]
        assert sum(r[2] is None for r in rows[1:]) == 2
        assert all(isinstance(r[4], float) and 0 < r[5] < r[4] for r in rows[1:])
        products[rel] = {r[0]: r for r in rows[1:]}
        stock = list(wb["stock"].iter_rows(values_only=True))
        assert stock[0] == ("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point")
        assert len(stock) == 1 + 60 * 2
        snapshot = datetime.combine(file_date(rel), datetime.min.time())
        assert all(r[0] == snapshot and r[2] in ("north", "south") for r in stock[1:])
        assert all(isinstance(r[3], int) and isinstance(r[4], int) for r in stock[1:])
    first, second = products.values()
    changed = [k for k in first if first[k] != second[k]]
    assert 1 <= len(changed) <= 2
    assert all(first[k][1] != second[k][1] or first[k][4] != second[k][4] for k in changed)


def test_experiments(landing: Landing) -> None:
    experiments = json.loads((landing.root / "experiments/experiments.json").read_text("utf-8"))
    assert len(experiments) == 2
    assert [len(e["variants"]) for e in experiments] == [2, 3]
    for e in experiments:
        assert e["variants"][0] == "control" and list(e["allocation"]) == e["variants"]
        assert math.isclose(sum(e["allocation"].values()), 1.0)
        assert START <= date.fromisoformat(e["start_date"]) <= date.fromisoformat(e["end_date"])
    silver = sorted(landing.silver_events.values(), key=lambda item: item[1])
    windows = {e["experiment_id"]: e for e in experiments}
    exposure: dict[str, dict[str, tuple[datetime, str]]] = defaultdict(dict)
    for r, ts in silver:
        for exp_id, e in windows.items():
            inside = e["start_date"] <= ts.date().isoformat() <= e["end_date"]
            assert (exp_id in r["experiments"]) == inside
            if inside:
                assert r["experiments"][exp_id] in e["variants"]
                exposure[exp_id].setdefault(r["user_id"], (ts, r["experiments"][exp_id]))
    for exp_id, users in exposure.items():
        counts = Counter(v for _ts, v in users.values())
        for variant, share in windows[exp_id]["allocation"].items():
            assert abs(counts[variant] / len(users) - share) < 0.05
    assert set(exposure["exp_checkout_button"]) & set(exposure["exp_recs_layout"])
    # A few users (cookie resets) are later shown the other checkout variant: first exposure decides.
    shown: dict[str, set[str]] = defaultdict(set)
    for r, _ts in silver:
        if "exp_checkout_button" in r["experiments"]:
            shown[r["user_id"]].add(r["experiments"]["exp_checkout_button"])
    assert 0 < sum(len(v) > 1 for v in shown.values()) < 0.02 * len(shown)
    checkout = windows["exp_checkout_button"]
    converters: set[str] = set()
    for r, ts in silver:
        first = exposure["exp_checkout_button"].get(r["user_id"])
        in_window = checkout["start_date"] <= ts.date().isoformat() <= checkout["end_date"]
        if r["event_type"].lower() == "purchase" and first and ts >= first[0] and in_window:
            converters.add(r["user_id"])
    rate = {}
    for variant in ("control", "treatment"):
        exposed = [u for u, (_ts, v) in exposure["exp_checkout_button"].items() if v == variant]
        rate[variant] = len(converters.intersection(exposed)) / len(exposed)
    assert rate["treatment"] > rate["control"] + 0.03, rate


def test_returning_users_and_customers(landing: Landing) -> None:
    user_dates: dict[str, set[date]] = defaultdict(set)
    for r, ts in landing.silver_events.values():
        user_dates[r["user_id"]].add(ts.date())
    assert sum(len(d) > 1 for d in user_dates.values()) > 0.3 * len(user_dates)
    assert len(user_dates) > 0.9 * USERS
    customer_dates: dict[str, set[str]] = defaultdict(set)
    for row in landing.silver_orders().values():
        if row["customer_id"] and row["status"] not in SALE_EXCLUDED:
            customer_dates[row["customer_id"]].add(parse_ts(row["order_ts"]).date().isoformat())  # type: ignore[union-attr]
    assert sum(len(d) > 1 for d in customer_dates.values()) >= 20
