"""The Lineage page reads the graph from the tables' Delta commits: same edges as the catalog, no Spark, no GX.

The lakehouse here is shaped by the real catalog: every declared table is written (with
delta-rs) under ``<root>/<layer>/<name>`` with the commit metadata the runner writes on each
build, ``{"inputs": {input table: version read}, "run_id": ...}``. One table's newest commit
is an OPTIMIZE, which records no inputs, so the page must look further back for that table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st
from deltalake import CommitProperties, DeltaTable, write_deltalake

from dashboard import data
from lakehouse.catalog import load_catalog
from lakehouse.settings import Settings
from tests.dashboard import gold_fixture

REPO = Path(__file__).resolve().parents[2]
COMPACTED = "gold.daily_kpis"  # the table whose newest commit is a maintenance commit

# Runs the Lineage page in a fresh interpreter and reports what it showed and what it imported.
PAGE_PROBE = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
graph = next((df.value for df in at.dataframe if "inputs" in df.value.columns), None)
edges = []
if graph is not None:
    for table, inputs in zip(graph["table"], graph["inputs"]):
        edges += [[source, table] for source in str(inputs).split(", ") if inputs and source in set(graph["table"])]
print(json.dumps({
    "exceptions": [e.message for e in at.exception],
    "warnings": [w.value for w in at.warning],
    "metrics": {m.label: m.value for m in at.metric},
    "edges": edges,
    "imported": sorted(m for m in ("pyspark", "great_expectations", "delta") if m in sys.modules),
}))
"""


def _settings(root: Path) -> Settings:
    return Settings(_env_file=None, root=str(root), landing=str(root.parent / "landing"))  # type: ignore[call-arg]


def _commit(path: Path, metadata: dict[str, object], mode: str = "overwrite") -> None:
    table = pa.table({"n": pa.array([1, 2], pa.int64())})
    properties = CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)})
    write_deltalake(str(path), table, mode=mode, commit_properties=properties)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every catalog table written once, as the runner would record its inputs."""
    from lakehouse.runner import WATERMARK_KEY

    root = tmp_path_factory.mktemp("lineage") / "lakehouse"
    for table in load_catalog(_settings(root)):
        path = root / table.layer / table.name
        _commit(path, {WATERMARK_KEY: {source: 0 for source in table.inputs}, "run_id": "r1"})
        if table.id == COMPACTED:
            _commit(path, {WATERMARK_KEY: {source: 1 for source in table.inputs}, "run_id": "r2"}, mode="append")
            DeltaTable(str(path)).optimize.compact()
    return root


def _probe_page(root: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "LAKEHOUSE_ROOT": str(root),
        "LAKEHOUSE_LANDING": str(root.parent / "landing"),
        "LAKEHOUSE_ENV_FILE": str(root.parent / "no.env"),
    }
    script = str(REPO / "dashboard" / "pages" / "6_Lineage.py")
    result = subprocess.run(
        [sys.executable, "-c", PAGE_PROBE, script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_runner_records_inputs_under_the_key_the_dashboard_reads() -> None:
    from lakehouse.runner import WATERMARK_KEY

    assert data.INPUTS_KEY == WATERMARK_KEY


def test_lineage_page_shows_the_catalog_edges_without_spark_or_gx(catalog_root: Path) -> None:
    compacted = DeltaTable(str(catalog_root / "gold" / "daily_kpis")).history(1)[0]
    assert compacted["operation"] == "OPTIMIZE" and not compacted.get("userMetadata")
    catalog = load_catalog(_settings(catalog_root))

    shown = _probe_page(catalog_root)

    assert shown["exceptions"] == [] and shown["warnings"] == []
    assert shown["imported"] == []
    assert sorted(map(tuple, shown["edges"])) == sorted(catalog.edges())
    assert shown["metrics"]["Tables"] == shown["metrics"]["Tables built"] == str(len(catalog))
    assert shown["metrics"]["Dependencies"] == str(len(catalog.edges()))


def test_lineage_looks_past_maintenance_commits(catalog_root: Path) -> None:
    settings = _settings(catalog_root)
    assert data.table_info(settings, COMPACTED).inputs is None  # the OPTIMIZE commit records none
    graph = data.lineage(settings)
    assert graph.tables[COMPACTED].inputs == {"silver.events": 1, "silver.order_lines": 1}
    assert [e for e in graph.edges if e[1] == COMPACTED] == [
        ("silver.events", COMPACTED),
        ("silver.order_lines", COMPACTED),
    ]


def test_lineage_of_the_fixture_names_inputs_that_are_not_built(gold_root: Path) -> None:
    graph = data.lineage(_settings(gold_root))
    assert graph.tables["silver.events"] is None
    assert graph.tables["gold.category_daily"].inputs == {"gold.product_daily": 0}
    assert ("gold.product_daily", "gold.category_daily") in graph.edges
    assert len(graph.edges) == 15
    assert graph.tables["gold.experiment_daily"] is None  # an input of the decision tables the fixture does not build
    # ops and quarantine tables are not part of the graph
    assert not [t for t in graph.tables if t.startswith(("ops.", "quarantine."))]


def test_a_new_commit_is_seen_after_the_result_cache_expires(tmp_path: Path) -> None:
    """Table handles outlive the result cache, but every uncached read brings them up to date."""
    root = tmp_path / "lakehouse"
    settings = _settings(root)
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis().slice(0, 5), {"inputs": {}})
    assert data.load_table(settings, "gold.daily_kpis").shape[0] == 5
    assert data.table_info(settings, "gold.daily_kpis").version == 0
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis(), {"inputs": {}})
    st.cache_data.clear()  # what the TTL does; the handles stay
    assert data.load_table(settings, "gold.daily_kpis").shape[0] == gold_fixture.DAYS
    assert data.table_info(settings, "gold.daily_kpis").version == 1
