"""The page arithmetic: period totals, re-derived funnel ratios, experiment verdicts, cohorts, health, layout."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import summaries
from tests.dashboard import gold_fixture


def test_kpi_summary_derives_ratios_from_summed_counts() -> None:
    daily = gold_fixture.daily_kpis().to_pandas()
    for column in ("revenue", "aov", "units"):
        daily[column] = daily[column].astype(float)
    summary = summaries.kpi_summary(daily)
    assert summary.revenue == pytest.approx(21905.0)
    assert summary.aov == pytest.approx(54.7625)
    assert summary.session_conversion == pytest.approx(390 / 4000)
    assert summary.avg_active_users == pytest.approx(109.5)


def test_kpi_summary_of_nothing_is_all_none() -> None:
    summary = summaries.kpi_summary(pd.DataFrame())
    assert summary.days == 0 and summary.revenue is None and summary.session_conversion is None


def test_kpi_summary_zero_orders_gives_no_aov() -> None:
    daily = pd.DataFrame({"revenue": [0.0], "orders": [0], "sessions": [0], "session_conversion_rate": [None]})
    summary = summaries.kpi_summary(daily)
    assert summary.aov is None and summary.session_conversion is None


def test_funnel_totals_recompute_conversions_per_device() -> None:
    funnel = pd.DataFrame(
        {
            "device": ["d", "d", "d", "d", "m", "m"],
            "session_date": [1, 1, 2, 2, 1, 1],
            "step": [1, 2, 1, 2, 1, 2],
            "step_name": ["view", "cart"] * 3,
            "sessions_reached": [10, 5, 30, 3, 4, 0],
        }
    )
    totals = summaries.funnel_totals(funnel, by=("device",)).set_index(["device", "step"])
    # (5 + 3) / (10 + 30), not the mean of 0.5 and 0.1
    assert totals.loc[("d", 2), "step_conversion"] == pytest.approx(0.2)
    assert totals.loc[("m", 2), "overall_conversion"] == 0
    assert pd.isna(totals.loc[("d", 1), "step_conversion"])


def test_pick_devices_prefers_the_published_rollup() -> None:
    funnel = pd.DataFrame({"device": ["all", "d", "m"], "step": [1, 1, 1], "sessions_reached": [5, 2, 3]})
    assert summaries.pick_devices(funnel, [])["device"].tolist() == ["all"]
    assert summaries.pick_devices(funnel, ["m"])["device"].tolist() == ["m"]


def _experiment(name: str) -> pd.DataFrame:
    frame = gold_fixture.experiment_results().to_pandas()
    return frame[frame["experiment_id"] == name].reset_index(drop=True)


def test_verdict_names_the_winner_with_its_interval() -> None:
    verdict = summaries.experiment_verdict("checkout_button", _experiment("checkout_button"))
    assert (verdict.control, verdict.tone, verdict.srm) == ("A", "winner", False)
    assert verdict.headline == "B beats the control (A)."
    assert "+3.00 pp, 95% CI +0.21 pp to +5.79 pp, p = 0.035" in verdict.lines[0]


def test_verdict_refuses_to_conclude_under_srm() -> None:
    verdict = summaries.experiment_verdict("free_shipping", _experiment("free_shipping"))
    assert verdict.srm and verdict.tone == "srm"
    assert verdict.headline.startswith("Don't act on this test yet")


def test_verdict_without_significance_says_no_winner() -> None:
    rows = _experiment("checkout_button").assign(significant=[None, False], p_value=[None, 0.4])
    verdict = summaries.experiment_verdict("x", rows)
    assert verdict.tone == "none"
    assert verdict.lines[0].startswith("No significant difference between **B** and **A**")


def test_control_is_found_without_is_control_column() -> None:
    rows = _experiment("checkout_button").drop(columns=["is_control", "variant_index"]).iloc[::-1]
    assert summaries.control_row(rows)["variant"] == "A"


def test_retention_matrix_pivots_cohorts() -> None:
    matrix, sizes = summaries.retention_matrix(gold_fixture.retention_cohorts().to_pandas())
    assert list(matrix.index) == ["2026-08", "2026-09", "2026-10"]
    assert matrix.loc["2026-08", 1] == pytest.approx(0.3)
    assert pd.isna(matrix.loc["2026-10", 1])
    assert sizes.tolist() == [40, 50, 60]


def test_health_summaries_use_the_latest_run_and_validation() -> None:
    runs = gold_fixture.pipeline_runs().to_pandas()
    latest = summaries.latest_runs(runs)
    assert set(latest["run_id"]) == {gold_fixture.RUN_NEW}
    assert len(latest) == len(gold_fixture.RUN_TABLES)
    checks = summaries.check_summary(gold_fixture.quality_results().to_pandas()).set_index("table")
    assert checks.loc["gold.daily_kpis", ["passed", "failed"]].tolist() == [2, 0]
    assert checks.loc["silver.order_lines", ["failed", "failed_critical"]].tolist() == [1, 0]


def test_quarantine_counts_by_rule() -> None:
    counts = summaries.quarantine_counts(
        [
            (
                "quarantine.events",
                gold_fixture.quarantine([("a", "r1"), ("a", "r1"), ("b", "r2")], "events").to_pandas(),
            ),
            ("quarantine.order_lines", pd.DataFrame()),
        ]
    )
    assert counts[["_rule", "rows"]].to_dict("records") == [{"_rule": "a", "rows": 2}, {"_rule": "b", "rows": 1}]


def test_age_text() -> None:
    now = dt.datetime(2026, 10, 21, tzinfo=dt.UTC)
    assert summaries.age_text(now - dt.timedelta(minutes=5), now) == "5 min ago"
    assert summaries.age_text(now - dt.timedelta(hours=3, minutes=12), now) == "3 h 12 min ago"
    assert summaries.age_text(None, now) == summaries.MISSING


def test_age_short_fits_a_tile() -> None:
    now = dt.datetime(2026, 11, 1, 12, 0)
    ages = [
        dt.timedelta(seconds=45),
        dt.timedelta(minutes=59),
        dt.timedelta(hours=3, minutes=12),
        dt.timedelta(days=36),
    ]
    assert [summaries.age_short(now - age, now) for age in ages] == ["45 s", "59 min", "3.2 h", "36.0 d"]
    assert summaries.age_short(now - dt.timedelta(days=400), now) == "1.1 y"
    longest = [dt.timedelta(seconds=59.9), dt.timedelta(hours=23.9), dt.timedelta(days=99.9), dt.timedelta(days=3000)]
    assert all(len(summaries.age_short(now - age, now)) <= 6 for age in [*ages, *longest])
    assert summaries.age_short(None, now) == summaries.MISSING


def test_dag_positions_columns_by_layer_and_orders_by_inputs() -> None:
    nodes = ["bronze.a", "bronze.b", "silver.from_b", "silver.from_a", "gold.k"]
    edges = [("bronze.a", "silver.from_a"), ("bronze.b", "silver.from_b"), ("silver.from_a", "gold.k")]
    positions = summaries.dag_positions(nodes, edges)
    assert {n: x for n, (x, _) in positions.items()} == {
        "bronze.a": 0,
        "bronze.b": 0,
        "silver.from_a": 1,
        "silver.from_b": 1,
        "gold.k": 2,
    }
    # silver tables line up with their inputs, so no edge crosses
    assert positions["silver.from_a"][1] > positions["silver.from_b"][1]


def test_dag_positions_shift_tables_built_from_their_own_layer() -> None:
    positions = summaries.dag_positions(["silver.a", "silver.b"], [("silver.a", "silver.b")])
    assert positions["silver.a"][0] == 0
    assert positions["silver.b"][0] == pytest.approx(summaries.INTRA_LAYER_SHIFT)


def test_verdict_does_not_repeat_a_control_named_control() -> None:
    rows = _experiment("checkout_button").assign(variant=["control", "treatment"])
    assert summaries.experiment_verdict("x", rows).headline == "treatment beats the control."


def _decisions(name: str) -> pd.DataFrame:
    frame = gold_fixture.experiment_metrics().to_pandas()
    return frame[frame["experiment_id"] == name].reset_index(drop=True)


def test_decision_table_formats_each_metric_in_its_unit() -> None:
    table = summaries.decision_table(_decisions("checkout_button")).set_index("metric")
    assert list(table.index) == ["conversion", "revenue_per_user", "orders_per_user", "aov", "page_views_per_session"]
    assert table.loc["conversion", "difference (95% CI)"] == gold_fixture.EXPECTED["conversion_difference"]
    assert table.loc["conversion", "MDE"] == "3.99 pp"
    assert table.loc["revenue_per_user", "difference (95% CI)"] == "+1.50 [-0.07, +3.07]"
    assert table.loc["orders_per_user", "variant value"] == "0.140"
    # Holm leaves guardrails out: no adjusted p-value, a status instead
    assert table.loc["page_views_per_session", ["adjusted p", "guardrail"]].tolist() == [summaries.MISSING, "holds"]
    assert not (table == "None").any().any()


def test_decision_table_puts_goals_first_and_shows_tiny_p_values() -> None:
    rows = _decisions("checkout_button").iloc[::-1].assign(p_value=2e-5)
    table = summaries.decision_table(rows)
    assert table["role"].tolist() == ["goal", "secondary", "secondary", "secondary", "guardrail"]
    assert set(table["p-value"]) == {"<0.0001"}


def test_decision_verdict_tone_follows_the_pipeline_line() -> None:
    assert summaries.decision_verdict(_decisions("free_shipping")) == (gold_fixture.EXPECTED["decision_srm"], "srm")
    assert summaries.decision_verdict(_decisions("checkout_button"))[1] == "none"
    for line, tone in (
        ("ship: B beats A on conversion (+3 pp, adjusted p=0.01); guardrails hold", "winner"),
        ("do not ship: guardrail page_views_per_session breached (B: CI low -0.3 vs margin -0.25)", "loser"),
    ):
        assert summaries.decision_verdict(pd.DataFrame({"verdict": [line]})) == (line, tone)
    assert summaries.decision_verdict(pd.DataFrame({"verdict": [None]})) is None


def test_cuped_notes_turn_variance_reduction_into_a_narrower_interval() -> None:
    # 1 - sqrt(1 - r): 0.36 -> 20%, 0.19 -> 10%, 0.0975 -> 5%; ratio metrics have no CUPED
    assert summaries.cuped_notes(_decisions("checkout_button")) == [
        "CI 20% narrower on conversion",
        "CI 10% narrower on revenue_per_user",
        "CI 5% narrower on orders_per_user",
    ]
    two = pd.DataFrame({"metric": ["conversion"] * 2, "variant": ["B", "C"], "variance_reduction": [0.36, 0.19]})
    assert summaries.cuped_notes(two) == ["CI 20% narrower on conversion (B)", "CI 10% narrower on conversion (C)"]


def test_guardrail_status_states_the_margin() -> None:
    (status,) = summaries.guardrail_status(_decisions("free_shipping"))
    assert (status.metric, status.variant, status.ok) == ("page_views_per_session", "treatment", False)
    assert status.text == (
        "**page_views_per_session**, treatment: breached "
        "(difference and 95% CI -0.200 [-0.318, -0.082]; may not fall by more than 0.250)"
    )
