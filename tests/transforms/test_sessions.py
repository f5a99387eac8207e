"""transforms.sessions: one row per session_id, dated and typed by its first event.

Sessions are keyed by ``session_id`` (docs/design.md), with no inactivity timeout: a session
whose events span midnight or a long pause stays one session, dated by its first event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_events
from transforms.sessions import sessions

SESSIONS = (
    "session_id string, user_id string, session_date date, device string, session_start timestamp, "
    "has_purchase boolean, events long"
)


def _event(event_id: str, ts: str, session_id: str | None, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "event_ts": ts, "user_id": "u1", "session_id": session_id, **fields}


def test_sessions(spark: SparkSession) -> None:
    events = silver_events(
        spark,
        [
            # s1: starts 10-01 23:50 at -01:00, i.e. 10-02 00:50 UTC; dated 10-02; a purchase later on.
            _event("e1", "2026-10-01T23:50:00-01:00", "s1", device="Desktop"),
            _event("e2", "2026-10-02T01:10:00Z", "s1", device="mobile", event_type="purchase", order_id="o1"),
            # s2: first event in the last second of 10-02 without a device; goes on past midnight
            # and a whole day later: still one session, dated 10-02, device unknown.
            _event("e4", "2026-10-03T00:00:01Z", "s2", device="tablet"),
            _event("e3", "2026-10-02T23:59:59Z", "s2", device=None),
            _event("e5", "2026-10-04T12:00:00Z", "s2", event_type="add_to_cart", product_id="p1"),
            # s3: two events at the same instant: the first ingested decides device and user.
            _event("e6", "2026-10-05T08:00:00Z", "s3", device="tablet", user_id="u2"),
            _event("e7", "2026-10-05T08:00:00Z", "s3", device="mobile", user_id="u3"),
            # No session: in no session row.
            _event("e8", "2026-10-05T09:00:00Z", None, event_type="purchase", order_id="o2"),
        ],
    )
    at = dt.datetime
    expected = spark.createDataFrame(
        [
            ("s1", "u1", dt.date(2026, 10, 2), "desktop", at(2026, 10, 2, 0, 50), True, 2),
            ("s2", "u1", dt.date(2026, 10, 2), "unknown", at(2026, 10, 2, 23, 59, 59), False, 3),
            ("s3", "u2", dt.date(2026, 10, 5), "tablet", at(2026, 10, 5, 8, 0), False, 2),
        ],
        SESSIONS,
    )
    assertDataFrameEqual(sessions(events), expected)


def test_no_events_no_sessions(spark: SparkSession) -> None:
    events = silver_events(spark, [_event("e1", "2026-10-01T10:00:00Z", None)])
    assert sessions(events).collect() == []
