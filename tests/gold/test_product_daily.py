"""gold.product_daily: the declaration reads events and order lines and its suite guards the grain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from gold import product_daily
from tests.frames import declared, failed_checks, silver_events, silver_order_lines
from transforms.product_daily import product_daily as transform


def test_build_is_the_transform_of_its_inputs(spark: SparkSession) -> None:
    events = silver_events(
        spark,
        [
            {
                "event_id": "e1",
                "event_ts": "2026-10-01T10:00:00Z",
                "user_id": "u1",
                "session_id": "s1",
                "event_type": "product_view",
                "product_id": "p1",
            }
        ],
    )
    lines = silver_order_lines(
        spark,
        [
            {
                "order_id": "o1",
                "order_ts": "2026-10-01 11:00:00",
                "customer_id": "u1",
                "product_id": "p1",
                "quantity": "3",
                "unit_price": "2.50",
            }
        ],
    )
    output = product_daily.build({"silver.events": events, "silver.order_lines": lines}, None)
    assert output.data is not None
    assertDataFrameEqual(output.data, transform(events, lines))
    [row] = output.data.collect()
    assert (row.views, row.units_sold, row.revenue, row.view_to_purchase_rate) == (1, 3, Decimal("7.5"), 3.0)
    table = declared("gold.product_daily")
    assert (table.inputs, table.keys, table.write) == (
        ("silver.events", "silver.order_lines"),
        ("product_id", "date"),
        "overwrite",
    )


def test_suite_catches_duplicates_and_negative_measures(spark: SparkSession) -> None:
    day = dt.date(2026, 10, 1)
    bad = spark.createDataFrame(
        [
            (day, "p1", 1, 0, Decimal(1), Decimal(1), 1.0, False),
            (day, "p1", -1, 0, Decimal(0), Decimal(0), None, False),
        ],
        "date date, product_id string, views long, add_to_carts long, units_sold decimal(38,4), "
        "revenue decimal(38,6), view_to_purchase_rate double, sales_spike boolean",
    )
    table = declared("gold.product_daily")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "product_id,date", "critical"),
        ("expect_column_values_to_be_between", "views", "critical"),
    }
