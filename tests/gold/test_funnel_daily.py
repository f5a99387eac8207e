"""gold.funnel_daily: the declaration reads events; its suite rejects a funnel that widens."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from gold import funnel_daily
from tests.frames import declared, failed_checks, silver_events
from transforms.funnel_daily import funnel_daily as transform

SCHEMA = (
    "session_date date, device string, step int, step_name string, sessions_reached long, "
    "step_conversion double, overall_conversion double"
)


def test_build_is_the_transform_of_events(spark: SparkSession) -> None:
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
            },
            {
                "event_id": "e2",
                "event_ts": "2026-10-01T10:01:00Z",
                "user_id": "u1",
                "session_id": "s1",
                "event_type": "add_to_cart",
                "product_id": "p1",
            },
        ],
    )
    output = funnel_daily.build({"silver.events": events}, None)  # None: no changes to narrow to, build all
    assert output.data is not None
    assertDataFrameEqual(output.data, transform(events))
    reached = {(r.device, r.step): r.sessions_reached for r in output.data.collect()}
    assert reached == {
        ("mobile", 1): 1,
        ("mobile", 2): 1,
        ("mobile", 3): 0,
        ("mobile", 4): 0,
        ("all", 1): 1,
        ("all", 2): 1,
        ("all", 3): 0,
        ("all", 4): 0,
    }


def test_suite_rejects_a_widening_funnel(spark: SparkSession) -> None:
    day = dt.date(2026, 10, 1)
    bad = spark.createDataFrame(
        [
            (day, "all", 1, "product_view", 2, None, 1.0),
            (day, "all", 2, "add_to_cart", 3, 1.5, 1.5),
            (day, "all", 2, "add_to_cart", 1, 0.5, 0.5),
            (day, "all", 5, "refund", 0, 0.0, 0.0),
        ],
        SCHEMA,
    )
    table = declared("gold.funnel_daily")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "session_date,device,step", "critical"),
        ("expect_column_values_to_be_in_set", "step", "critical"),
        ("expect_column_values_to_be_in_set", "step_name", "critical"),
        ("expect_column_values_to_be_between", "step_conversion", "critical"),
        ("expect_column_values_to_be_between", "overall_conversion", "critical"),
    }
