"""A build declared with ``receives="pinned"`` gets its declared inputs as frames, pinned to the run's versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.catalog import Catalog, CatalogError, TableDef
from lakehouse.model import Ledger, TableOutput
from lakehouse.runner import BuildContext, Pipeline
from tests.conftest import make_settings


class _Feed:
    """bronze.feed appends whatever frame the test sets; gold.total sums it, receiving frames."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame
        self.received: list[tuple[str, ...]] = []

    def feed(self, context: BuildContext) -> TableOutput:
        return TableOutput(data=self.frame)

    def total(self, inputs: Mapping[str, DataFrame]) -> TableOutput:
        self.received.append(tuple(inputs))
        with pytest.raises(KeyError, match=r"declares no input or written .after. table bronze\.other"):
            inputs["bronze.other"]
        return TableOutput(data=inputs["bronze.feed"].agg(F.sum("n").alias("n")))

    def catalog(self) -> Catalog:
        return Catalog(
            [
                _table("bronze.feed", self.feed, write="append", change_feed=True),
                _table("gold.total", self.total, inputs=("bronze.feed",), receives="pinned"),
            ]
        )


def _table(table_id: str, build: Callable[..., TableOutput], **declared: Any) -> TableDef:
    layer, name = table_id.split(".")
    return TableDef(layer=layer, name=name, grain=f"the test's {name}", build=build, **declared)


def test_a_frames_build_sums_its_pinned_input_on_every_run(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    feed = _Feed(spark.createDataFrame([("a", 1), ("b", 2)], "id string, n long"))
    first = Pipeline(settings, spark, catalog=feed.catalog())
    assert first.run().ok
    assert spark.read.format("delta").load(str(tmp_path / "lakehouse" / "gold" / "total")).first()["n"] == 3

    feed.frame = spark.createDataFrame([("c", 4)], "id string, n long")
    second = Pipeline(settings, spark, catalog=feed.catalog())
    report = second.run()
    assert report.ok and [r.status for r in report.results] == ["written", "written"]
    assert spark.read.format("delta").load(str(tmp_path / "lakehouse" / "gold" / "total")).first()["n"] == 7
    assert feed.received == [("bronze.feed",), ("bronze.feed",)]


def test_a_frames_build_must_declare_its_inputs() -> None:
    with pytest.raises(CatalogError, match="receives its inputs as frames but declares none"):
        Catalog([TableDef(layer="gold", name="lonely", grain="none", build=lambda inputs: None, receives="pinned")])


class _Cleaned:
    """silver.positive receives only bronze.feed's new rows; rows with n <= 0 go to its quarantine."""

    def __init__(self, feed: _Feed) -> None:
        self.feed = feed
        self.batches: list[list[str]] = []

    def positive(self, inputs: Mapping[str, DataFrame]) -> TableOutput:
        batch = inputs["bronze.feed"]
        self.batches.append(sorted(row.id for row in batch.collect()))
        bad = batch.filter("n <= 0").withColumn("_rule", F.lit("not_positive"))
        rows_in, quarantined = batch.count(), bad.count()
        ledger = Ledger(rows_in=rows_in, rows_out=rows_in - quarantined, quarantined=quarantined, deduplicated=0)
        return TableOutput(data=batch.filter("n > 0"), quarantine=bad, ledger=ledger)

    def catalog(self) -> Catalog:
        cleaned = _table(
            "silver.positive", self.positive, inputs=("bronze.feed",), receives="new", write="append", quarantine=True
        )
        return Catalog([*self.feed.catalog(), cleaned])


def test_a_new_rows_build_sees_each_row_once_and_the_runner_stamps_its_quarantine(
    spark: SparkSession, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    cleaned = _Cleaned(_Feed(spark.createDataFrame([("a", 1), ("b", -2)], "id string, n long")))
    first = Pipeline(settings, spark, catalog=cleaned.catalog())
    assert first.run().ok

    cleaned.feed.frame = spark.createDataFrame([("c", 3)], "id string, n long")
    assert Pipeline(settings, spark, catalog=cleaned.catalog()).run().ok
    assert cleaned.batches == [["a", "b"], ["c"]]
    silver = spark.read.format("delta").load(str(tmp_path / "lakehouse" / "silver" / "positive"))
    assert sorted(row.id for row in silver.collect()) == ["a", "c"]
    quarantine = spark.read.format("delta").load(str(tmp_path / "lakehouse" / "quarantine" / "positive"))
    assert [(r.id, r._rule, r._run_id) for r in quarantine.collect()] == [("b", "not_positive", first.run_id)]

    # A commit that inserts nothing (a DELETE): the cleaned table's input moved, yet it has no new rows.
    cleaned.feed.frame = spark.createDataFrame([], "id string, n long")
    spark.sql(f"DELETE FROM delta.`{tmp_path / 'lakehouse' / 'bronze' / 'feed'}` WHERE id = 'c'")
    report = Pipeline(settings, spark, catalog=cleaned.catalog()).run()
    assert report.ok and cleaned.batches[-1] == []
    [positive] = [r for r in report.results if r.table == "silver.positive"]
    assert (positive.status, positive.message) == ("skipped", "no new input rows")
