"""A build declared with ``receives="frames"`` gets its declared inputs as frames, pinned to the run's versions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.catalog import Catalog, CatalogError, TableDef
from lakehouse.model import TableOutput
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
        with pytest.raises(KeyError, match=r"does not declare bronze\.other"):
            inputs["bronze.other"]
        return TableOutput(data=inputs["bronze.feed"].agg(F.sum("n").alias("n")))

    def catalog(self) -> Catalog:
        return Catalog(
            [
                TableDef(layer="bronze", name="feed", grain="one row per record", build=self.feed, write="append"),
                TableDef(
                    layer="gold",
                    name="total",
                    grain="one row",
                    build=self.total,
                    inputs=("bronze.feed",),
                    receives="frames",
                ),
            ]
        )


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
        Catalog([TableDef(layer="gold", name="lonely", grain="none", build=lambda inputs: None, receives="frames")])
