"""Dataset checks that compare with another table: referential integrity and revenue reconciliation."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from devtools.generate import generate_landing
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.ops import read_ops
from lakehouse.runner import Pipeline
from tests.conftest import make_settings

LINEAGE = {"bronze.events", "bronze.orders", "bronze.products", "bronze.stock", "silver.events", "silver.products",
           "silver.order_lines", "gold.daily_kpis"}  # fmt: skip


def test_unknown_product_is_reported_and_revenue_reconciles(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate_landing(Path(settings.landing), days=1, users=30, seed=3)
    orders = Path(settings.landing) / "orders" / "orders_2026-10-01.csv"
    with orders.open("a", encoding="utf-8") as out:  # two lines of a product the catalogue does not list
        out.write("o9999999,1,2026-10-01 12:00:00,u00001,p9999,1,10.00,,paid,US\n")
        out.write("o9999999,2,2026-10-01 12:00:00,u00001,p9999,2,10.00,,paid,US\n")
    catalog = Catalog([t for t in load_catalog(settings) if t.id in LINEAGE])

    report = Pipeline(settings, spark, catalog=catalog).run()

    assert report.ok, report.failed  # a warn check does not stop the run
    results = read_ops(settings, "quality_results")
    lines = results[(results["table"] == "silver.order_lines") & (results["column"] == "product_id")]
    assert lines[["expectation", "severity", "success", "unexpected_count"]].values.tolist() == [
        ["expect_column_values_to_be_in_set", "warn", False, 2]
    ]
    reconciliation = results["expectation"] == "expect_column_sum_to_be_between"
    kpis = results[(results["table"] == "gold.daily_kpis") & reconciliation]
    assert kpis[["severity", "success"]].values.tolist() == [["critical", True]]
    revenue = spark.read.format("delta").load(f"{settings.root}/gold/daily_kpis").agg({"revenue": "sum"}).first()[0]
    sale_lines = spark.read.format("delta").load(f"{settings.root}/silver/order_lines").filter("is_sale")
    assert revenue == sale_lines.agg({"line_revenue": "sum"}).first()[0]
