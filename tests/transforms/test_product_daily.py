"""transforms.product_daily: activity rows per product and UTC date, and the 7-day sales spike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_events, silver_order_lines
from transforms.product_daily import product_daily

SCHEMA = T.StructType(
    [
        T.StructField("date", T.DateType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("views", T.LongType()),
        T.StructField("add_to_carts", T.LongType()),
        T.StructField("units_sold", T.DecimalType(38, 4)),
        T.StructField("revenue", T.DecimalType(38, 6)),
        T.StructField("view_to_purchase_rate", T.DoubleType()),
        T.StructField("sales_spike", T.BooleanType()),
    ]
)


def _event(n: int, ts: str, event_type: str, product_id: str | None) -> dict[str, object]:
    return {
        "event_id": f"e{n}",
        "event_ts": ts,
        "user_id": "u1",
        "session_id": "s1",
        "event_type": event_type,
        "product_id": product_id,
    }


def _line(
    order_id: str,
    ts: str,
    product_id: str,
    quantity: int,
    price: str = "1.00",
    discount: str = "",
    status: str = "paid",
    line_no: str = "1",
) -> dict[str, object]:
    return {
        "order_id": order_id,
        "line_no": line_no,
        "order_ts": ts,
        "customer_id": "u1",
        "product_id": product_id,
        "quantity": str(quantity),
        "unit_price": price,
        "discount": discount,
        "status": status,
    }


def test_product_daily(spark: SparkSession) -> None:
    events = silver_events(
        spark,
        [
            _event(1, "2026-10-01T10:00:00Z", "product_view", "p1"),
            _event(2, "2026-10-01T23:30:00-02:00", "product_view", "p1"),  # UTC 10-02 01:30
            _event(3, "2026-10-02T09:00:00Z", "add_to_cart", "p1"),
            _event(4, "2026-10-02T09:05:00Z", "remove_from_cart", "p1"),  # neither a view nor an add-to-cart
            _event(5, "2026-10-02T09:06:00Z", "page_view", None),
            _event(6, "2026-10-05T12:00:00Z", "product_view", "p2"),  # viewed, nothing sold that day
            _event(7, "2026-10-06T12:00:00Z", "add_to_cart", "p2"),
        ],
    )
    lines = [
        _line("o1", "2026-10-02 10:00:00", "p1", 2, "10.00", discount="0.25"),
        _line("o1", "2026-10-02 10:00:00", "p1", 1, "10.00", status="returned", line_no="2"),
        _line("o2", "2026-10-02 11:00:00", "p1", 5, "10.00", status="cancelled"),
        _line("o3", "2026-10-02T22:00:00-05:00", "p1", 1, "8.00"),  # UTC 10-03 03:00
        # p3: 100 units on 10-02 fall 8 days before 10-10, outside its baseline (10-03..10-09: 4 + 3 = 7).
        _line("o4", "2026-10-02 08:00:00", "p3", 100),
        _line("o5", "2026-10-03 08:00:00", "p3", 4),
        _line("o6", "2026-10-06 08:00:00", "p3", 3),
        _line("o7", "2026-10-10 08:00:00", "p3", 2),  # 2 > 1.5 x 7/7 and the mean is 1: a spike
        _line("o8", "2026-10-11 08:00:00", "p3", 5),  # baseline 3 + 2 = 5, mean < 1: no spike
        # p4: 3 units against a mean of exactly 2 (14 / 7) is not more than 1.5 x 2.
        _line("o9", "2026-10-01 08:00:00", "p4", 14),
        _line("o10", "2026-10-08 08:00:00", "p4", 3),
        _line("o11", "2026-10-09 08:00:00", "p4", 7),
    ]
    actual = product_daily(events, silver_order_lines(spark, lines))

    def row(
        day: int,
        product: str,
        views: int,
        carts: int,
        units: int,
        revenue: str,
        rate: float | None,
        spike: bool = False,
    ) -> tuple:
        return (dt.date(2026, 10, day), product, views, carts, Decimal(units), Decimal(revenue), rate, spike)

    expected = spark.createDataFrame(
        [
            row(1, "p1", 1, 0, 0, "0", 0.0),
            row(2, "p1", 1, 1, 2, "15", 2.0),
            row(3, "p1", 0, 0, 1, "8", None),
            row(5, "p2", 1, 0, 0, "0", 0.0),
            row(6, "p2", 0, 1, 0, "0", None),
            row(2, "p3", 0, 0, 100, "100", None),
            row(3, "p3", 0, 0, 4, "4", None),
            row(6, "p3", 0, 0, 3, "3", None),
            row(10, "p3", 0, 0, 2, "2", None, spike=True),
            row(11, "p3", 0, 0, 5, "5", None),
            row(1, "p4", 0, 0, 14, "14", None),
            row(8, "p4", 0, 0, 3, "3", None),
            row(9, "p4", 0, 0, 7, "7", None),
        ],
        SCHEMA,
    )
    assertDataFrameEqual(actual, expected)
