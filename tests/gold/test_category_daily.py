"""gold.category_daily: the declaration joins sale lines to products; its suite guards the grain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from gold import category_daily
from tests.frames import declared, failed_checks, silver_order_lines, silver_products


def test_build_reads_order_lines_and_products(spark: SparkSession) -> None:
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
            },
            {
                "order_id": "o2",
                "order_ts": "2026-10-01 12:00:00",
                "customer_id": "u1",
                "product_id": "p2",
                "quantity": "1",
                "unit_price": "4.00",
            },
        ],
    )
    products = silver_products(
        spark,
        [
            {"product_id": "p1", "category": "toys", "list_price": "2.50"},
            {"product_id": "p2", "category": None, "list_price": "4"},
        ],
    )
    output = category_daily.build({"silver.order_lines": lines, "silver.products": products})
    assert output.data is not None
    expected = spark.createDataFrame(
        [
            (dt.date(2026, 10, 1), "toys", Decimal("7.5"), Decimal(3)),
            (dt.date(2026, 10, 1), "unknown", Decimal(4), Decimal(1)),
        ],
        "date date, category string, revenue decimal(38,6), units decimal(38,4)",
    )
    assertDataFrameEqual(output.data, expected)
    assert declared("gold.category_daily").inputs == ("silver.order_lines", "silver.products")


def test_suite_catches_duplicates_and_missing_category(spark: SparkSession) -> None:
    day = dt.date(2026, 10, 1)
    bad = spark.createDataFrame(
        [
            (day, "toys", Decimal(1), Decimal(1)),
            (day, "toys", Decimal(2), Decimal(0)),
            (day, None, Decimal(1), Decimal(1)),
        ],
        "date date, category string, revenue decimal(38,6), units decimal(38,4)",
    )
    table = declared("gold.category_daily")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "date,category", "critical"),
        ("expect_column_values_to_not_be_null", "category", "critical"),
        ("expect_column_values_to_be_between", "units", "critical"),
    }
