"""transforms.funnel_daily: ordered funnel steps per session, by session date and device plus "all"."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_events
from transforms.funnel_daily import funnel_daily

STEP_NAMES = {1: "product_view", 2: "add_to_cart", 3: "begin_checkout", 4: "purchase"}


def test_funnel_daily(spark: SparkSession) -> None:
    rows: list[dict[str, object]] = []

    def session(session_id: str, device: str | None, *steps: tuple[str, str]) -> None:
        for n, (event_type, ts) in enumerate(steps):
            rows.append(
                {
                    "event_id": f"{session_id}-{n}",
                    "event_ts": ts,
                    "user_id": "u1",
                    "session_id": session_id,
                    "event_type": event_type,
                    "device": device,
                    "product_id": None if event_type == "page_view" else "p1",
                }
            )

    # s1 walks the whole funnel in order.
    session(
        "s1",
        "mobile",
        ("product_view", "2026-10-01T10:00:00Z"),
        ("add_to_cart", "2026-10-01T10:01:00Z"),
        ("begin_checkout", "2026-10-01T10:02:00Z"),
        ("purchase", "2026-10-01T10:03:00Z"),
    )
    # s2 adds to cart before viewing: only step 1 is reached in order.
    session(
        "s2",
        "mobile",
        ("add_to_cart", "2026-10-01T09:00:00Z"),
        ("product_view", "2026-10-01T09:01:00Z"),
        ("begin_checkout", "2026-10-01T09:02:00Z"),
    )
    # s3: a tie between view and add-to-cart counts; an early checkout does not, a later one does; the
    # purchase precedes that later checkout, so step 4 is not reached.
    session(
        "s3",
        "desktop",
        ("product_view", "2026-10-01T11:00:00Z"),
        ("add_to_cart", "2026-10-01T11:00:00Z"),
        ("begin_checkout", "2026-10-01T10:59:00Z"),
        ("purchase", "2026-10-01T11:04:00Z"),
        ("begin_checkout", "2026-10-01T11:05:00Z"),
    )
    # s4's first event has no device (unknown) and its view is after UTC midnight: the session's date is 10-01.
    session("s4", None, ("page_view", "2026-10-01T23:59:00Z"))
    rows.append(
        {
            "event_id": "s4-1",
            "event_ts": "2026-10-02T00:01:00Z",
            "user_id": "u1",
            "session_id": "s4",
            "event_type": "product_view",
            "device": "desktop",
            "product_id": "p1",
        }
    )
    # s5 starts at local 10-02 23:30-02:00, UTC 10-03, and never views a product.
    session("s5", "tablet", ("page_view", "2026-10-02T23:30:00-02:00"))
    # s6 purchases without any product view: reaches no step.
    session("s6", "mobile", ("purchase", "2026-10-01T12:00:00Z"))

    def steps(
        day: int, device: str, reached: list[int], step_conv: list[float | None], overall: list[float | None]
    ) -> list[tuple]:
        return [
            (dt.date(2026, 10, day), device, n, STEP_NAMES[n], reached[n - 1], step_conv[n - 1], overall[n - 1])
            for n in range(1, 5)
        ]

    nothing = [None] * 4
    expected = spark.createDataFrame(
        [
            *steps(1, "mobile", [2, 1, 1, 1], [None, 0.5, 1.0, 1.0], [1.0, 0.5, 0.5, 0.5]),
            *steps(1, "desktop", [1, 1, 1, 0], [None, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]),
            *steps(1, "unknown", [1, 0, 0, 0], [None, 0.0, None, None], [1.0, 0.0, 0.0, 0.0]),
            *steps(1, "all", [4, 2, 2, 1], [None, 0.5, 1.0, 0.5], [1.0, 0.5, 0.5, 0.25]),
            *steps(3, "tablet", [0, 0, 0, 0], nothing, nothing),
            *steps(3, "all", [0, 0, 0, 0], nothing, nothing),
        ],
        "session_date date, device string, step int, step_name string, sessions_reached long, "
        "step_conversion double, overall_conversion double",
    )
    assertDataFrameEqual(funnel_daily(silver_events(spark, rows)), expected)
