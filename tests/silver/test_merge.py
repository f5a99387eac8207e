"""``delta_io.merge``: the insert-only path when no stored row would change, the full MERGE otherwise."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from lakehouse import delta_io

SCHEMA = "id string, ts int, source string"
# The stored row is replaced only by a copy with an earlier ts (like silver.events' condition).
EARLIER_WINS = "s.ts < t.ts"


def _last_merge(spark: SparkSession, path: str) -> dict[str, object]:
    row = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
    assert row is not None and row["operation"] == "MERGE"
    return {"matched": json.loads(row["operationParameters"]["matchedPredicates"]), **row["operationMetrics"]}


def test_losing_copies_take_the_insert_only_path(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    delta_io.merge(spark.createDataFrame([("a", 5, "first"), ("b", 5, "first")], SCHEMA), path, ["id"])
    batch = spark.createDataFrame([("a", 9, "late copy"), ("c", 1, "new")], SCHEMA)
    delta_io.merge(batch, path, ["id"], update_condition=EARLIER_WINS)

    commit = _last_merge(spark, path)
    assert commit["matched"] == []
    assert (commit["numTargetRowsInserted"], commit["numTargetRowsUpdated"], commit["numTargetFilesRemoved"]) == (
        "1",
        "0",
        "0",
    )
    expected = [("a", 5, "first"), ("b", 5, "first"), ("c", 1, "new")]
    assertDataFrameEqual(delta_io.read_table(spark, path), spark.createDataFrame(expected, SCHEMA))


def test_a_winning_copy_takes_the_full_merge(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    delta_io.merge(spark.createDataFrame([("a", 5, "first"), ("b", 5, "first")], SCHEMA), path, ["id"])
    batch = spark.createDataFrame([("a", 2, "earlier copy"), ("b", 7, "late copy"), ("c", 1, "new")], SCHEMA)
    delta_io.merge(batch, path, ["id"], update_condition=EARLIER_WINS)

    commit = _last_merge(spark, path)
    assert len(commit["matched"]) == 1
    assert (commit["numTargetRowsInserted"], commit["numTargetRowsUpdated"]) == ("1", "1")
    expected = [("a", 2, "earlier copy"), ("b", 5, "first"), ("c", 1, "new")]
    assertDataFrameEqual(delta_io.read_table(spark, path), spark.createDataFrame(expected, SCHEMA))
