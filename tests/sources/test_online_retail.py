"""The real UCI Online Retail II export, onboarded as an orders source by configuration only."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from lakehouse.runner import Pipeline
from lakehouse.storage import table_path
from tests.conftest import make_settings

DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "online_retail_II_2009_2010.parquet"
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "sources" / "online_retail.toml"

pytestmark = pytest.mark.skipif(not DATASET.exists(), reason=f"real dataset not present at {DATASET}")


def _expected_daily_revenue(frame: pd.DataFrame) -> pd.Series:
    """Independent pandas reading of the same rules: sales are non-C invoices with quantity > 0 and price >= 0."""
    invoice = frame["Invoice"].astype(str)
    lines = frame.assign(
        quantity=frame["Quantity"].astype("float"),
        price=frame["Price"].astype("float"),
        description=frame["Description"].where(frame["Description"] != "nan"),
    )
    lines = lines.drop_duplicates(
        subset=["Invoice", "StockCode", "description", "Quantity", "Price", "InvoiceDate", "Customer ID"]
    )
    sales = lines[~invoice.loc[lines.index].str.startswith("C") & (lines["quantity"] > 0) & (lines["price"] >= 0)]
    day = pd.to_datetime(sales["InvoiceDate"]).dt.date
    return (sales["quantity"] * sales["price"]).groupby(day).sum()


def test_online_retail_runs_through_silver_and_gold(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sources_file=CONFIG)
    target = Path(settings.landing) / "online_retail"
    target.mkdir(parents=True)
    # December 2009 (about 45k real rows, every kind of mess included) keeps the test quick;
    # the benchmark and `lakehouse run` take the whole file the same way.
    raw = pd.read_parquet(DATASET)
    raw = raw[raw["InvoiceDate"] < "2010-01-01"].reset_index(drop=True)
    raw.to_parquet(target / "online_retail_2009_12.parquet", index=False)

    report = Pipeline(settings, spark).run(
        ["bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis"]
    )
    assert report.ok, report.failed

    lines = spark.read.format("delta").load(table_path(settings, "silver", "order_lines"))
    quarantine = spark.read.format("delta").load(table_path(settings, "quarantine", "order_lines"))
    silver_result = next(r for r in report.results if r.table == "silver.order_lines")
    # Every input row is accounted for: kept, quarantined with a reason, or an exact duplicate.
    assert silver_result.rows_written + silver_result.quarantined + silver_result.deduplicated == len(raw)
    assert silver_result.deduplicated > 100  # the export's exact duplicate rows
    # Stock adjustments (not C invoices) with quantity <= 0 are the only bad lines of that month.
    adjustments = int(((raw["Quantity"] <= 0) & ~raw["Invoice"].astype(str).str.startswith("C")).sum())
    by_rule = {row["_rule"]: row["count"] for row in quarantine.groupBy("_rule").count().collect()}
    assert by_rule == {"non_positive_quantity": adjustments}
    cancelled = lines.filter("status = 'cancelled'").count()
    assert cancelled == lines.filter("order_id LIKE 'C%'").count() > 0
    assert lines.filter("customer_id IS NULL").count() > 5_000  # guest lines still count in revenue

    gold = spark.read.format("delta").load(table_path(settings, "gold", "daily_kpis")).toPandas()
    expected = _expected_daily_revenue(raw)
    got = gold.set_index("date")["revenue"]
    for day, revenue in expected.items():
        assert abs(got[day] - Decimal(str(round(revenue, 6)))) < Decimal("0.01"), day
    assert (gold["active_users"] == 0).all()  # no events source: zeros, not missing rows
