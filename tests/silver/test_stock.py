"""silver.stock: the declaration's build (quarantine, ledger) and its suite."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import STOCK_COLUMNS, bronze, build_declared, declared, failed_checks
from transforms.latest import LATER_INGESTED_WINS
from transforms.stock import KEYS


def test_build_quarantines_and_keeps_latest_snapshot_row(spark: SparkSession) -> None:
    later = {"_ingest_file": "landing/file-2"}  # after the default landing/file-1 in path order
    records = [
        {"snapshot_date": "2026-10-01", "product_id": "p1", "warehouse": "north", "on_hand": "5", "reorder_point": "2"},
        {
            **later,
            "snapshot_date": "2026-10-01",
            "product_id": "p1",
            "warehouse": "north",
            "on_hand": "6",
            "reorder_point": "2",
        },
        {"snapshot_date": "2026-10-01", "product_id": "p1", "warehouse": "south", "on_hand": "1.5"},
        {"snapshot_date": "", "product_id": "p1", "warehouse": "south", "on_hand": "1"},
    ]
    output = build_declared("silver.stock", {"bronze.stock": bronze(spark, STOCK_COLUMNS, records, source="stock")})
    assert output.ledger is not None and output.ledger.balanced
    assert output.ledger.by_rule == {"non_numeric_on_hand": 1, "unparseable_snapshot_date": 1}
    assert (output.ledger.rows_out, output.ledger.deduplicated) == (1, 1)
    assert output.data is not None
    assertDataFrameEqual(
        output.data.select("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point"),
        spark.createDataFrame(
            [(dt.date(2026, 10, 1), "p1", "north", 6, 2)],
            "snapshot_date date, product_id string, warehouse string, on_hand long, reorder_point long",
        ),
    )
    assert declared("silver.stock").merge_condition == LATER_INGESTED_WINS and declared("silver.stock").keys == KEYS


def test_suite_catches_duplicate_keys_and_negative_stock(spark: SparkSession) -> None:
    day = dt.date(2026, 10, 1)
    bad = spark.createDataFrame(
        [(day, "p1", "north", 5, 2), (day, "p1", "north", -1, 2), (day, "p2", "north", None, 2)],
        "snapshot_date date, product_id string, warehouse string, on_hand long, reorder_point long",
    )
    failed = failed_checks(declared("silver.stock"), bad)
    assert failed == {
        ("expect_compound_columns_to_be_unique", "snapshot_date,product_id,warehouse", "critical"),
        ("expect_column_values_to_not_be_null", "on_hand", "critical"),
        ("expect_column_values_to_be_between", "on_hand", "warn"),
    }
