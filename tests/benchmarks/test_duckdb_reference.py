"""The DuckDB reference of the benchmark (benchmarks/duckdb_reference.py) and the gold comparison.

No Spark: the reference is checked against the pure-Python reading in tests/pipeline/independent.py
on a small generated landing zone, its statistics against scipy directly, and the comparison of
``pipeline_benchmark`` on hand-made rows.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from scipy import stats

from devtools.generate import generate_landing
from tests.pipeline import independent

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    ref = _module("duckdb_reference")
    landing = tmp_path_factory.mktemp("landing")
    generate_landing(landing, days=5, users=80, seed=3)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return landing, now, ref.run_reference(landing, [ref.Batch(tuple(ref.landing_files(landing)), now)])


def test_every_gold_table_is_built(reference) -> None:
    _, _, result = reference
    ref = _module("duckdb_reference")
    assert set(result.gold) == set(ref.GOLD_TABLES)
    assert all(result.gold[t] for t in ref.GOLD_TABLES)
    assert result.counts["silver_products"] > 0 and result.counts["silver_experiments"] == 2
    assert "total" in result.seconds and "total" in result.cpu_seconds


def test_daily_kpis_match_the_independent_reading(reference) -> None:
    landing, now, result = reference
    expected = independent.daily_kpis(landing, now)
    got = {row["date"]: row for row in result.daily_kpis}
    assert set(got) == set(expected)
    for day, kpi in expected.items():
        row = got[day]
        assert abs(row["revenue"] - kpi["revenue"]) <= Decimal("1e-6")
        assert (row["aov"] is None) == (kpi["aov"] is None)
        for key in ("orders", "active_users", "sessions", "new_customers"):
            assert row[key] == kpi[key], (day, key)
        assert row["units"] == kpi["units"]


def test_funnel_steps_never_grow_and_sessions_agree_with_daily_kpis(reference) -> None:
    _, _, result = reference
    sessions = {row["date"]: row["sessions"] for row in result.daily_kpis}
    reached: dict[tuple, list[int]] = {}
    for row in result.gold["funnel_daily"]:
        reached.setdefault((row["session_date"], row["device"]), [0, 0, 0, 0])[row["step"] - 1] = row[
            "sessions_reached"
        ]
    for (day, device), counts in reached.items():
        assert counts == sorted(counts, reverse=True)
        if device == "all":
            assert counts[0] <= sessions[day]
    for row in result.gold["fct_user"]:
        assert row["first_seen"] <= row["last_seen"]


def test_experiment_statistics_follow_scipy() -> None:
    ref = _module("duckdb_reference")
    control = [0.0, 10.0, 0.0, 5.0, 0.0]
    treatment = [20.0, 0.0, 7.5, 0.0, 12.0, 3.0]
    rows = ref.experiment_statistics(
        [
            {
                "experiment_id": "e",
                "variant": "a",
                "variant_index": 0,
                "allocation_share": 1.0,
                "users": 5,
                "converters": 2,
                "revenue": Decimal("15"),
                "user_revenue": control,
            },
            {
                "experiment_id": "e",
                "variant": "b",
                "variant_index": 1,
                "allocation_share": 3.0,
                "users": 6,
                "converters": 4,
                "revenue": Decimal("42.5"),
                "user_revenue": treatment,
            },
        ]
    )
    a, b = rows
    srm = stats.chisquare([5, 6], [11 * 0.25, 11 * 0.75]).pvalue
    assert a["srm_p_value"] == pytest.approx(srm) and b["srm_p_value"] == pytest.approx(srm)
    assert a["is_control"] and a["p_value"] is None and a["revenue_p_value"] is None and a["abs_lift"] is None
    p1, p0 = 4 / 6, 2 / 5
    assert b["abs_lift"] == pytest.approx(p1 - p0) and b["rel_lift"] == pytest.approx((p1 - p0) / p0)
    se = (p1 * (1 - p1) / 6 + p0 * (1 - p0) / 5) ** 0.5
    assert b["ci_low"] == pytest.approx(p1 - p0 - stats.norm.ppf(0.975) * se)
    pooled = 6 / 11
    z = (p1 - p0) / (pooled * (1 - pooled) * (1 / 6 + 1 / 5)) ** 0.5
    assert b["p_value"] == pytest.approx(2 * stats.norm.sf(z)) and b["significant"] is False
    assert b["revenue_p_value"] == pytest.approx(stats.ttest_ind(treatment, control, equal_var=False).pvalue)
    assert b["revenue_per_user"] == Decimal("42.5") / 6


def test_compare_gold_tolerances() -> None:
    bench = _module("pipeline_benchmark")
    day = dt.date(2026, 10, 1)
    spark = [{"date": day, "category": "home", "revenue": Decimal("10.000000"), "units": Decimal("2.0000")}]
    same = [{"date": day, "category": "home", "revenue": Decimal("10.0000004"), "units": Decimal("2")}]
    assert bench.compare_gold("category_daily", spark, same)["equal"]
    off = [{"date": day, "category": "home", "revenue": Decimal("10.00001"), "units": Decimal("2")}]
    assert not bench.compare_gold("category_daily", spark, off)["equal"]
    other_key = [{"date": day, "category": "unknown", "revenue": Decimal("10"), "units": Decimal("2")}]
    result = bench.compare_gold("category_daily", spark, other_key)
    assert not result["equal"] and result["keys_only_in_one"] == 2
    instant = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    fct = {"user_id": "u1", "first_seen": instant, "sessions": 1, "revenue": Decimal(0)}
    naive = {**fct, "first_seen": instant.replace(tzinfo=None)}
    assert bench.compare_gold("fct_user", [fct], [naive])["equal"]
    assert not bench.compare_gold("fct_user", [fct], [{**naive, "sessions": 2}])["equal"]
