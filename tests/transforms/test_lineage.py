"""transforms.lineage: the lineage columns and the ingestion order they define."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from transforms.lineage import LINEAGE, ingestion_order


def test_lineage_columns() -> None:
    assert LINEAGE == ("_ingest_file", "_ingest_seq", "_ingest_ts", "_ingest_batch_id")


def test_ingestion_order_is_run_time_then_batch_then_path_then_position(spark: SparkSession) -> None:
    day1, day2 = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2)
    rows = spark.createDataFrame(
        [
            ("5th", day2, "b-0", "events/a.jsonl", 0),  # a later run first, whatever its batch id
            ("3rd", day1, "b-1", "events/b.jsonl", 0),
            ("2nd", day1, "b-1", "events/a.jsonl", 10),  # positions compare as numbers
            ("4th", day1, "b-2", "events/a.jsonl", 0),
            ("1st", day1, "b-1", "events/a.jsonl", 2),
        ],
        "name string, _ingest_ts timestamp, _ingest_batch_id string, _ingest_file string, _ingest_seq long",
    )
    ordered = [r.name for r in rows.orderBy(*ingestion_order()).collect()]
    assert ordered == ["1st", "2nd", "3rd", "4th", "5th"]
