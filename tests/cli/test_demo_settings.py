"""`lakehouse demo` starts the JVM with its quick compiler unless the user chose otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import demo_settings
from lakehouse.settings import Settings
from lakehouse.spark import QUICK_JIT, spark_conf
from tests.conftest import make_settings


def test_demo_turns_the_quick_compiler_on_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_SPARK_QUICK_JIT", raising=False)
    settings = make_settings(tmp_path)
    assert settings.spark_quick_jit is False  # `lakehouse run` keeps the optimising compiler
    assert QUICK_JIT not in spark_conf(settings)["spark.driver.extraJavaOptions"]
    demo = demo_settings(settings)
    assert demo.spark_quick_jit is True and demo.root == settings.root
    options = spark_conf(demo)["spark.driver.extraJavaOptions"]
    # C1 alone without a larger code cache crashes the JVM within a minute of Spark's code.
    assert "-XX:TieredStopAtLevel=1" in options and "-XX:ReservedCodeCacheSize=256m" in options
    assert options.startswith("-Duser.timezone=UTC")


def test_an_explicit_choice_wins_over_the_demo_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_SPARK_QUICK_JIT", "false")
    settings = Settings(_env_file=None, root=str(tmp_path / "lakehouse"))  # type: ignore[call-arg]
    assert demo_settings(settings).spark_quick_jit is False
