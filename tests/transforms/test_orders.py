"""transforms.orders: typed silver order lines, line revenue, sales, and the latest version of each line.

The quarantine rules of order lines are covered rule by rule in test_quarantine_rules.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_order_lines
from transforms.orders import ORDER_LINE_MERGE_CONDITION, is_sale, latest_per_line

SILVER_COLUMNS = (
    "order_id string, line_no string, order_ts timestamp, order_date date, customer_id string, "
    "product_id string, quantity decimal(18,4), unit_price decimal(18,4), discount decimal(9,6), "
    "line_revenue decimal(38,8), status string, is_sale boolean, country string"
)


def _line(order_id: str, line_no: str = "1", **fields: str | None) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_no": line_no,
        "order_ts": "2026-10-01 10:00:00",
        "customer_id": "u1",
        "product_id": "p1",
        "unit_price": "1.00",
        **fields,
    }


def test_silver_columns_revenue_and_sale_flag(spark: SparkSession) -> None:
    lines = silver_order_lines(
        spark,
        [
            # UTC 10-02 01:30: the order date is the UTC date, not the local one.
            _line("o1", order_ts="2026-10-01T22:30:00-03:00", customer_id=" u1 ", quantity="3", unit_price="2.50"),
            _line("o1", "2", quantity="2", unit_price="19.99", discount="0.15", status="SHIPPED "),
            # The last microsecond of 10-01; a guest (empty customer); 100 % off; returned: no sale.
            _line(
                "o2",
                order_ts="2026-10-01 23:59:59.999999",
                customer_id="",
                quantity="1",
                unit_price="5",
                discount="1",
                status=" Returned ",
            ),
            _line("o3", quantity="0.5", unit_price="4", status="cancelled"),
            _line("o4", status="refunded"),  # not a contract status: kept, and a sale (only 2 are excluded)
            _line("o5", status=""),  # no status: a sale
        ],
    )
    oct1, oct2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
    utc = dt.datetime(2026, 10, 2, 1, 30)
    ten = dt.datetime(2026, 10, 1, 10)
    last = dt.datetime(2026, 10, 1, 23, 59, 59, 999999)
    d = Decimal
    expected = spark.createDataFrame(
        [
            ("o1", "1", utc, oct2, "u1", "p1", d(3), d("2.5"), d(0), d("7.5"), "paid", True, "US"),
            ("o1", "2", ten, oct1, "u1", "p1", d(2), d("19.99"), d("0.15"), d("33.983"), "shipped", True, "US"),
            ("o2", "1", last, oct1, None, "p1", d(1), d(5), d(1), d(0), "returned", False, "US"),
            ("o3", "1", ten, oct1, "u1", "p1", d("0.5"), d(4), d(0), d(2), "cancelled", False, "US"),
            ("o4", "1", ten, oct1, "u1", "p1", d(1), d(1), d(0), d(1), "refunded", True, "US"),
            ("o5", "1", ten, oct1, "u1", "p1", d(1), d(1), d(0), d(1), None, True, "US"),
        ],
        SILVER_COLUMNS,
    )  # fmt: skip
    assertDataFrameEqual(lines.drop("_ingest_file", "_ingest_seq", "_ingest_ts", "_ingest_batch_id"), expected)


def test_is_sale(spark: SparkSession) -> None:
    statuses = spark.createDataFrame([(s,) for s in ("paid", "cancelled", "returned", "delivered", None)], "s string")
    expected = spark.createDataFrame(
        [("paid", True), ("cancelled", False), ("returned", False), ("delivered", True), (None, True)],
        "s string, sale boolean",
    )
    assertDataFrameEqual(statuses.select("s", is_sale(F.col("s")).alias("sale")), expected)


def test_line_revenue_keeps_every_decimal_the_column_holds(spark: SparkSession) -> None:
    # 1.0001 x 1.0001 x (1 - 0.123457) = 0.87671831736543 exactly: 0.87671832 at the column's 8 places.
    lines = silver_order_lines(spark, [_line("o1", quantity="1.0001", unit_price="1.0001", discount="0.123457")])
    assert lines.select("line_revenue").first() == (Decimal("0.87671832"),)


def test_line_revenue_is_exact_at_the_largest_amount_a_line_may_have(spark: SparkSession) -> None:
    # Just under the 10^22 gross limit (the quarantine rule's edge): every digit kept, rounded half up once.
    line = _line("o1", quantity="99999999", unit_price="99999999999999.9999", discount="0.333333")
    lines = silver_order_lines(spark, [line])
    assert lines.select("line_revenue").first() == (Decimal("6666669933333299993333.33006667"),)


def _versions(spark: SparkSession) -> DataFrame:
    day1 = {"_ingest_batch_id": "batch-1", "_ingest_ts": dt.datetime(2026, 11, 1)}
    day2 = {"_ingest_batch_id": "batch-0", "_ingest_ts": dt.datetime(2026, 11, 2)}  # a later run, a smaller id
    records = [
        # (o1, 1): the later run wins, though its file path and position come first.
        {**_line("o1", quantity="1"), **day1, "_ingest_file": "orders/b.csv", "_ingest_seq": 7},
        {**_line("o1", quantity="2"), **day2, "_ingest_file": "orders/a.csv", "_ingest_seq": 0},
        # (o1, 2): one run, two files: the later path wins, whatever the positions.
        {**_line("o1", "2", quantity="3"), **day1, "_ingest_file": "orders/a.csv", "_ingest_seq": 9},
        {**_line("o1", "2", quantity="4"), **day1, "_ingest_file": "orders/b.csv", "_ingest_seq": 0},
        # (o2, 1): one file: the later line wins. (o2, 2) is another line of the same order.
        {**_line("o2", quantity="6"), **day1, "_ingest_file": "orders/a.csv", "_ingest_seq": 4},
        {**_line("o2", quantity="5"), **day1, "_ingest_file": "orders/a.csv", "_ingest_seq": 1},
        {**_line("o2", "2", quantity="7"), **day1, "_ingest_file": "orders/a.csv", "_ingest_seq": 2},
    ]
    return silver_order_lines(spark, records)


def test_latest_version_of_each_line_wins(spark: SparkSession) -> None:
    kept = latest_per_line(_versions(spark)).select("order_id", "line_no", "quantity")
    expected = spark.createDataFrame(
        [("o1", "1", Decimal(2)), ("o1", "2", Decimal(4)), ("o2", "1", Decimal(6)), ("o2", "2", Decimal(7))],
        "order_id string, line_no string, quantity decimal(18,4)",
    )
    assertDataFrameEqual(kept, expected)


def test_merge_condition_lets_only_a_later_version_replace_the_stored_one(spark: SparkSession) -> None:
    versions = _versions(spark).filter((F.col("order_id") == "o1") & (F.col("line_no") == "1"))
    pairs = versions.alias("s").crossJoin(versions.alias("t")).filter(F.expr(ORDER_LINE_MERGE_CONDITION))
    replaced = [
        (r.s, r.t) for r in pairs.select(F.col("s.quantity").alias("s"), F.col("t.quantity").alias("t")).collect()
    ]
    assert replaced == [(Decimal(2), Decimal(1))]  # the later run's copy replaces the earlier one, never the reverse
