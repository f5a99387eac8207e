"""Tiny input frames for unit tests, built the way the pipeline builds them.

Silver inputs are made from bronze-shaped string rows through the real silver transforms,
so a test can write a timestamp as a landing file would ("2026-10-01T23:30:00-02:00") and
the gold function under test sees exactly what silver would hand it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from lakehouse.contract import EVENT_COLUMNS, ORDER_COLUMNS
from transforms.events import to_silver_events, typed_events
from transforms.experiments import to_silver_experiments, typed_experiments
from transforms.orders import to_silver_order_lines, typed_order_lines
from transforms.products import to_silver_products, typed_products

INGESTED_AT = dt.datetime(2026, 11, 1)
METADATA = (
    "_corrupt_record",
    "_rescued_data",
    "_ingest_file",
    "_ingest_seq",
    "_source",
    "_ingest_ts",
    "_ingest_batch_id",
)
PRODUCT_COLUMNS = ("product_id", "name", "category", "brand", "list_price", "cost")
STOCK_COLUMNS = ("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point")
EXPERIMENT_COLUMNS = ("experiment_id", "name", "variants", "allocation", "start_date", "end_date")


def bronze_schema(columns: Sequence[str]) -> T.StructType:
    return T.StructType(
        [
            *[T.StructField(name, T.StringType()) for name in columns],
            T.StructField("_corrupt_record", T.StringType()),
            T.StructField("_rescued_data", T.StringType()),
            T.StructField("_ingest_file", T.StringType()),
            T.StructField("_ingest_seq", T.LongType()),
            T.StructField("_source", T.StringType()),
            T.StructField("_ingest_ts", T.TimestampType()),
            T.StructField("_ingest_batch_id", T.StringType()),
        ]
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def bronze(
    spark: SparkSession, columns: Sequence[str], records: Sequence[dict[str, Any]], source: str = "test"
) -> DataFrame:
    """Bronze rows: every declared column a string (dicts/lists become JSON), lineage defaulted.

    A record may set ``_ingest_file``, ``_ingest_seq``, ``_ingest_ts``, ``_ingest_batch_id`` or
    ``_corrupt_record``; by default rows come from one file of one batch, in list order.
    """
    rows = []
    for seq, record in enumerate(records):
        rows.append(
            (
                *[_text(record.get(name)) for name in columns],
                record.get("_corrupt_record"),
                None,
                record.get("_ingest_file", "landing/file-1"),
                record.get("_ingest_seq", seq),
                source,
                record.get("_ingest_ts", INGESTED_AT),
                record.get("_ingest_batch_id", "batch-1"),
            )
        )
    return spark.createDataFrame(rows, bronze_schema(columns))


def silver_events(spark: SparkSession, records: Sequence[dict[str, Any]]) -> DataFrame:
    """Silver events from raw event records (defaults: a page_view on mobile, no experiments)."""
    defaults = {"device": "mobile", "country": "US", "experiments": {}, "properties": {}, "event_type": "page_view"}
    return to_silver_events(typed_events(bronze(spark, EVENT_COLUMNS, [{**defaults, **r} for r in records])))


def order_line(
    order_id: str,
    ts: str,
    customer: str,
    quantity: str,
    price: str,
    *,
    status: str = "paid",
    line_no: str = "1",
    discount: str = "",
    product_id: str = "p1",
) -> dict[str, str]:
    """One order-line record as the landing CSV carries it (every field text)."""
    return {
        "order_id": order_id,
        "line_no": line_no,
        "order_ts": ts,
        "customer_id": customer,
        "product_id": product_id,
        "quantity": quantity,
        "unit_price": price,
        "discount": discount,
        "status": status,
    }


def silver_order_lines(spark: SparkSession, records: Sequence[dict[str, Any]]) -> DataFrame:
    """Silver order lines from raw CSV-like records (defaults: line 1, quantity 1, no discount, paid)."""
    defaults = {"line_no": "1", "quantity": "1", "discount": "", "status": "paid", "country": "US"}
    return to_silver_order_lines(typed_order_lines(bronze(spark, ORDER_COLUMNS, [{**defaults, **r} for r in records])))


def silver_products(spark: SparkSession, records: Sequence[dict[str, Any]]) -> DataFrame:
    return to_silver_products(typed_products(bronze(spark, PRODUCT_COLUMNS, records)))


def silver_experiments(spark: SparkSession, records: Sequence[dict[str, Any]]) -> DataFrame:
    return to_silver_experiments(typed_experiments(bronze(spark, EXPERIMENT_COLUMNS, records)))


def declared(table_id: str) -> Any:
    """The catalog's declaration of ``table_id`` (a throwaway lakehouse's settings, Kafka off)."""
    from lakehouse.catalog import load_catalog
    from lakehouse.settings import Settings

    settings = Settings(_env_file=None, root="/nonexistent/lakehouse", landing="/nonexistent/landing")  # type: ignore[call-arg]
    return load_catalog(settings).get(table_id)


def build_declared(table_id: str, inputs: dict[str, DataFrame]) -> Any:
    """Run ``table_id``'s declared build (with what its declaration binds) on ``inputs``, its input frames."""
    table = declared(table_id)
    assert table.receives != "context", f"{table_id}'s build takes the runner's context, not frames"
    return table.build_function()(inputs)


def failed_checks(table: Any, df: DataFrame) -> set[tuple[str, str | None, str]]:
    """(expectation type, column, severity) of every check of ``table``'s suite that ``df`` fails.

    The gate validates small batches in pandas and large ones in Spark, so the suite must judge
    alike on both engines: both are run (each with fresh expectations), and must agree.
    """
    from lakehouse.quality import QualityGate

    gate = QualityGate()
    by_engine = [
        {
            (r.expectation, r.column, r.severity)
            for r in gate.validate(table.id, df, table.checks(), pandas_max_rows=limit)
            if not r.success
        }
        for limit in (0, 1_000_000)
    ]
    assert by_engine[0] == by_engine[1], f"spark and pandas disagree: {by_engine}"
    return by_engine[0]
