"""Timestamp, identifier and number parsing: one case per form the contract accepts or rejects."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from transforms.parsing import clean_identifier, parse_decimal, parse_iso_timestamp

UTC_CASES = [
    ("2026-10-03T14:05:09.123456Z", dt.datetime(2026, 10, 3, 14, 5, 9, 123456)),
    ("2026-10-03T14:05:09Z", dt.datetime(2026, 10, 3, 14, 5, 9)),
    ("2026-10-03 14:05:09", dt.datetime(2026, 10, 3, 14, 5, 9)),
    ("2026-10-03T14:05", dt.datetime(2026, 10, 3, 14, 5)),
    ("2026-10-03", dt.datetime(2026, 10, 3)),
    ("2026-10-03T01:30:00+02:00", dt.datetime(2026, 10, 2, 23, 30)),  # crosses midnight backwards
    ("2026-10-03T22:00:00-0530", dt.datetime(2026, 10, 4, 3, 30)),  # crosses midnight forwards
    ("2026-10-03T10:00:00+05", dt.datetime(2026, 10, 3, 5, 0)),
    ("2026-10-03T10:00:00.1234567Z", dt.datetime(2026, 10, 3, 10, 0, 0, 123456)),  # microsecond precision
    ("2026-10-03T10:00:00.5", dt.datetime(2026, 10, 3, 10, 0, 0, 500000)),
]
REJECTED = [
    "2026-13-45T99:00:00",
    "yesterday",
    "03/10/2026 10:00",
    "2026-02-30",
    "2026-10-03T10",
    "",
    None,
    "2026-10-03T10:00:00+5",
    "20261003",
]


def test_accepted_timestamps_become_utc(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(text,) for text, _ in UTC_CASES], "raw string")
    got = dict(frame.select("raw", parse_iso_timestamp(F.col("raw")).alias("ts")).collect())
    assert got == dict(UTC_CASES)


def test_rejected_timestamps_are_null(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(text,) for text in REJECTED], "raw string")
    parsed = frame.select("raw", parse_iso_timestamp(F.col("raw")).alias("ts")).collect()
    assert {row.raw: row.ts for row in parsed} == dict.fromkeys(REJECTED)


def test_identifiers_and_numbers(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(" u1 ", "2.50"), ("", "two"), ("  ", "-1"), (None, "1e3")], "id string, n string")
    rows = frame.select(clean_identifier(F.col("id")).alias("id"), parse_decimal(F.col("n")).alias("n")).collect()
    from decimal import Decimal

    assert [(r.id, r.n) for r in rows] == [
        ("u1", Decimal("2.5000")),
        (None, None),
        (None, Decimal("-1.0000")),
        (None, None),
    ]
