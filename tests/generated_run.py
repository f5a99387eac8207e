"""One generated landing zone built by the real runner, shared by the test modules that read it.

Generating six days and running every table twice (five days from scratch, then the sixth
incrementally) costs about a minute; the end-to-end tests and the all-tables integration tests
read the same state, so they share one build instead of paying for two.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from devtools.generate import GenerationSummary, generate_landing
from lakehouse.model import RunReport
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_id_path
from tests.conftest import make_settings

LAST_DAY = "2026-10-06"  # the last of the 6 generated days: held back, then landed as an incremental run


class GeneratedRun:
    """The state after the incremental run, the report of each run and the generator's summary."""

    def __init__(
        self,
        spark: SparkSession,
        settings: Settings,
        landing: GenerationSummary,
        report: RunReport,
        pipeline: Pipeline,
        first: RunReport,
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.landing = landing
        self.first = first
        self.report = report
        self.pipeline = pipeline

    def table(self, table_id: str) -> DataFrame:
        return self.spark.read.format("delta").load(table_id_path(self.settings, table_id))


def build_generated_run(spark: SparkSession, root: Path) -> GeneratedRun:
    """Five days built from scratch, then the sixth day landed and built incrementally.

    Every table counts as large, so the paths that matter at scale run here: gold recomputing
    only the dates a change reached, or replacing only its changed dates.
    """
    settings = make_settings(root, small_table_bytes=0, narrow_input_bytes=0, narrow_min_days=0)
    landing = generate_landing(Path(settings.landing), days=6, users=400, seed=11)
    held_back = root / "held-back"
    later = [p for p in Path(settings.landing).rglob("*") if p.is_file() and LAST_DAY in p.name]
    assert len(later) == 2  # that day's events and orders
    for path in later:
        (held_back / path.parent.name).mkdir(parents=True, exist_ok=True)
        path.rename(held_back / path.parent.name / path.name)
    first = Pipeline(settings, spark).run()
    assert first.ok, first.failed
    for path in held_back.rglob("*.*"):
        path.rename(Path(settings.landing) / path.parent.name / path.name)
    pipeline = Pipeline(settings, spark)
    report = pipeline.run()
    assert report.ok, report.failed
    return GeneratedRun(spark, settings, landing, report, pipeline, first)


@pytest.fixture(scope="session")
def generated_run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> GeneratedRun:
    return build_generated_run(spark, tmp_path_factory.mktemp("generated"))
