"""The catalog's declarations are plain metadata: they load without Spark or Great Expectations.

Builds, suites and schemas are references imported on use; every one of them must resolve.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lakehouse.catalog import Bound, CatalogError, load_catalog, resolve
from lakehouse.settings import Settings

PROBE = """
import sys
from lakehouse.catalog import load_catalog
from lakehouse.settings import Settings

catalog = load_catalog(Settings(_env_file=None, root=sys.argv[1], landing=sys.argv[2], kafka_enabled=True))
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pyspark", "great_expectations", "delta", "py4j"})
print(len(catalog), ",".join(heavy) or "none")
"""


def test_the_catalog_loads_without_spark_or_great_expectations(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(probe), str(tmp_path / "lakehouse"), str(tmp_path / "landing")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    tables, heavy = done.stdout.split()
    assert heavy == "none", done.stdout
    settings = Settings(
        _env_file=None, root=str(tmp_path / "lakehouse"), landing=str(tmp_path / "landing"), kafka_enabled=True
    )  # type: ignore[call-arg]
    assert int(tables) == len(load_catalog(settings)) >= 22  # every table, clickstream included


def test_every_reference_resolves(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, root=str(tmp_path / "l"), landing=str(tmp_path / "la"), kafka_enabled=True)  # type: ignore[call-arg]
    for table in load_catalog(settings):
        assert callable(table.build_function()), table.id
        checks = table.checks()
        assert checks and all(c.severity in ("critical", "warn") for c in checks), table.id
        if isinstance(table.schema, str):
            assert table.declared_schema() is not None, table.id


def test_a_reference_to_nothing_is_a_catalog_error() -> None:
    import pytest

    with pytest.raises(CatalogError, match="not a 'module:attribute' reference"):
        resolve("gold.daily_kpis.build")
    with pytest.raises(CatalogError, match="names nothing importable"):
        resolve("gold.daily_kpis:no_such_build")
    assert Bound("builtins:max", (3,))(5) == 5 and Bound("builtins:max", (3,))(1) == 3
