"""An independent, pure-Python reading of METRICS.md, straight from the landing files.

It shares no code with the pipeline (no Spark, no transforms), so agreement between
the two is evidence, not tautology. It reads only what the checks below need.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$")
EVENT_TYPES = {"page_view", "product_view", "add_to_cart", "remove_from_cart", "begin_checkout", "purchase", "search"}


def parse_ts(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    m = TS.match(text.strip())
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, offset = m.groups()
    micros = int((frac or "0")[:6].ljust(6, "0"))
    try:
        local = dt.datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micros)
    except ValueError:
        return None
    if offset and offset != "Z":
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            return None
        delta = dt.timedelta(hours=hours, minutes=minutes)
        local = local - delta if offset[0] == "+" else local + delta
    return local


def ident(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _lines(path: Path) -> list[str]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8").splitlines()


def silver_events(landing: Path, ingested_at: dt.datetime) -> list[dict]:
    best: dict[str, tuple] = {}
    for order, path in enumerate(sorted((landing / "events").glob("*.jsonl*"))):
        for line_no, line in enumerate(_lines(path)):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            event_id, user_id = ident(record.get("event_id")), ident(record.get("user_id"))
            ts = parse_ts(record.get("event_ts"))
            event_type = (ident(record.get("event_type")) or "").lower()
            if not event_id or not user_id or ts is None or event_type not in EVENT_TYPES:
                continue
            if ts > ingested_at + dt.timedelta(days=1):
                continue
            key = (ts, order, line_no)
            row = {
                "event_id": event_id,
                "user_id": user_id,
                "ts": ts,
                "event_type": event_type,
                "session_id": ident(record.get("session_id")),
            }
            if event_id not in best or key < best[event_id][0]:
                best[event_id] = (key, row)
    return [row for _, row in best.values()]


def _decimal(text: str | None) -> Decimal | None:
    if text is None or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def silver_order_lines(landing: Path) -> list[dict]:
    latest: dict[tuple[str, str], dict] = {}
    for path in sorted((landing / "orders").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        for fields in rows[1:]:
            if len(fields) != len(header):
                continue
            rec = dict(zip(header, fields, strict=True))
            order_id, line_no = ident(rec["order_id"]), ident(rec["line_no"])
            ts = parse_ts(rec["order_ts"])
            qty, price = _decimal(rec["quantity"]), _decimal(rec["unit_price"])
            discount = Decimal(0) if not rec["discount"].strip() else _decimal(rec["discount"])
            if not order_id or not line_no or ts is None or qty is None or price is None:
                continue
            if qty <= 0 or price < 0 or discount is None or not (0 <= discount <= 1):
                continue
            status = rec["status"].strip().lower()
            latest[(order_id, line_no)] = {
                "order_id": order_id,
                "customer_id": ident(rec["customer_id"]),
                "date": ts.date(),
                "quantity": qty,
                "revenue": qty * price * (1 - discount),
                "sale": status not in ("cancelled", "returned"),
            }
    return list(latest.values())


def daily_kpis(landing: Path, ingested_at: dt.datetime) -> dict[dt.date, dict]:
    events = silver_events(landing, ingested_at)
    lines = silver_order_lines(landing)
    dates = {e["ts"].date() for e in events} | {line["date"] for line in lines}
    day = min(dates)
    out: dict[dt.date, dict] = {}
    while day <= max(dates):
        out[day] = {
            "revenue": Decimal(0),
            "orders": set(),
            "units": Decimal(0),
            "users": set(),
            "sessions": 0,
            "converted": 0,
            "new_customers": 0,
        }
        day += dt.timedelta(days=1)
    first_sale: dict[str, dt.date] = {}
    for line in lines:
        if not line["sale"]:
            continue
        kpi = out[line["date"]]
        kpi["revenue"] += line["revenue"]
        kpi["orders"].add(line["order_id"])
        kpi["units"] += line["quantity"]
        if line["customer_id"]:
            first_sale[line["customer_id"]] = min(first_sale.get(line["customer_id"], line["date"]), line["date"])
    for first in first_sale.values():
        out[first]["new_customers"] += 1
    sessions: dict[str, list] = defaultdict(list)
    for event in events:
        out[event["ts"].date()]["users"].add(event["user_id"])
        if event["session_id"]:
            sessions[event["session_id"]].append(event)
    for session_events in sessions.values():
        start = min(e["ts"] for e in session_events).date()
        out[start]["sessions"] += 1
        out[start]["converted"] += any(e["event_type"] == "purchase" for e in session_events)
    return {
        day: {
            "revenue": k["revenue"],
            "orders": len(k["orders"]),
            "aov": k["revenue"] / len(k["orders"]) if k["orders"] else None,
            "units": k["units"],
            "active_users": len(k["users"]),
            "sessions": k["sessions"],
            "session_conversion_rate": k["converted"] / k["sessions"] if k["sessions"] else None,
            "new_customers": k["new_customers"],
        }
        for day, k in out.items()
    }
