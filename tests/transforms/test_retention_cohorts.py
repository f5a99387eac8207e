"""transforms.retention_cohorts: monthly cohorts by first sale, with quiet months kept as 0."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_order_lines
from transforms.retention_cohorts import retention_cohorts


def test_retention_cohorts(spark: SparkSession) -> None:
    def line(order_id: str, ts: str, customer: str, status: str = "paid") -> dict[str, object]:
        return {
            "order_id": order_id,
            "order_ts": ts,
            "customer_id": customer,
            "product_id": "p1",
            "unit_price": "1.00",
            "status": status,
        }

    lines = silver_order_lines(
        spark,
        [
            line("o1", "2026-09-15 10:00:00", "c1"),
            line("o2", "2026-11-03 10:00:00", "c1"),  # back after a quiet October
            line("o3", "2026-08-20 10:00:00", "c2", status="cancelled"),  # not a sale: c2's cohort is September
            line("o4", "2026-09-02 10:00:00", "c2"),
            line("o5", "2026-10-09 10:00:00", "c2"),
            line("o6", "2026-08-01 10:00:00", ""),  # a guest sale makes no August cohort
            line("o7", "2026-10-31T23:30:00-02:00", "c3"),  # UTC 11-01: a November customer
            line("o8", "2026-10-05 10:00:00", "c4"),
            line("o9", "2026-11-05 10:00:00", "c4", status="returned"),  # not active in November
        ],
    )
    sep, oct_, nov = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    expected = spark.createDataFrame(
        [
            (sep, 0, sep, 2, 2, 1.0),
            (sep, 1, oct_, 2, 1, 0.5),
            (sep, 2, nov, 2, 1, 0.5),
            (oct_, 0, oct_, 1, 1, 1.0),
            (oct_, 1, nov, 1, 0, 0.0),
            (nov, 0, nov, 1, 1, 1.0),
        ],
        "cohort_month date, month_offset int, activity_month date, cohort_size long, active_customers long, "
        "retention_rate double",
    )
    assertDataFrameEqual(retention_cohorts(lines), expected)
