"""Every page under Streamlit's AppTest: it renders, shows the fixture's numbers, and degrades to an empty state."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from dashboard.ui import DEMO_HINT, MISSING
from tests.dashboard import gold_fixture
from tests.dashboard.dashboard_testing import PAGES, TITLES, metric_help, metrics, run_page
from tests.dashboard.gold_fixture import EXPECTED


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_title_and_charts(fixture_app: Path, page: str) -> None:
    at = run_page(page)
    assert [t.value for t in at.title] == [TITLES[page]]
    assert at.get("plotly_chart"), f"{page} drew no Plotly chart"
    # st.error is reserved for unreadable data; the SRM verdict and the withheld decision are the deliberate red boxes
    assert not [
        e.value
        for e in at.error
        if not e.value.startswith(("**Verdict:**", "**Conversion alone", "**Decision:** withheld"))
    ]


def test_overview_cards_equal_gold_totals(fixture_app: Path) -> None:
    at = run_page("overview")
    shown = metrics(at)
    assert shown["Revenue"][0] == EXPECTED["revenue"]
    # the tile is compact, the tooltip keeps the exact amount (and the explanation)
    assert metric_help(at)["Revenue"] == (
        "Sum of sale line revenue by order date (cancelled and returned lines excluded).\n\n"
        f"Exact: {EXPECTED['revenue_exact']}"
    )
    # numbers that already fit get no 'Exact' line
    assert "Exact" not in metric_help(at)["AOV"]
    assert shown["Orders"][0] == EXPECTED["orders"]
    assert shown["AOV"][0] == EXPECTED["aov"]
    assert shown["Avg daily users"][0] == EXPECTED["active_users"]
    assert shown["Session conversion"][0] == EXPECTED["conversion"]
    # the default range covers all 20 days, so there is no previous period to compare with
    assert shown["Revenue"][1] == ""


def test_overview_compares_with_previous_period_of_equal_length(fixture_app: Path) -> None:
    at = run_page("overview")
    last_week = (gold_fixture.LAST_DAY - dt.timedelta(days=6), gold_fixture.LAST_DAY)
    at.sidebar.date_input[0].set_value(last_week)
    shown = metrics(run_page("overview", at))
    assert shown["Revenue"] == (EXPECTED["revenue_last7"], EXPECTED["revenue_change_last7"])
    assert shown["Orders"] == ("140", "+0.0%")
    assert shown["Session conversion"] == (EXPECTED["conversion_last7"], EXPECTED["conversion_change_last7"])


def test_products_page_ranks_joins_names_and_computes_cover(fixture_app: Path) -> None:
    at = run_page("products")
    shown = metrics(at)
    assert shown["Top product revenue"] == (EXPECTED["top_product_revenue"], EXPECTED["top_product"])
    assert shown["Products with a sales spike"][0] == "1"
    assert shown["Units on hand"][0] == EXPECTED["units_on_hand"]
    # P2: 11 on hand, reorder point 15
    assert shown["At or below reorder point"][0] == "1"
    cover = next(df.value for df in at.dataframe if "days_of_cover" in df.value.columns)
    by_product = cover.set_index("product_id")["days_of_cover"]
    # on hand / (units of the 7 days ending 2026-10-20 / 7): P1 70/(35/7), P2 11/(22/7), P3 9/(3/7), P4 sold none;
    # shown with the column's one decimal, and a dash where there is no cover
    assert by_product.to_dict() == {"P1": "14.0", "P2": "3.5", "P3": "21.0", "P4": MISSING}


def test_funnels_page_sums_steps_and_filters_devices(fixture_app: Path) -> None:
    at = run_page("funnels")
    shown = metrics(at)
    assert shown["Sessions: product_view"][0] == EXPECTED["funnel_first_step"]
    assert shown["Overall conversion"][0] == EXPECTED["funnel_overall"]
    at.sidebar.multiselect[0].select("desktop")
    shown = metrics(run_page("funnels", at))
    assert shown["Sessions: product_view"][0] == "2.0k"
    assert metric_help(at)["Sessions: product_view"] == "Exact: 2,000"
    assert shown["Sessions: add_to_cart"] == ("800", "40.0%")
    assert shown["Overall conversion"][0] == "10.00%"


def test_experiments_page_flags_srm_and_states_a_verdict(fixture_app: Path) -> None:
    at = run_page("experiments")
    assert metrics(at)["Users"][0] == EXPECTED["experiment_users"]
    assert [s.value for s in at.subheader] == ["Experiment checkout_button", "Experiment free_shipping"]
    assert "Bigger checkout button, 2026-10-01 to 2026-10-20" in [c.value for c in at.caption]
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "Sample ratio mismatch" in warnings[0]
    assert any("B beats the control (A)" in s.value for s in at.success)
    assert any("Don't act on this test yet" in e.value for e in at.error)
    verdict_lines = " ".join(m.value for m in at.markdown)
    assert "**B** converts better than **A**: 13.00% vs 10.00% (+3.00 pp" in verdict_lines


def _charts(at) -> list[dict]:
    """The page's Plotly figures as the JSON it sends to the browser."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _numbers(values: list | dict) -> list[float]:
    """A trace's numbers: Plotly sends numeric arrays base64-encoded ({"dtype", "bdata"})."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_experiments_page_shows_the_pipeline_decision(fixture_app: Path) -> None:
    at = run_page("experiments")
    assert f"**Decision:** {EXPECTED['decision']}" in [i.value for i in at.info]
    # the SRM experiment's decision is withheld, in red like the SRM verdict above it
    assert f"**Decision:** {EXPECTED['decision_srm']}" in [e.value for e in at.error]
    tables = [df.value.set_index("metric") for df in at.dataframe if "adjusted p" in df.value.columns]
    assert len(tables) == 2
    checkout, shipping = tables
    assert checkout.loc["conversion", "difference (95% CI)"] == EXPECTED["conversion_difference"]
    assert checkout.loc["conversion", "CUPED difference (95% CI)"] == EXPECTED["conversion_cuped"]
    assert checkout.loc["conversion", "adjusted p"] == EXPECTED["conversion_adjusted_p"]
    assert checkout.loc["conversion", ["control value", "variant value"]].tolist() == ["10.00%", "13.00%"]
    assert checkout.loc["revenue_per_user", ["control value", "variant value"]].tolist() == ["5.00", "6.50"]
    # ratio metrics have no CUPED, no sequential test, no MDE; only guardrails have a status
    assert checkout.loc["aov", ["CUPED difference (95% CI)", "always-valid p", "MDE"]].tolist() == [MISSING] * 3
    assert checkout.loc["conversion", "guardrail"] == MISSING
    assert checkout.loc["page_views_per_session", "guardrail"] == "holds"
    assert shipping.loc["page_views_per_session", "guardrail"] == "breached"
    assert f"CUPED: {EXPECTED['cuped_note']}" in " ".join(c.value for c in at.caption)
    guardrails = [m.value for m in at.markdown if "Guardrail" in m.value]
    assert len(guardrails) == 2
    assert "**page_views_per_session**, B: holds" in guardrails[0]
    assert "**page_views_per_session**, treatment: breached" in guardrails[1]


def test_experiments_page_charts_the_sequential_boundary_of_the_goal(fixture_app: Path) -> None:
    charts = [c for c in _charts(run_page("experiments")) if c["layout"]["title"]["text"].startswith("Sequential")]
    assert [c["layout"]["title"]["text"] for c in charts] == [
        "Sequential boundary: conversion, B vs A (pp)",
        "Sequential boundary: conversion, treatment vs control (pp)",
    ]
    traces = {trace.get("name"): trace for trace in charts[0]["data"]}
    assert {"cumulative estimate", "always-valid 95% confidence sequence", "fixed-horizon 95% CI"} <= set(traces)
    estimate = traces["cumulative estimate"]
    # one point per daily look, ending on the table's difference (+3.00 pp)
    assert len(estimate["x"]) == gold_fixture.DAYS
    assert _numbers(estimate["y"])[-1] == pytest.approx(3.0)
    assert [(shape["y0"], shape["y1"]) for shape in charts[0]["layout"]["shapes"]] == [(0, 0)]


def test_experiments_page_without_decision_tables_renders_as_before(use_root, tmp_path: Path) -> None:
    use_root(gold_fixture.build(tmp_path / "older", with_docs=False, with_decisions=False))
    at = run_page("experiments")
    assert "not built yet" in " ".join(i.value for i in at.info)
    assert [s.value for s in at.subheader] == ["Experiment checkout_button", "Experiment free_shipping"]
    assert any("B beats the control (A)" in s.value for s in at.success)
    assert not [e for e in (*at.info, *at.error) if e.value.startswith("**Decision:**")]
    assert len(_charts(at)) == 4  # conversion bars and lift per experiment, no sequential boundary


def test_experiments_page_without_the_sequential_table_still_decides(use_root, tmp_path: Path) -> None:
    root = gold_fixture.build(tmp_path / "partial", with_docs=False, with_decisions=False)
    gold_fixture._write(root, "gold.experiment_metrics", gold_fixture.experiment_metrics())
    use_root(root)
    at = run_page("experiments")
    assert f"**Decision:** {EXPECTED['decision']}" in [i.value for i in at.info]
    assert "`gold.experiment_sequential` is not built yet" in " ".join(c.value for c in at.caption)
    assert not [c for c in _charts(at) if c["layout"]["title"]["text"].startswith("Sequential")]


def test_cohorts_page_shows_sizes_and_weighted_retention(fixture_app: Path) -> None:
    shown = metrics(run_page("cohorts"))
    assert shown["Cohorts"][0] == "3"
    assert shown["Customers"][0] == EXPECTED["cohort_customers"]
    assert shown["Newest cohort (2026-10)"][0] == EXPECTED["newest_cohort"]
    # (12 + 20) / (40 + 50)
    assert shown["Month-1 retention"][0] == "35.6%"


def test_data_health_page_reads_ops_quarantine_and_delta_logs(fixture_app: Path) -> None:
    at = run_page("health")
    shown = metrics(at)
    assert shown["Tables"][0] == str(len(gold_fixture.RUN_TABLES))
    assert shown["Failed latest runs"][0] == "1"
    # the old failing check on gold.daily_kpis was superseded by a later validation
    assert shown["Failed checks"][0] == EXPECTED["failed_checks"]
    assert shown["Quarantined rows"][0] == EXPECTED["quarantined_rows"]
    versions = next(df.value for df in at.dataframe if "delta_version" in df.value.columns and "rows" in df.value)
    assert versions.set_index("table").loc["gold.daily_kpis", ["delta_version", "rows"]].tolist() == [1, 20]
    assert any("data_docs" in m.value and "index.html" in m.value for m in at.markdown)


def test_data_health_tables_show_missing_cells_as_a_dash(fixture_app: Path) -> None:
    at = run_page("health")
    latest = next(df.value for df in at.dataframe if "rows_written" in df.value.columns).set_index("table")
    # the failed gold.fct_user run wrote nothing; gold tables quarantine nothing; only the failure has a message
    assert latest.loc["gold.fct_user", "rows_written"] == MISSING
    assert latest.loc["gold.daily_kpis", "rows_written"] == "90"
    assert latest.loc["gold.daily_kpis", "quarantined"] == MISSING
    assert latest.loc["silver.events", "quarantined"] == "3"
    assert latest.loc["gold.daily_kpis", "message"] == MISSING
    assert latest.loc["gold.fct_user", "message"] == "quality gate failed: gold.fct_user"
    # columns without a missing cell keep their type
    assert latest["rows_in"].tolist() == [100] * len(gold_fixture.RUN_TABLES)
    failures = next(df.value for df in at.dataframe if "unexpected_count" in df.value.columns)
    assert failures["observed"].tolist() == [MISSING]


@pytest.mark.parametrize("page", list(PAGES))
def test_no_table_shows_none(fixture_app: Path, page: str) -> None:
    at = run_page(page)
    for frame in (df.value for df in at.dataframe):
        assert not frame.isna().any().any(), frame[frame.isna().any(axis=1)]
        assert not (frame.astype(str) == "None").any().any()


def test_lineage_page_reads_the_inputs_recorded_in_delta_commits(fixture_app: Path) -> None:
    at = run_page("lineage")
    shown = metrics(at)
    # 9 gold + 3 silver tables in the fixture, plus silver.events, silver.order_lines and
    # gold.experiment_daily named as inputs; the two decision tables add two edges each
    assert shown["Tables"][0] == "15"
    assert shown["Tables built"][0] == "12"
    assert shown["Dependencies"][0] == "15"
    assert any("`gold.daily_kpis` v1, 20 rows" in m.value for m in at.markdown)
    graph = next(df.value for df in at.dataframe if "inputs" in df.value.columns).set_index("table")
    assert graph.loc["gold.daily_kpis", "inputs"] == "silver.events, silver.order_lines"
    assert graph.loc["gold.daily_kpis", "built_from"] == "silver.events v1, silver.order_lines v1"
    assert graph.loc["gold.category_daily", "inputs"] == "gold.product_daily"
    assert graph.loc["silver.events", ["inputs", "delta_version", "rows"]].tolist() == [MISSING] * 3
    assert not at.warning


@pytest.mark.parametrize("page", list(PAGES))
def test_missing_gold_shows_how_to_produce_data(use_root, empty_root: Path, page: str) -> None:
    use_root(empty_root)
    at = run_page(page)
    infos = " ".join(i.value for i in at.info)
    assert DEMO_HINT in infos, infos
    assert not at.get("plotly_chart")
    assert not at.metric


@pytest.mark.parametrize("page", ["products", "funnels", "experiments", "cohorts", "health"])
def test_pages_with_only_daily_kpis_degrade_per_block(use_root, tmp_path: Path, page: str) -> None:
    root = tmp_path / "partial"
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis())
    use_root(root)
    at = run_page(page)
    assert DEMO_HINT in " ".join(i.value for i in at.info)


def test_table_that_appears_later_shows_without_restart(use_root, tmp_path: Path) -> None:
    root = use_root(tmp_path / "later")
    at = run_page("overview")
    assert DEMO_HINT in at.info[0].value
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis())
    assert metrics(run_page("overview", at))["Revenue"][0] == EXPECTED["revenue"]


def test_date_range_persists_across_pages(fixture_app: Path) -> None:
    at = run_page("overview")
    chosen = (gold_fixture.FIRST_DAY, gold_fixture.FIRST_DAY + dt.timedelta(days=9))
    at.sidebar.date_input[0].set_value(chosen)
    run_page("overview", at)
    at.switch_page(PAGES["funnels"])
    run_page("funnels", at)
    assert at.sidebar.date_input[0].value == chosen
    # 10 days x 220 sessions reaching the first step
    assert metrics(at)["Sessions: product_view"][0] == "2.2k"


def test_half_picked_date_range_is_kept_and_read_up_to_the_last_day(fixture_app: Path) -> None:
    at = run_page("overview")
    first_of_last_week = gold_fixture.LAST_DAY - dt.timedelta(days=6)
    at.sidebar.date_input[0].set_value((first_of_last_week,))
    run_page("overview", at)
    assert at.sidebar.date_input[0].value == (first_of_last_week,)
    assert metrics(at)["Revenue"][0] == EXPECTED["revenue_last7"]
