"""The dashboard's reader: filters pushed into the scan, missing tables, aliases, DuckDB queries, no Spark."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st

from dashboard import data
from lakehouse.settings import Settings
from tests.dashboard import gold_fixture


def settings_for(root: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, root=str(root), landing=str(root.parent / "landing"), **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(gold_root: Path) -> Settings:
    return settings_for(gold_root)


def test_date_range_is_pushed_into_the_scan(settings: Settings) -> None:
    frame = data.load_table(settings, "gold.daily_kpis", dt.date(2026, 10, 5), dt.date(2026, 10, 7))
    assert sorted(frame["date"]) == [dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)]
    # decimals arrive as floats for charts; 1000.25 + 10 x 4
    assert frame.sort_values("date")["revenue"].iloc[0] == pytest.approx(1040.25)


def test_date_filter_columns_come_from_the_declarations(settings: Settings) -> None:
    # The declared date_column first, then the older names ALIASES allows for it.
    assert data.date_columns(settings, "gold.daily_kpis") == ("date",)
    assert data.date_columns(settings, "gold.funnel_daily") == ("session_date", "date")
    assert data.date_columns(settings, "silver.stock") == ("snapshot_date",)
    assert data.date_columns(settings, "gold.fct_user") == ()  # one row per user: no date to filter on
    assert data.date_columns(settings, "ops.pipeline_runs") == ()  # not a declared table


def test_device_filter_applies_to_the_funnel_only(settings: Settings) -> None:
    funnel = data.load_table(settings, "gold.funnel_daily", devices=["mobile"])
    assert set(funnel["device"]) == {"mobile"}
    kpis = data.load_table(settings, "gold.daily_kpis", devices=["mobile"])
    assert len(kpis) == gold_fixture.DAYS


def test_missing_table_is_an_empty_frame_and_not_cached(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "lh")
    assert data.load_table(settings, "gold.daily_kpis").empty
    assert data.table_info(settings, "gold.daily_kpis") is None
    gold_fixture._write(tmp_path / "lh", "gold.daily_kpis", gold_fixture.daily_kpis())
    assert len(data.load_table(settings, "gold.daily_kpis")) == gold_fixture.DAYS


def test_renamed_columns_are_read_under_their_canonical_names(tmp_path: Path) -> None:
    root = tmp_path / "lh"
    gold_fixture._write(
        root,
        "gold.funnel_daily",
        pa.table(
            {
                "date": [dt.date(2026, 10, 1)],
                "device": ["all"],
                "step": [1],
                "step_name": ["product_view"],
                "sessions": [7],
            }
        ),
    )
    frame = data.load_table(settings_for(root), "gold.funnel_daily", dt.date(2026, 10, 1), dt.date(2026, 10, 1))
    assert frame[["session_date", "sessions_reached"]].to_dict("records") == [
        {"session_date": dt.date(2026, 10, 1), "sessions_reached": 7}
    ]


def test_table_info_comes_from_the_delta_log(settings: Settings) -> None:
    info = data.table_info(settings, "gold.daily_kpis")
    assert info is not None
    assert (info.version, info.rows) == (1, gold_fixture.DAYS)
    assert info.inputs == {"silver.events": 1, "silver.order_lines": 1}
    assert "session_conversion_rate" in info.columns
    assert info.last_commit is not None and info.last_commit.tzinfo is not None


def test_top_products_aggregates_in_duckdb_and_joins_names(settings: Settings) -> None:
    top = data.top_products(settings, gold_fixture.FIRST_DAY, gold_fixture.LAST_DAY, limit=2)
    assert top[["product_id", "name", "revenue", "units_sold", "spike_days"]].to_dict("records") == [
        {"product_id": "P3", "name": "Espresso machine", "revenue": 5000.0, "units_sold": 10.0, "spike_days": 0},
        {"product_id": "P1", "name": "Coffee beans", "revenue": 2000.0, "units_sold": 100.0, "spike_days": 0},
    ]
    # the spike day (2026-10-16) only counts when it is inside the range
    spike_week = data.top_products(settings, dt.date(2026, 10, 14), dt.date(2026, 10, 20))
    assert spike_week.set_index("product_id").loc["P2", "spike_days"] == 1


def test_stock_cover_uses_the_latest_snapshot_on_or_before_the_date(settings: Settings) -> None:
    cover = data.stock_cover(settings, gold_fixture.LAST_DAY).set_index("product_id")
    assert cover.loc["P1", ["on_hand", "reorder_point", "warehouses"]].tolist() == [70, 20, 2]
    assert cover.loc["P2", "avg_daily_units"] == pytest.approx(22 / 7)
    # a day earlier only the older snapshot (on hand + 1000 per warehouse) exists
    earlier = data.stock_cover(settings, gold_fixture.LAST_DAY - dt.timedelta(days=1)).set_index("product_id")
    assert earlier.loc["P1", "on_hand"] == 2070


def test_date_bounds_and_devices(settings: Settings) -> None:
    assert data.date_bounds(settings) == (gold_fixture.FIRST_DAY, gold_fixture.LAST_DAY)
    assert data.devices(settings) == ["desktop", "mobile"]
    assert data.date_bounds(settings_for(Path("/nonexistent/lh"))) is None


def test_data_docs_location(settings: Settings, tmp_path: Path) -> None:
    found = data.data_docs_location(settings)
    assert found is not None and found.endswith("data_docs/local_site/index.html")
    assert data.data_docs_location(settings_for(tmp_path / "lh")) is None


def test_object_storage_uri_and_options(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, s3_access_key="k", s3_secret_key="s")
    remote = settings.model_copy(update={"root": "s3a://lakehouse/prod"})
    assert data.table_uri(remote, "gold.daily_kpis") == "s3://lakehouse/prod/gold/daily_kpis"
    assert dict(data._storage_options(remote))["AWS_ACCESS_KEY_ID"] == "k"
    assert data._storage_options(settings) == ()


def test_dashboard_modules_do_not_import_spark() -> None:
    code = (
        "import sys\n"
        "import dashboard.data, dashboard.ui, dashboard.charts, dashboard.summaries, dashboard.launch\n"
        "bad = [m for m in ('pyspark', 'delta', 'great_expectations') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_results_kept_per_version_are_handed_out_as_copies(tmp_path: Path) -> None:
    root = gold_fixture.build(tmp_path / "lakehouse", with_docs=False)
    settings = settings_for(root)
    first = data.load_table(settings, "gold.daily_kpis")
    first["revenue"] = 0.0  # a page changing its frame in place
    st.cache_data.clear()  # the TTL expired; the table has no new commit, so the kept result answers
    again = data.load_table(settings, "gold.daily_kpis")
    assert again["revenue"].sum() == pytest.approx(21905.0)
    data.clear_cache()  # Refresh: everything is read afresh
    assert data.load_table(settings, "gold.daily_kpis")["revenue"].sum() == pytest.approx(21905.0)


def test_a_table_written_anew_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleted and rewritten (same path, version 0 again): the handle is reopened, the kept result not reused."""
    root = tmp_path / "lakehouse"
    settings = settings_for(root)
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis().slice(0, 5))
    assert len(data.load_table(settings, "gold.daily_kpis")) == 5
    shutil.rmtree(root / "gold" / "daily_kpis")
    gold_fixture._write(root, "gold.daily_kpis", gold_fixture.daily_kpis())
    monkeypatch.setattr(data, "HANDLE_MAX_AGE_SECONDS", 0.0)  # as if a minute had passed
    st.cache_data.clear()
    assert len(data.load_table(settings, "gold.daily_kpis")) == gold_fixture.DAYS
