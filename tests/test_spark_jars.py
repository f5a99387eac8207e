"""The first Spark start records the jars Ivy resolved; later starts use that list and skip Ivy."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.spark import _record_resolved_jars, resolved_jars, spark_conf
from tests.conftest import make_settings


def test_the_session_start_recorded_the_jars_it_resolved(spark: SparkSession, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)  # the same cache folder as the session's settings
    jars = resolved_jars(settings, with_kafka=True)
    assert any("io.delta_delta-spark" in jar for jar in jars)
    assert any("spark-sql-kafka" in jar for jar in jars)
    assert set(spark.sparkContext.getConf().get("spark.jars", "").split(",")) == set(jars)
    conf = spark_conf(settings, with_kafka=True)
    assert conf["spark.jars"].split(",") == jars
    assert "spark.jars.packages" not in conf and "spark.jars.ivy" not in conf


def test_a_missing_jar_sends_the_start_back_to_ivy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_CACHE_DIR", str(tmp_path / "cache"))
    settings = make_settings(tmp_path)
    assert settings.cache_dir == tmp_path / "cache"
    first, second = tmp_path / "a.jar", tmp_path / "b.jar"
    first.write_bytes(b"jar")
    second.write_bytes(b"jar")

    conf = spark_conf(settings)
    assert conf["spark.jars.packages"].startswith("io.delta:delta-spark") and "spark.jars" not in conf

    _record_resolved_jars(settings, False, f"file://{first},file://{second}")
    assert spark_conf(settings)["spark.jars"] == f"file://{first},file://{second}"
    assert resolved_jars(settings, with_kafka=True) == []  # another set of packages: its own record

    second.unlink()
    conf = spark_conf(settings)
    assert "spark.jars" not in conf and conf["spark.jars.ivy"] == str(tmp_path / "cache" / "ivy")
