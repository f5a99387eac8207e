"""transforms.products: typing, quarantine rules and latest-ingested-wins de-duplication."""

from __future__ import annotations

from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from tests.frames import PRODUCT_COLUMNS, bronze
from transforms.latest import latest_per_key
from transforms.products import MONEY, product_rules, to_silver_products, typed_products
from transforms.rules import RULE, failing, flag_first_failure, passing

PRODUCTS = T.StructType(
    [
        T.StructField("product_id", T.StringType()),
        T.StructField("name", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("brand", T.StringType()),
        T.StructField("list_price", MONEY),
        T.StructField("cost", MONEY),
    ]
)


def _flagged(spark: SparkSession) -> DataFrame:
    first, second = {"_ingest_file": "inventory/a.xlsx"}, {"_ingest_file": "inventory/b.xlsx"}
    records = [
        {
            **first,
            "product_id": "p1",
            "name": "Lamp",
            "category": "home",
            "brand": "Acme",
            "list_price": "10.50",
            "cost": "4",
        },
        {
            **first,
            "product_id": "p2",
            "name": "Kite",
            "category": " ",
            "brand": "Ostara",
            "list_price": "20",
            "cost": "7.25",
        },
        {**first, "product_id": "", "name": "Ghost", "list_price": "5"},
        {**first, "product_id": "p3", "name": "Vase", "list_price": "abc"},
        {**first, "_corrupt_record": "unreadable workbook"},
        # The later workbook: p1 re-priced and its cost left empty; a bad copy of p2 must not displace the good one.
        {
            **second,
            "product_id": " p1 ",
            "name": "Lamp (2nd gen)",
            "category": "home",
            "brand": "Acme",
            "list_price": "12",
            "cost": "",
        },
        {**second, "product_id": "p2", "name": "Kite", "category": "toys", "list_price": "n/a"},
    ]
    return flag_first_failure(typed_products(bronze(spark, PRODUCT_COLUMNS, records)), product_rules())


def test_quarantine_reasons(spark: SparkSession) -> None:
    flagged = _flagged(spark)
    expected = spark.createDataFrame(
        [
            ("Ghost", "missing_product_id"),
            ("Vase", "non_numeric_list_price"),
            (None, "unreadable_record"),
            ("Kite", "non_numeric_list_price"),
        ],
        "name string, _rule string",
    )
    assertDataFrameEqual(failing(flagged).select("name", RULE), expected)


def test_latest_ingested_attributes_win(spark: SparkSession) -> None:
    silver = latest_per_key(to_silver_products(passing(_flagged(spark))), ["product_id"])
    expected = spark.createDataFrame(
        [
            ("p1", "Lamp (2nd gen)", "home", "Acme", Decimal("12.0000"), None),
            ("p2", "Kite", None, "Ostara", Decimal("20.0000"), Decimal("7.2500")),
        ],
        PRODUCTS,
    )
    assertDataFrameEqual(silver.select(*PRODUCTS.fieldNames()), expected)
