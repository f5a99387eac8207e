"""Silver event rules and de-duplication on tiny frames."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from transforms.events import event_rules, first_per_event_id, to_silver_events, typed_events
from transforms.rules import failing, flag_first_failure, passing

INGEST = dt.datetime(2026, 10, 20, 12, 0)
BRONZE_SCHEMA = (
    "event_id string, event_ts string, user_id string, session_id string, event_type string, product_id string, "
    "order_id string, device string, country string, experiments string, properties string, "
    "_corrupt_record string, _ingest_file string, _ingest_seq long, _ingest_ts timestamp, _ingest_batch_id string"
)


def _row(
    event_id,
    ts,
    user="u1",
    event_type="page_view",
    corrupt=None,
    file="events/a.jsonl",
    seq=0,
    ingest=INGEST,
    batch="b1",
):
    return (
        event_id,
        ts,
        user,
        "s1",
        event_type,
        None,
        None,
        "mobile",
        "NL",
        '{"exp": "a"}',
        None,
        corrupt,
        file,
        seq,
        ingest,
        batch,
    )


def test_each_rule_names_its_reason(spark: SparkSession) -> None:
    bronze = spark.createDataFrame(
        [
            _row("e1", "2026-10-01T10:00:00Z"),
            _row(None, None, corrupt="{not json", seq=1),
            _row("", "2026-10-01T10:00:00Z", seq=2),
            _row("e4", "2026-10-01T10:00:00Z", user=None, seq=3),
            _row("e5", "yesterday", seq=4),
            _row("e6", "2026-10-01T10:00:00Z", event_type="teleport", seq=5),
            _row("e7", "2026-10-21T12:00:01Z", seq=6),  # just over 24 h after ingestion
            _row("e8", "2026-10-21T12:00:00Z", event_type="PURCHASE", seq=7),  # exactly 24 h: accepted
        ],
        BRONZE_SCHEMA,
    )
    flagged = flag_first_failure(typed_events(bronze), event_rules(24))
    rules = {(r["_ingest_seq"], r["_rule"]) for r in failing(flagged).collect()}
    assert rules == {
        (1, "malformed_json"),
        (2, "missing_event_id"),
        (3, "missing_user_id"),
        (4, "unparseable_event_ts"),
        (5, "unknown_event_type"),
        (6, "event_ts_in_future"),
    }
    good = to_silver_events(passing(flagged)).collect()
    assert sorted((r.event_id, r.event_type) for r in good) == [("e1", "page_view"), ("e8", "purchase")]


def test_first_copy_by_event_ts_then_ingestion_order(spark: SparkSession) -> None:
    later_batch = INGEST + dt.timedelta(days=1)
    bronze = spark.createDataFrame(
        [
            _row("e1", "2026-10-01T10:00:05Z", file="events/a.jsonl", seq=0),
            _row("e1", "2026-10-01T10:00:00Z", file="events/b.jsonl", seq=0, ingest=later_batch, batch="b2"),
            _row("e2", "2026-10-01T11:00:00Z", file="events/b.jsonl", seq=3),
            _row("e2", "2026-10-01T11:00:00Z", file="events/a.jsonl", seq=9),
        ],
        BRONZE_SCHEMA,
    )
    silver = first_per_event_id(to_silver_events(passing(flag_first_failure(typed_events(bronze), event_rules()))))
    kept = {r.event_id: (r._ingest_file, r.event_ts) for r in silver.collect()}
    assert kept == {
        "e1": ("events/b.jsonl", dt.datetime(2026, 10, 1, 10, 0)),  # earlier event_ts wins over ingestion order
        "e2": ("events/a.jsonl", dt.datetime(2026, 10, 1, 11, 0)),  # same ts: earlier file in path order
    }
