"""transforms.stock: whole-number counts, quarantine rules and one row per snapshot key."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.frames import STOCK_COLUMNS, bronze
from transforms.latest import latest_per_key
from transforms.rules import RULE, failing, flag_first_failure, passing
from transforms.stock import KEYS, parse_whole_number, stock_rules, to_silver_stock, typed_stock


def test_parse_whole_number(spark: SparkSession) -> None:
    texts = spark.createDataFrame([("41",), (" 41.0 ",), ("41.5",), ("-3",), ("forty",), ("",), (None,)], "t string")
    actual = texts.select("t", parse_whole_number(F.col("t")).alias("n"))
    expected = spark.createDataFrame(
        [("41", 41), (" 41.0 ", 41), ("41.5", None), ("-3", -3), ("forty", None), ("", None), (None, None)],
        "t string, n long",
    )
    assertDataFrameEqual(actual, expected)


def test_rules_and_latest_snapshot_row(spark: SparkSession) -> None:
    later = {"_ingest_batch_id": "batch-2", "_ingest_ts": dt.datetime(2026, 11, 2)}
    records = [
        {
            "snapshot_date": "2026-10-01",
            "product_id": "p1",
            "warehouse": "north",
            "on_hand": "41",
            "reorder_point": "10",
        },
        {"snapshot_date": "2026-10-01", "product_id": "p1", "warehouse": "south", "on_hand": "7", "reorder_point": ""},
        {"snapshot_date": "01/10/2026", "product_id": "p2", "warehouse": "north", "on_hand": "1"},
        {"snapshot_date": "2026-10-01", "product_id": "", "warehouse": "north", "on_hand": "1"},
        {"snapshot_date": "2026-10-01", "product_id": "p2", "warehouse": " ", "on_hand": "1"},
        {"snapshot_date": "2026-10-01", "product_id": "p2", "warehouse": "north", "on_hand": "lots"},
        # A re-sent workbook in a later batch corrects p1/north.
        {
            **later,
            "snapshot_date": "2026-10-01",
            "product_id": "p1",
            "warehouse": "north",
            "on_hand": "40.0",
            "reorder_point": "10",
        },
    ]
    flagged = flag_first_failure(typed_stock(bronze(spark, STOCK_COLUMNS, records)), stock_rules())
    reasons = spark.createDataFrame(
        [
            ("p2", "unparseable_snapshot_date"),
            (None, "missing_product_id"),
            ("p2", "missing_warehouse"),
            ("p2", "non_numeric_on_hand"),
        ],
        "product_id string, _rule string",
    )
    assertDataFrameEqual(failing(flagged).select("product_id", RULE), reasons)
    silver = latest_per_key(to_silver_stock(passing(flagged)), KEYS)
    expected = spark.createDataFrame(
        [(dt.date(2026, 10, 1), "p1", "north", 40, 10), (dt.date(2026, 10, 1), "p1", "south", 7, None)],
        "snapshot_date date, product_id string, warehouse string, on_hand long, reorder_point long",
    )
    assertDataFrameEqual(silver.select(*KEYS, "on_hand", "reorder_point"), expected)
