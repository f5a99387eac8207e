"""Every page under Streamlit's AppTest: it renders, shows the fixture's numbers, and degrades to an empty state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
    # st.error is reserved for unreadable data; the SRM verdict is the one deliberate red box
    assert not [e.value for e in at.error if not e.value.startswith("**Verdict:**")]


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
    # 7 gold + 3 silver tables in the fixture, plus silver.events and silver.order_lines named as inputs
    assert shown["Tables"][0] == "12"
    assert shown["Tables built"][0] == "10"
    assert shown["Dependencies"][0] == "11"
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
