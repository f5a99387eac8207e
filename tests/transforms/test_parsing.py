"""Timestamp, identifier and number parsing: one case per form the contract accepts or rejects."""

from __future__ import annotations

import datetime as dt
import random

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from transforms.parsing import clean_identifier, exact_iso_timestamp, parse_decimal, parse_iso_timestamp

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
    ("2026-10-03T10:00:00+20:00", dt.datetime(2026, 10, 2, 14, 0)),  # beyond Java's +-18:00 offsets
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


def _adversarial_timestamp(rng: random.Random) -> str:
    """Text shaped like the contract's timestamps with every field drawn a little out of range."""

    def two(low: int, high: int) -> str:
        return f"{rng.randint(low, high):02d}"

    text = f"{rng.choice(['2024', '1999', '0001', '9999', '0000'])}-{two(0, 13)}-{two(0, 32)}"
    if rng.random() < 0.85:
        text += rng.choice("T ") + f"{two(0, 25)}:{two(0, 61)}"
        if rng.random() < 0.8:
            text += ":" + two(0, 61)
            if rng.random() < 0.6:
                text += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))
    roll = rng.random()
    if roll < 0.3:
        text += "Z"
    elif roll < 0.7:
        sign, hours, minutes = rng.choice("+-"), two(0, 25), two(0, 61)
        text += rng.choice([f"{sign}{hours}", f"{sign}{hours}:{minutes}", f"{sign}{hours}{minutes}"])
    return f" {text} " if rng.random() < 0.05 else text


def test_fast_reading_equals_the_exact_one(spark: SparkSession) -> None:
    """The cast-based reading gives exactly the part-wise reading's instant, or null where it does."""
    rng = random.Random(20261204)
    texts = [_adversarial_timestamp(rng) for _ in range(4000)]
    frame = spark.createDataFrame([(text,) for text in texts], "raw string").select(
        parse_iso_timestamp(F.col("raw")).alias("fast"), exact_iso_timestamp(F.col("raw")).alias("exact")
    )
    parsed, differing = frame.select(F.count("exact"), F.count_if(~F.col("fast").eqNullSafe(F.col("exact")))).first()
    assert differing == 0
    assert 1000 < parsed < 4000  # the corpus holds both accepted and rejected texts
