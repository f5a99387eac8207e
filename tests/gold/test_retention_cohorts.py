"""gold.retention_cohorts: the declaration reads order lines; its suite bounds the rates."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from gold import retention_cohorts
from tests.frames import declared, failed_checks, silver_order_lines


def test_build_reads_order_lines(spark: SparkSession) -> None:
    lines = silver_order_lines(
        spark,
        [
            {
                "order_id": "o1",
                "order_ts": "2026-10-01 11:00:00",
                "customer_id": "u1",
                "product_id": "p1",
                "unit_price": "2.50",
            }
        ],
    )
    output = retention_cohorts.build({"silver.order_lines": lines})
    assert output.data is not None
    month = dt.date(2026, 10, 1)
    assertDataFrameEqual(
        output.data,
        spark.createDataFrame(
            [(month, 0, month, 1, 1, 1.0)],
            "cohort_month date, month_offset int, activity_month date, cohort_size long, active_customers long, "
            "retention_rate double",
        ),
    )


def test_suite_catches_impossible_retention(spark: SparkSession) -> None:
    month = dt.date(2026, 10, 1)
    bad = spark.createDataFrame(
        [(month, 0, month, 2, 3, 1.5), (month, 0, month, 2, 2, 1.0)],
        "cohort_month date, month_offset int, activity_month date, cohort_size long, active_customers long, "
        "retention_rate double",
    )
    table = declared("gold.retention_cohorts")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "cohort_month,month_offset", "critical"),
        ("expect_column_values_to_be_between", "retention_rate", "critical"),
        ("expect_column_pair_values_a_to_be_greater_than_b", None, "critical"),
    }
