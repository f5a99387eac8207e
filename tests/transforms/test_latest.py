"""transforms.latest: the latest ingested row per key wins, within a batch and across MERGEs."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from transforms.latest import LATER_INGESTED_WINS, latest_per_key

DAY1, DAY2 = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2)
ROWS = (
    "product_id string, warehouse string, value string, "
    "_ingest_ts timestamp, _ingest_batch_id string, _ingest_file string, _ingest_seq long"
)


def _copies(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            # A later run wins, whatever its batch id, file and position.
            ("p1", "north", "old", DAY1, "b-2", "inventory/b.xlsx", 9),
            ("p1", "north", "new", DAY2, "b-1", "inventory/a.xlsx", 0),
            # Same run time: the later batch id.
            ("p1", "south", "old", DAY1, "b-1", "inventory/b.xlsx", 9),
            ("p1", "south", "new", DAY1, "b-2", "inventory/a.xlsx", 0),
            # Same batch: the later file path.
            ("p2", "north", "old", DAY1, "b-1", "inventory/a.xlsx", 9),
            ("p2", "north", "new", DAY1, "b-1", "inventory/b.xlsx", 0),
            # Same file: the later position, compared as a number (10 after 2).
            ("p2", "south", "new", DAY1, "b-1", "inventory/a.xlsx", 10),
            ("p2", "south", "old", DAY1, "b-1", "inventory/a.xlsx", 2),
            # Alone under its key.
            ("p3", "north", "new", DAY1, "b-1", "inventory/a.xlsx", 0),
        ],
        ROWS,
    )


def test_latest_per_key(spark: SparkSession) -> None:
    kept = latest_per_key(_copies(spark), ["product_id", "warehouse"])
    assert kept.columns == _copies(spark).columns
    expected = spark.createDataFrame(
        [("p1", "north"), ("p1", "south"), ("p2", "north"), ("p2", "south"), ("p3", "north")],
        "product_id string, warehouse string",
    ).withColumn("value", F.lit("new"))
    assertDataFrameEqual(kept.select("product_id", "warehouse", "value"), expected)


def test_merge_condition_lets_only_a_later_row_replace_the_stored_one(spark: SparkSession) -> None:
    copies = _copies(spark).filter(F.col("product_id") != "p3")
    keys = (F.col("s.product_id") == F.col("t.product_id")) & (F.col("s.warehouse") == F.col("t.warehouse"))
    pairs = copies.alias("s").join(copies.alias("t"), keys).filter(F.expr(LATER_INGESTED_WINS))
    actual = pairs.select("s.product_id", "s.warehouse", "s.value", F.col("t.value").alias("stored"))
    # For each key the "new" incoming copy replaces the stored "old" one; never the reverse, never itself.
    expected = spark.createDataFrame(
        [(p, w, "new", "old") for p, w in [("p1", "north"), ("p1", "south"), ("p2", "north"), ("p2", "south")]],
        "product_id string, warehouse string, value string, stored string",
    )
    assertDataFrameEqual(actual, expected)
