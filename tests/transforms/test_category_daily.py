"""transforms.category_daily: sale revenue and units by current product category and UTC order date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.frames import silver_order_lines, silver_products
from transforms.category_daily import category_daily


def test_category_daily(spark: SparkSession) -> None:
    products = silver_products(
        spark,
        [
            {"product_id": "p1", "name": "Lamp", "category": "home", "list_price": "10"},
            {"product_id": "p2", "name": "Kite", "category": "", "list_price": "5"},  # no category
        ],
    )

    def line(
        order_id: str,
        ts: str,
        product_id: str | None,
        quantity: str,
        price: str,
        status: str = "paid",
        line_no: str = "1",
    ) -> dict[str, object]:
        return {
            "order_id": order_id,
            "line_no": line_no,
            "order_ts": ts,
            "customer_id": "u1",
            "product_id": product_id,
            "quantity": quantity,
            "unit_price": price,
            "status": status,
        }

    lines = silver_order_lines(
        spark,
        [
            line("o1", "2026-10-01 10:00:00", "p1", "2", "10.00"),
            line("o1", "2026-10-01 10:00:00", "p2", "1", "5.00", line_no="2"),
            line("o1", "2026-10-01 10:00:00", "p1", "1", "10.00", status="returned", line_no="3"),
            line("o2", "2026-10-01T21:00:00-04:00", "p1", "1", "12.50"),  # UTC 10-02 01:00
            line("o3", "2026-10-02 09:00:00", "p9", "3", "1.00"),  # not in the catalogue
            line("o4", "2026-10-02 09:00:00", None, "1", "2.00"),  # no product at all
            line("o5", "2026-10-02 09:00:00", "p2", "4", "5.00", status="cancelled"),
        ],
    )
    expected = spark.createDataFrame(
        [
            (dt.date(2026, 10, 1), "home", Decimal(20), Decimal(2)),
            (dt.date(2026, 10, 1), "unknown", Decimal(5), Decimal(1)),
            (dt.date(2026, 10, 2), "home", Decimal("12.5"), Decimal(1)),
            (dt.date(2026, 10, 2), "unknown", Decimal(5), Decimal(4)),
        ],
        "date date, category string, revenue decimal(38,6), units decimal(38,4)",
    )
    assertDataFrameEqual(category_daily(lines, products), expected)
