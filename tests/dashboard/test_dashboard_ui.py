"""Number formats of the KPI tiles and the dash for missing table cells."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from dashboard import ui
from dashboard.ui import MISSING


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (None, 0, MISSING),
        (math.nan, 2, MISSING),
        (0, 0, "0"),
        (54.7625, 2, "54.76"),
        (109.5, 1, "109.5"),
        (999, 0, "999"),
        (999.994, 2, "999.99"),
        (1000, 0, "1.0k"),
        (21905.0, 2, "21.9k"),
        (348_301.12, 2, "348.3k"),
        # the unit is chosen after rounding: not '1000.0k'
        (999_960, 0, "1.0M"),
        (1_234_567, 0, "1.2M"),
        (-4_049.5, 2, "-4.0k"),
        (2_500_000_000, 0, "2.5B"),
        (7.1e12, 0, "7.1T"),
    ],
)
def test_compact_numbers_fit_a_tile(value: float | None, places: int, shown: str) -> None:
    assert ui.compact(value, places) == shown


def test_compact_never_exceeds_six_characters_from_a_thousand_up() -> None:
    # 6 characters at the tile's font size fit a fifth of a 1400-px wide page
    for value in (1_000, 9_999.9, 99_949, 999_949, 999_999, 12_345_678, 987_654_321_000, -987_654):
        assert len(ui.compact(value, 2).lstrip("-")) <= 6, ui.compact(value, 2)


class _Column:
    """Stands in for an st.columns() cell: records what metric() was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def metric(self, *args: object, **kwargs: object) -> None:
        self.calls.append((args, kwargs))


def test_metric_tile_shows_compact_value_and_exact_tooltip() -> None:
    column = _Column()
    ui.metric(column, "Revenue", 348_301.12, "money", delta="+6.4%", help="Sum of sale line revenue.")
    ui.metric(column, "Orders", 400)
    assert column.calls == [
        (
            ("Revenue", "348.3k"),
            {"help": "Sum of sale line revenue.\n\nExact: 348,301.12", "border": True, "delta": "+6.4%"},
        ),
        (("Orders", "400"), {"help": None, "border": True}),
    ]


def test_dashed_replaces_every_kind_of_missing_cell() -> None:
    frame = pd.DataFrame(
        {
            "table": ["silver.events", "gold.fct_user"],
            "rows_written": [90.0, None],  # an int64 column with a null arrives as float
            "cover": [14.04, math.nan],
            "conversion": [0.0975609756, None],
            "message": [None, "quality gate failed"],
            "finished_at": [pd.Timestamp("2026-10-21 01:00:00", tz="UTC"), pd.NaT],
            "rows_in": [100, 100],
        }
    )
    shown = ui.dashed(frame, {"cover": "%.1f"})
    assert shown.to_dict("list") == {
        "table": ["silver.events", "gold.fct_user"],
        "rows_written": ["90", MISSING],
        "cover": ["14.0", MISSING],
        "conversion": ["0.0976", MISSING],
        "message": [MISSING, "quality gate failed"],
        "finished_at": ["2026-10-21 01:00:00+00:00", MISSING],
        "rows_in": [100, 100],
    }
    assert shown["rows_in"].dtype == "int64"
    # the frame passed in is left as it was
    assert frame["message"].isna().tolist() == [True, False]


def test_dashed_returns_a_complete_frame_unchanged() -> None:
    frame = pd.DataFrame({"day": [dt.date(2026, 10, 1)], "revenue": [1000.25]})
    assert ui.dashed(frame) is frame
