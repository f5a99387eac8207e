"""gold.fct_user: the declaration reads events and order lines; its suite guards grain and ordering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from gold import fct_user
from tests.frames import declared, failed_checks, silver_events, silver_order_lines
from transforms.fct_user import fct_user as transform


def test_build_is_the_transform_of_its_inputs(spark: SparkSession) -> None:
    events = silver_events(
        spark, [{"event_id": "e1", "event_ts": "2026-10-01T10:00:00Z", "user_id": "u1", "session_id": "s1"}]
    )
    lines = silver_order_lines(
        spark,
        [
            {
                "order_id": "o1",
                "order_ts": "2026-10-01 11:00:00",
                "customer_id": "u2",
                "product_id": "p1",
                "unit_price": "2.50",
            }
        ],
    )
    output = fct_user.build({"silver.events": events, "silver.order_lines": lines})
    assert output.data is not None
    assertDataFrameEqual(output.data, transform(events, lines))
    assert {(r.user_id, r.events, r.orders) for r in output.data.collect()} == {("u1", 1, 0), ("u2", 0, 1)}


def test_suite_catches_duplicates_and_inverted_spans(spark: SparkSession) -> None:
    at, day = dt.datetime(2026, 10, 2), dt.date(2026, 10, 2)
    bad = spark.createDataFrame(
        [
            ("u1", at, at, 1, 1, 0, Decimal(0), None, None),
            ("u1", at, at - dt.timedelta(hours=1), 1, 1, 1, Decimal(1), day, day - dt.timedelta(days=1)),
        ],
        "user_id string, first_seen timestamp, last_seen timestamp, sessions long, events long, orders long, "
        "revenue decimal(38,6), first_order_date date, last_order_date date",
    )
    table = declared("gold.fct_user")
    assert failed_checks(table, bad) == {
        ("expect_column_values_to_be_unique", "user_id", "critical"),
        ("expect_column_pair_values_a_to_be_greater_than_b", None, "critical"),
    }
