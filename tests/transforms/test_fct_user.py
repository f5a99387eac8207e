"""transforms.fct_user: one row per user seen in events or as a sale line's customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import order_line, silver_events, silver_order_lines
from transforms.fct_user import fct_user


def test_fct_user(spark: SparkSession) -> None:
    events = silver_events(
        spark,
        [
            {"event_id": "e1", "event_ts": "2026-10-01T23:50:00-01:00", "user_id": "u1", "session_id": "s1"},
            {
                "event_id": "e2",
                "event_ts": "2026-10-02T01:00:00Z",
                "user_id": "u1",
                "session_id": "s1",
                "event_type": "purchase",
                "order_id": "o1",
                "product_id": "p1",
            },
            {"event_id": "e3", "event_ts": "2026-10-05T10:00:00Z", "user_id": "u1", "session_id": "s2"},
            {"event_id": "e4", "event_ts": "2026-10-03T10:00:00Z", "user_id": "u2", "session_id": "s3"},
            {"event_id": "e5", "event_ts": "2026-10-06T00:00:00Z", "user_id": "u1", "session_id": None},
        ],
    )

    lines = silver_order_lines(
        spark,
        [
            order_line("o1", "2026-10-02 01:00:00", "u1", "1", "10.00"),
            order_line("o1", "2026-10-02 01:00:00", "u1", "2", "5.00", discount="0.1", line_no="2"),
            order_line("o2", "2026-10-04 12:00:00", "u1", "1", "99.00", status="returned"),
            order_line("o3", "2026-09-30T23:00:00-03:00", "u3", "1", "7.00"),  # u3 is seen only as a customer
            order_line("o4", "2026-10-02 12:00:00", "", "1", "3.00"),  # a guest: nobody's
            order_line("o5", "2026-10-02 12:00:00", "u4", "1", "3.00", status="cancelled"),  # u4 has no sale: no row
            order_line("o6", "2026-10-07 08:00:00", "u1", "1", "1.00"),
        ],
    )
    at = dt.datetime
    expected = spark.createDataFrame(
        [
            (
                "u1",
                at(2026, 10, 2, 0, 50),
                at(2026, 10, 7, 8, 0),
                2,
                4,
                2,
                Decimal(20),
                dt.date(2026, 10, 2),
                dt.date(2026, 10, 7),
            ),
            ("u2", at(2026, 10, 3, 10, 0), at(2026, 10, 3, 10, 0), 1, 1, 0, Decimal(0), None, None),
            (
                "u3",
                at(2026, 10, 1, 2, 0),
                at(2026, 10, 1, 2, 0),
                0,
                0,
                1,
                Decimal(7),
                dt.date(2026, 10, 1),
                dt.date(2026, 10, 1),
            ),
        ],
        "user_id string, first_seen timestamp, last_seen timestamp, sessions long, events long, orders long, "
        "revenue decimal(38,6), first_order_date date, last_order_date date",
    )
    assertDataFrameEqual(fct_user(events, lines), expected)
