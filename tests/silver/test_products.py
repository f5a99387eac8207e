"""silver.products: the declaration's build (quarantine, ledger), its MERGE condition and its suite."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from lakehouse import delta_io
from lakehouse.model import TableOutput
from tests.frames import PRODUCT_COLUMNS, bronze, build_declared, declared, failed_checks

BATCH_2 = {"_ingest_ts": dt.datetime(2026, 11, 2), "_ingest_batch_id": "batch-2"}


def _build(spark: SparkSession, records: list[dict[str, object]]) -> TableOutput:
    return build_declared(
        "silver.products", {"bronze.products": bronze(spark, PRODUCT_COLUMNS, records, source="products")}
    )


def test_build_quarantines_and_balances(spark: SparkSession) -> None:
    output = _build(
        spark,
        [
            {"product_id": "p1", "name": "Lamp", "category": "home", "list_price": "10", "cost": "4"},
            {"product_id": "p1", "name": "Lamp", "category": "home", "list_price": "11", "cost": "4"},
            {"product_id": "p2", "name": "Kite", "category": "", "list_price": "ten"},
            {"product_id": None, "name": "Ghost", "list_price": "1"},
        ],
    )
    assert output.ledger is not None and output.ledger.balanced
    assert (output.ledger.rows_in, output.ledger.rows_out, output.ledger.quarantined, output.ledger.deduplicated) == (
        4,
        1,
        2,
        1,
    )
    assert output.ledger.by_rule == {"missing_product_id": 1, "non_numeric_list_price": 1}
    assert output.data is not None and output.quarantine is not None
    assertDataFrameEqual(
        output.data.select("product_id", "list_price"),
        spark.createDataFrame([("p1", Decimal("11.0000"))], "product_id string, list_price decimal(18,4)"),
    )
    quarantined = {(r._rule, r._reason, '"ten"' in r._record, r._source) for r in output.quarantine.collect()}
    assert quarantined == {
        ("non_numeric_list_price", "list_price is missing or not a number", True, "products"),
        ("missing_product_id", "product_id is missing or empty", False, "products"),
    }


def test_merge_keeps_the_latest_ingested_row(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "products")
    first = _build(
        spark,
        [
            {"product_id": "p1", "name": "Lamp", "category": "home", "list_price": "10"},
            {"product_id": "p2", "name": "Kite", "category": "toys", "list_price": "5"},
        ],
    )
    assert first.data is not None
    delta_io.merge(
        first.data, path, declared("silver.products").keys, update_condition=declared("silver.products").merge_condition
    )
    # The next batch re-prices p1 and adds p3; a replayed copy of p2 from an earlier batch must not win.
    second = _build(
        spark,
        [
            {**BATCH_2, "product_id": "p1", "name": "Lamp (2nd gen)", "category": "home", "list_price": "12"},
            {**BATCH_2, "product_id": "p3", "name": "Vase", "list_price": "30"},
            {"_ingest_ts": dt.datetime(2026, 10, 31), "product_id": "p2", "name": "Old kite", "list_price": "4"},
        ],
    )
    assert second.data is not None
    delta_io.merge(
        second.data,
        path,
        declared("silver.products").keys,
        update_condition=declared("silver.products").merge_condition,
    )
    expected = spark.createDataFrame(
        [("p1", "Lamp (2nd gen)", Decimal(12)), ("p2", "Kite", Decimal(5)), ("p3", "Vase", Decimal(30))],
        "product_id string, name string, list_price decimal(18,4)",
    )
    assertDataFrameEqual(delta_io.read_table(spark, path).select("product_id", "name", "list_price"), expected)


def test_suite_catches_duplicates_and_missing_prices(spark: SparkSession) -> None:
    bad = spark.createDataFrame(
        [("p1", "home", Decimal(1), Decimal(1)), ("p1", None, None, Decimal(-1)), ("p2", "toys", Decimal(2), None)],
        "product_id string, category string, list_price decimal(18,4), cost decimal(18,4)",
    )
    failed = failed_checks(declared("silver.products"), bad)
    assert failed == {
        ("expect_column_values_to_be_unique", "product_id", "critical"),
        ("expect_column_values_to_not_be_null", "list_price", "critical"),
        ("expect_column_values_to_be_between", "cost", "warn"),
        ("expect_column_values_to_not_be_null", "category", "warn"),
    }
