"""transforms.kpis: one row per UTC date from the first to the last date seen, quiet dates included.

Hand-derived truth (UTC), METRICS.md ``daily_kpis``:

- 10-01: sales o1 (2 x 10 + 1 x 5 x 0.9 = 24.5) and a guest's o2 (3): revenue 27.5, 2 orders,
  aov 13.75, 4 units; u4's o4 is cancelled. Users u1, u2, u3 active; sessions s1, s2 (its purchase
  falls on 10-02, but the session is dated by its first event) and s4: 2 of 3 converted. New
  customers: u1 (the guest is no customer, u4 bought nothing yet).
- 10-02: o5 (2 x 1.25; its cancelled line not counted) and o6 (1): revenue 3.5, 2 orders, 3 units;
  u1's o3 is returned. u2 and u3 active, no session starts (u3's event has none): rate null.
  New: u2 (u1 bought before).
- 10-03: nothing at all (o7 is 23:30 at -01:00, i.e. 10-04 UTC): zeros, null ratios.
- 10-04: o7 (9): u4's first sale, though their first order (cancelled) was on 10-01. Session s3
  without a purchase: rate 0.
- 10-05: only a cancelled line: the date exists (every order line spans the dates), all zeros.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import order_line, silver_events, silver_order_lines
from transforms.kpis import daily_kpis, date_spine

KPIS = (
    "date date, revenue decimal(38,6), orders long, aov decimal(38,6), units decimal(38,4), active_users long, "
    "sessions long, session_conversion_rate double, new_customers long"
)


def _events(spark: SparkSession) -> DataFrame:
    def event(event_id: str, ts: str, user: str, session: str | None, **fields: Any) -> dict[str, Any]:
        return {"event_id": event_id, "event_ts": ts, "user_id": user, "session_id": session, **fields}

    return silver_events(
        spark,
        [
            event("e1", "2026-10-01T10:00:00Z", "u1", "s1"),
            event("e2", "2026-10-01T10:05:00Z", "u1", "s1", event_type="purchase", order_id="o1"),
            event("e3", "2026-10-01T23:30:00Z", "u2", "s2"),
            event("e4", "2026-10-02T00:10:00Z", "u2", "s2", event_type="purchase", order_id="o5"),
            event("e5", "2026-10-01T15:00:00Z", "u3", "s4"),
            event("e6", "2026-10-02T12:00:00Z", "u3", None),
            event("e7", "2026-10-04T09:00:00Z", "u1", "s3"),
        ],
    )


def _lines(spark: SparkSession) -> DataFrame:

    return silver_order_lines(
        spark,
        [
            order_line("o1", "2026-10-01 10:05:00", "u1", "2", "10.00"),
            order_line("o1", "2026-10-01 10:05:00", "u1", "1", "5.00", line_no="2", discount="0.1"),
            order_line("o2", "2026-10-01 11:00:00", "", "1", "3.00"),
            order_line("o4", "2026-10-01 12:00:00", "u4", "1", "50.00", status="cancelled"),
            order_line("o3", "2026-10-02 09:00:00", "u1", "1", "7.00", status="returned"),
            order_line("o5", "2026-10-02T02:10:00+02:00", "u2", "2", "1.25"),
            order_line("o5", "2026-10-02T02:10:00+02:00", "u2", "1", "100.00", status="cancelled", line_no="2"),
            order_line("o6", "2026-10-02 15:00:00", "u1", "1", "1.00"),
            order_line("o7", "2026-10-03T23:30:00-01:00", "u4", "1", "9.00"),
            order_line("o8", "2026-10-05 10:00:00", "u1", "1", "2.00", status="cancelled"),
        ],
    )


def _day(
    day: int,
    revenue: str = "0",
    orders: int = 0,
    aov: str | None = None,
    units: int = 0,
    active: int = 0,
    sessions: int = 0,
    rate: float | None = None,
    new: int = 0,
) -> tuple[Any, ...]:
    """One expected row for 2026-10-``day``; the defaults are a quiet date."""
    return (
        dt.date(2026, 10, day),
        Decimal(revenue),
        orders,
        None if aov is None else Decimal(aov),
        Decimal(units),
        active,
        sessions,
        rate,
        new,
    )


def test_daily_kpis(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            _day(1, "27.5", 2, "13.75", 4, active=3, sessions=3, rate=2 / 3, new=1),
            _day(2, "3.5", 2, "1.75", 3, active=2, new=1),
            _day(3),
            _day(4, "9", 1, "9", 1, active=1, sessions=1, rate=0.0, new=1),
            _day(5),
        ],
        KPIS,
    )
    assertDataFrameEqual(daily_kpis(_events(spark), _lines(spark)), expected, checkRowOrder=True)


def test_daily_kpis_on_a_given_spine(spark: SparkSession) -> None:
    # A date outside the data gets zeros; 10-02's new customer still knows u1 bought on 10-01.
    spine = spark.createDataFrame([(dt.date(2026, 10, 2),), (dt.date(2026, 10, 10),)], "date date")
    expected = spark.createDataFrame([_day(2, "3.5", 2, "1.75", 3, active=2, new=1), _day(10)], KPIS)
    assertDataFrameEqual(daily_kpis(_events(spark), _lines(spark), spine), expected, checkRowOrder=True)


def test_date_spine(spark: SparkSession) -> None:
    # Across a month end; a null date is no bound.
    first = spark.createDataFrame([(dt.date(2026, 10, 2),), (None,)], "date date")
    second = spark.createDataFrame([(dt.date(2026, 9, 30),)], "date date")
    days = [dt.date(2026, 9, 30), dt.date(2026, 10, 1), dt.date(2026, 10, 2)]
    expected = spark.createDataFrame([(day,) for day in days], "date date")
    assertDataFrameEqual(date_spine(first, second), expected)
    nothing = spark.createDataFrame([(None,)], "date date")
    assert date_spine(nothing, nothing.limit(0)).collect() == []
