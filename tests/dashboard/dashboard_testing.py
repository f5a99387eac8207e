"""Running dashboard pages under Streamlit's AppTest: page paths, titles, and result helpers."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
# page name -> script; titles as each page sets them with st.title
PAGES = {
    "overview": "app.py",
    "products": "pages/1_Products_and_categories.py",
    "funnels": "pages/2_Funnels.py",
    "experiments": "pages/3_Experiments.py",
    "cohorts": "pages/4_Cohorts.py",
    "health": "pages/5_Data_health.py",
    "lineage": "pages/6_Lineage.py",
}
TITLES = {
    "overview": "Overview",
    "products": "Products & categories",
    "funnels": "Funnels",
    "experiments": "Experiments",
    "cohorts": "Cohorts",
    "health": "Data health",
    "lineage": "Lineage",
}
TIMEOUT: dict[str, float] = {}
DEFAULT_TIMEOUT = 30.0


def run_page(page: str, at: AppTest | None = None) -> AppTest:
    """Run a page script (or rerun ``at``) and fail with the page's own traceback if it raised."""
    timeout = TIMEOUT.get(page, DEFAULT_TIMEOUT)
    app = at or AppTest.from_file(str(DASHBOARD / PAGES[page]), default_timeout=timeout)
    app.run(timeout=timeout)
    assert not app.exception, "\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in app.exception)
    return app


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    """label -> (value, delta) of the page's st.metric cards (first card wins on a repeated label)."""
    found: dict[str, tuple[str, str]] = {}
    for metric in at.metric:
        found.setdefault(metric.label, (metric.value, metric.delta))
    return found


def metric_help(at: AppTest) -> dict[str, str]:
    """label -> tooltip of the page's st.metric cards (first card wins on a repeated label)."""
    found: dict[str, str] = {}
    for metric in at.metric:
        found.setdefault(metric.label, metric.help)
    return found
