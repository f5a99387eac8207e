"""Schema policy: a removed or retyped column is refused with a diff; declared additions and widening pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from lakehouse import delta_io
from lakehouse.catalog import Catalog, TableDef, load_catalog
from lakehouse.model import TableOutput
from lakehouse.ops import read_ops
from lakehouse.runner import BuildContext, Pipeline
from lakehouse.schema_policy import SchemaBreak, diff_schemas, is_widening
from lakehouse.storage import table_path
from tests.conftest import make_settings

ORDER_HEADER = "order_id,line_no,order_ts,customer_id,product_id,quantity,unit_price,discount,status,country"
ORDER_ROW = "o1,1,2026-10-01T10:00:00Z,u1,p1,2,10.00,0,paid,DE"


def test_widening_allow_list() -> None:
    assert is_widening(T.IntegerType(), T.LongType())
    assert is_widening(T.IntegerType(), T.DoubleType())
    assert is_widening(T.IntegerType(), T.DecimalType(12, 2))
    assert is_widening(T.FloatType(), T.DoubleType())
    assert is_widening(T.DecimalType(10, 2), T.DecimalType(12, 4))
    assert is_widening(T.DateType(), T.TimestampNTZType())
    assert not is_widening(T.LongType(), T.IntegerType())
    assert not is_widening(T.LongType(), T.DoubleType())  # 2**63 - 1 is not a double
    assert not is_widening(T.IntegerType(), T.DecimalType(9, 2))  # only 7 integer digits
    assert not is_widening(T.DecimalType(10, 2), T.DecimalType(10, 4))  # loses integer digits
    assert not is_widening(T.DecimalType(12, 2), T.StringType())
    assert not is_widening(T.DateType(), T.TimestampType())  # would reinterpret in a time zone


def test_diff_lines() -> None:
    old = T.StructType(
        [
            T.StructField("a", T.IntegerType()),
            T.StructField("b", T.StringType()),
            T.StructField("c", T.DecimalType(12, 2)),
        ]
    )
    new = T.StructType(
        [T.StructField("a", T.LongType()), T.StructField("c", T.StringType()), T.StructField("d", T.DateType())]
    )
    assert diff_schemas(old, new).lines() == [
        "- b string",
        "~ c decimal(12,2) -> string",
        "+ d date",
        "^ a int -> bigint (widening)",
    ]
    assert diff_schemas(old, old).empty


def _orders_catalog(settings) -> Catalog:
    return Catalog([t for t in load_catalog(settings) if t.id == "bronze.orders"])


def test_csv_without_a_declared_column_is_rejected_alone_with_a_diff(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    orders = Path(settings.landing) / "orders"
    orders.mkdir(parents=True)
    header = ORDER_HEADER.replace(",discount", "")
    row = ORDER_ROW.replace(",10.00,0,", ",10.00,")
    (orders / "orders_2026-10-01.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    good = ORDER_ROW.replace("o1", "o2")
    (orders / "orders_2026-10-02.csv").write_text(f"{ORDER_HEADER}\n{good}\n", encoding="utf-8")

    report = Pipeline(settings, spark, catalog=_orders_catalog(settings)).run()
    assert report.ok, report.failed
    [rejected] = read_ops(settings, "rejected_files").itertuples()
    assert (rejected.path, rejected.reason) == ("orders/orders_2026-10-01.csv", "missing_columns")
    assert rejected.detail.startswith("source orders: orders/orders_2026-10-01.csv: breaking schema change refused: ")
    assert "- discount string" in rejected.detail
    assert "\n" not in rejected.detail  # one line for the CLI
    bronze = spark.read.format("delta").load(table_path(settings, "bronze", "orders"))
    assert [r.order_id for r in bronze.collect()] == ["o2"]  # the good file next to it arrived


def test_csv_extra_column_is_rescued_and_header_order_does_not_matter(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    orders = Path(settings.landing) / "orders"
    orders.mkdir(parents=True)
    (orders / "orders_2026-10-01.csv").write_text(f"{ORDER_HEADER}\n{ORDER_ROW}\n", encoding="utf-8")
    # A later export reorders two columns and adds a coupon column nobody declared.
    moved = ORDER_HEADER.replace("quantity,unit_price", "unit_price,quantity") + ",coupon"
    (orders / "orders_2026-10-02.csv").write_text(
        f"{moved}\no2,1,2026-10-02T10:00:00Z,u2,p1,12.50,3,0,paid,DE,WELCOME10\n"
        f"o3,1,2026-10-02T11:00:00Z,u3,p1,5.00,1,0,paid,DE,\n",
        encoding="utf-8",
    )
    report = Pipeline(settings, spark, catalog=_orders_catalog(settings)).run()
    assert report.ok
    rows = {r.order_id: r for r in spark.read.format("delta").load(table_path(settings, "bronze", "orders")).collect()}
    assert sorted(rows) == ["o1", "o2", "o3"]
    assert (rows["o2"].quantity, rows["o2"].unit_price) == ("3", "12.50")  # by name, not position
    assert json.loads(rows["o2"]._rescued_data) == {"coupon": "WELCOME10"}
    assert rows["o3"]._rescued_data is None and rows["o1"]._rescued_data is None


class _Widget:
    """A one-table catalog whose build returns whatever frame the test sets."""

    def __init__(self) -> None:
        self.frame: DataFrame | None = None

    def build(self, context: BuildContext) -> TableOutput:
        return TableOutput(data=self.frame)

    def catalog(self, schema: T.StructType | None = None) -> Catalog:
        return Catalog(
            [
                TableDef(
                    layer="silver",
                    name="widgets",
                    grain="one row per widget",
                    build=self.build,
                    keys=("widget_id",),
                    write="merge",
                    schema=schema,
                )
            ]
        )


def test_silver_refuses_a_removed_or_retyped_column_and_widens_an_int(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    widget = _Widget()
    path = table_path(settings, "silver", "widgets")
    widget.frame = spark.createDataFrame([("w1", 1, "red")], "widget_id string, size int, colour string")
    assert Pipeline(settings, spark, catalog=widget.catalog()).run().ok
    assert delta_io.table_version(settings, path) == 0

    widget.frame = spark.createDataFrame([("w2", 2)], "widget_id string, size int")
    with pytest.raises(SchemaBreak, match=r"silver.widgets: breaking schema change refused: - colour string\. "):
        Pipeline(settings, spark, catalog=widget.catalog()).run()
    widget.frame = spark.createDataFrame([("w2", "2", "blue")], "widget_id string, size string, colour string")
    with pytest.raises(SchemaBreak, match=r"~ size int -> string"):
        Pipeline(settings, spark, catalog=widget.catalog()).run()
    assert delta_io.table_version(settings, path) == 0  # nothing written by either refusal

    widget.frame = spark.createDataFrame([("w3", 2**40, "blue")], "widget_id string, size bigint, colour string")
    assert Pipeline(settings, spark, catalog=widget.catalog()).run().ok
    table = spark.read.format("delta").load(path)
    assert dict(table.dtypes)["size"] == "bigint"
    assert sorted((r.widget_id, r.size) for r in table.collect()) == [("w1", 1), ("w3", 2**40)]


def test_jsonl_undeclared_keys_are_rescued_per_line(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    events = Path(settings.landing) / "events"
    events.mkdir(parents=True)
    base = {"event_ts": "2026-10-01T10:00:00Z", "user_id": "u1", "event_type": "page_view"}
    lines = [
        json.dumps({"event_id": "e1", **base}),
        json.dumps({"event_id": "e2", **base, "coupon": "WELCOME10", "ab": {"x": 1}}),
        '{"event_id": "e3", "event_ts": ',  # truncated: corrupt, nothing to rescue
    ]
    (events / "events_2026-10-01.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    catalog = Catalog([t for t in load_catalog(settings) if t.id == "bronze.events"])
    assert Pipeline(settings, spark, catalog=catalog).run().ok
    rows = spark.read.format("delta").load(table_path(settings, "bronze", "events")).orderBy("_ingest_seq").collect()
    assert [r.event_id for r in rows] == ["e1", "e2", None]
    assert rows[0]._rescued_data is None
    assert json.loads(rows[1]._rescued_data) == {"coupon": "WELCOME10", "ab": '{"x":1}'}
    assert rows[2]._rescued_data is None and rows[2]._corrupt_record == lines[2]


def test_a_build_that_drifts_from_its_declared_schema_fails_before_anything_is_written(
    spark: SparkSession, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    widget = _Widget()
    declared = T.StructType([T.StructField("widget_id", T.StringType(), False), T.StructField("size", T.IntegerType())])
    path = table_path(settings, "silver", "widgets")
    widget.frame = spark.createDataFrame([("w1", 1)], "widget_id string, size int")
    assert Pipeline(settings, spark, catalog=widget.catalog(declared)).run().ok  # nullability is the suite's

    widget.frame = spark.createDataFrame([("w2", 2)], "widget_id string, size bigint")
    with pytest.raises(SchemaBreak, match=r"silver.widgets \(declared schema\): .*~ size int -> bigint"):
        Pipeline(settings, spark, catalog=widget.catalog(declared)).run()
    widget.frame = spark.createDataFrame([(2, "w2")], "size int, widget_id string")
    with pytest.raises(SchemaBreak, match=r"~ column order widget_id,size -> size,widget_id"):
        Pipeline(settings, spark, catalog=widget.catalog(declared)).run()
    assert delta_io.table_version(settings, path) == 0  # neither drift reached the table
    runs = read_ops(settings, "pipeline_runs")
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2 and failed["message"].str.contains("declared schema").all()


def test_the_tables_with_a_written_contract_declare_it(tmp_path: Path) -> None:
    """Their builds are held to it on every run (the end-to-end tests build each one)."""
    declared = {t.id for t in load_catalog(make_settings(tmp_path)) if t.schema is not None}
    assert declared == {
        "silver.events",
        "silver.products",
        "silver.stock",
        "silver.experiments",
        "silver.experiment_exposures",
        "gold.experiment_results",
        "gold.experiment_daily",
        "gold.experiment_metrics",
        "gold.experiment_sequential",
    }
