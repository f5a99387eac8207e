"""transforms.fct_user: one row per user seen in events or as a sale line's customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_events, silver_order_lines
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

    def line(
        order_id: str,
        ts: str,
        customer: str,
        quantity: str,
        price: str,
        discount: str = "",
        status: str = "paid",
        line_no: str = "1",
    ) -> dict[str, object]:
        return {
            "order_id": order_id,
            "line_no": line_no,
            "order_ts": ts,
            "customer_id": customer,
            "product_id": "p1",
            "quantity": quantity,
            "unit_price": price,
            "discount": discount,
            "status": status,
        }

    lines = silver_order_lines(
        spark,
        [
            line("o1", "2026-10-02 01:00:00", "u1", "1", "10.00"),
            line("o1", "2026-10-02 01:00:00", "u1", "2", "5.00", discount="0.1", line_no="2"),
            line("o2", "2026-10-04 12:00:00", "u1", "1", "99.00", status="returned"),
            line("o3", "2026-09-30T23:00:00-03:00", "u3", "1", "7.00"),  # u3 is seen only as a customer
            line("o4", "2026-10-02 12:00:00", "", "1", "3.00"),  # a guest: nobody's
            line("o5", "2026-10-02 12:00:00", "u4", "1", "3.00", status="cancelled"),  # u4 has no sale: no row
            line("o6", "2026-10-07 08:00:00", "u1", "1", "1.00"),
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
