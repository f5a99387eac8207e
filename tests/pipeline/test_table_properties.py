"""Declared table properties: bronze keeps no column statistics, row counts stay in the log."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from lakehouse import delta_io
from lakehouse.catalog import Catalog, TableDef
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext, Pipeline
from lakehouse.storage import table_path
from tests.conftest import make_settings


class _Feed:
    """A one-table catalog appending whatever frame the test sets."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame

    def build(self, context: BuildContext) -> TableOutput:
        return TableOutput(data=self.frame)

    def catalog(self, stats_columns: int | None) -> Catalog:
        table = TableDef(
            layer="bronze",
            name="feed",
            grain="one row per record",
            build=self.build,
            write="append",
            stats_columns=stats_columns,
        )
        return Catalog([table])


def _add_actions(path: str) -> pa.Table:
    return pa.table(DeltaTable(path).get_add_actions(flatten=True))


def test_stats_columns_zero_keeps_row_counts_and_drops_column_statistics(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = table_path(settings, "bronze", "feed")
    feed = _Feed(spark.createDataFrame([("a", 1), ("b", 2), ("c", 3)], "id string, n int"))
    assert Pipeline(settings, spark, catalog=feed.catalog(0)).run().ok

    facts = delta_io.table_facts(settings, path)
    assert facts.properties[delta_io.STATS_COLUMNS_PROPERTY] == "0"
    assert facts.version == 0 and facts.rows == 3  # the property came with the creating write
    actions = _add_actions(path)
    assert not [name for name in actions.column_names if name.startswith(("min.", "max.", "null_count."))]


def test_a_table_written_before_the_declaration_gets_the_property_in_a_commit_of_its_own(
    spark: SparkSession, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    path = table_path(settings, "bronze", "feed")
    feed = _Feed(spark.createDataFrame([("a", 1)], "id string, n int"))
    assert Pipeline(settings, spark, catalog=feed.catalog(None)).run().ok
    assert "min.id" in _add_actions(path).column_names  # Delta's default: statistics on every column

    feed.frame = spark.createDataFrame([("b", 2)], "id string, n int")
    report = Pipeline(settings, spark, catalog=feed.catalog(0)).run()
    assert report.ok and report.results[0].status == "written" and report.results[0].delta_version == 2
    facts = delta_io.table_facts(settings, path)
    assert facts.properties[delta_io.STATS_COLUMNS_PROPERTY] == "0" and facts.rows == 2
    history = DeltaTable(path).history()
    assert [h["operation"] for h in sorted(history, key=lambda h: h["version"])] == [
        "WRITE",
        "SET TBLPROPERTIES",
        "WRITE",
    ]
