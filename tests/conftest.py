"""Shared fixtures: one Spark session for the whole test run, and per-test lakehouse folders.

The session is the project's own factory (Delta extensions, UTC, small-table
settings) with one shuffle partition: test tables are tiny.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.settings import Settings
from lakehouse.spark import create_spark_session

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Tests write landing files and run at once: no settle time (children inherit it too).
os.environ.setdefault("LAKEHOUSE_LANDING_SETTLE_SECONDS", "0")

# The generated run shared by the end-to-end and all-tables tests (built once per session), and
# the services' installs started in the background once the tests are collected.
pytest_plugins = ("tests.generated_run", "tests.service_installs")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a throwaway lakehouse under ``tmp_path`` (no .env file is read)."""
    values: dict[str, object] = {
        "root": str(tmp_path / "lakehouse"),
        "landing": str(tmp_path / "landing"),
        "shuffle_partitions": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    settings = make_settings(tmp_path_factory.mktemp("spark"))
    session = create_spark_session(settings, with_kafka=True)
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)
