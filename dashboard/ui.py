"""What every page shares: page setup, the sidebar filters, number formats and the empty state.

Each page is its own script (Streamlit's ``pages/`` folder), so it calls :func:`setup`
first; the sidebar is drawn there once, identically on every page. Widget values are
mirrored into plain session-state keys because Streamlit forgets a widget's state when
the page that drew it is left, and a date range should survive switching pages.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dashboard import data
from lakehouse.settings import Settings, SettingsError, load_settings

APP_TITLE = "Lakehouse dashboard"
MISSING = "\N{EN DASH}"  # shown for a null number
DEFAULT_DAYS = 30
DEMO_HINT = (
    "Produce data with `lakehouse demo` (generates sample landing files and runs the pipeline into gold), "
    "or `lakehouse run` on your own landing zone, then press **Refresh data** in the sidebar."
)

_RANGE, _RANGE_WIDGET = "filter_date_range", "_widget_date_range"
_DEVICES, _DEVICES_WIDGET = "filter_devices", "_widget_devices"


@dataclass(frozen=True)
class PageContext:
    """Settings plus the sidebar's filters, as every page needs them."""

    settings: Settings
    start: dt.date
    end: dt.date
    devices: tuple[str, ...]
    bounds: tuple[dt.date, dt.date] | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[dt.date, dt.date]:
        """The period of equal length right before the selected one (for 'change vs previous')."""
        return self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1)


def setup(title: str, icon: str = ":material/dashboard:") -> PageContext:
    """Configure the page, resolve settings and draw the sidebar; stops the page on a settings error."""
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon=icon, layout="wide")
    try:
        settings = load_settings()
    except (SettingsError, ValidationError) as exc:
        st.title(title)
        st.error(f"The lakehouse settings are invalid: {exc}")
        st.stop()
    st.title(title)
    return _sidebar(settings)


def _sidebar(settings: Settings) -> PageContext:
    sidebar = st.sidebar
    if sidebar.button("Refresh data", icon=":material/refresh:", help="Re-read the Delta tables now"):
        data.clear_cache()
    try:
        bounds = data.date_bounds(settings)
        device_options = data.devices(settings)
    except data.DataUnavailable as exc:
        sidebar.error(str(exc))
        bounds, device_options = None, []

    start, end = _date_range(bounds)
    kept = st.session_state.get(_RANGE)
    # a range chosen earlier (possibly on another page, possibly half-picked) while it is still inside the data
    usable = isinstance(kept, tuple | list) and 1 <= len(kept) <= 2
    if usable and (bounds is None or all(bounds[0] <= day <= bounds[1] for day in kept)):
        st.session_state[_RANGE_WIDGET] = tuple(kept)
    else:
        st.session_state[_RANGE_WIDGET] = (start, end)
    picked = sidebar.date_input(
        "Date range",
        min_value=bounds[0] if bounds else None,
        max_value=bounds[1] if bounds else None,
        key=_RANGE_WIDGET,
        on_change=_keep,
        args=(_RANGE, _RANGE_WIDGET),
        help="UTC dates. KPI changes compare with the period of equal length just before.",
    )
    start, end = _as_range(picked, start, end)

    st.session_state[_DEVICES_WIDGET] = [d for d in st.session_state.get(_DEVICES, []) if d in device_options]
    chosen = sidebar.multiselect(
        "Devices",
        device_options,
        key=_DEVICES_WIDGET,
        on_change=_keep,
        args=(_DEVICES, _DEVICES_WIDGET),
        placeholder="All devices",
        help="Gold is split by device in the funnel table only; other pages show all devices.",
    )
    sidebar.divider()
    sidebar.caption(f"Lakehouse: `{settings.root}`")
    sidebar.caption(f"Reads Delta with delta-rs + DuckDB; cached {settings.dashboard_cache_seconds} s.")
    return PageContext(settings, start, end, tuple(chosen), bounds)


def _date_range(bounds: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    """Default range: the last DEFAULT_DAYS days that have data (or up to today without data)."""
    last = bounds[1] if bounds else dt.datetime.now(dt.UTC).date()
    first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if bounds:
        first = max(first, bounds[0])
    return first, last


def _keep(key: str, widget_key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def _as_range(picked: object, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The widget gives one date while the user is still choosing the second: keep the old end then."""
    if isinstance(picked, Sequence) and len(picked) == 2:
        return picked[0], picked[1]
    if isinstance(picked, Sequence) and len(picked) == 1:
        return picked[0], max(picked[0], end)
    if isinstance(picked, dt.date):
        return picked, picked
    return start, end


def empty_state(settings: Settings, tables: Sequence[str]) -> None:
    """The friendly 'nothing here yet' panel that replaces a page whose tables do not exist."""
    names = ", ".join(f"`{t}`" for t in tables)
    st.info(
        f"No data yet: {names} not found in the lakehouse at `{settings.root}`.\n\n{DEMO_HINT}",
        icon=":material/inbox:",
    )


def no_rows(start: dt.date, end: dt.date) -> None:
    st.info(f"No rows between {start:%Y-%m-%d} and {end:%Y-%m-%d}. Widen the date range in the sidebar.")


def missing_columns(table_id: str, missing: Sequence[str], found: Sequence[str]) -> None:
    st.warning(
        f"`{table_id}` has no column {', '.join(f'`{m}`' for m in missing)} (found: {', '.join(found)}); "
        "this part of the page is skipped."
    )


@contextmanager
def guard() -> Iterator[None]:
    """Show a readable error instead of a traceback when a table exists but cannot be read."""
    try:
        yield
    except data.DataUnavailable as exc:
        st.error(f"Could not read the lakehouse: {exc}")


# ---------------------------------------------------------------------------- number formats


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None) -> str:
    """Amounts with two decimals and thousands separators (the tables hold no currency)."""
    return MISSING if _missing(value) else f"{value:,.2f}"


def count(value: float | None) -> str:
    return MISSING if _missing(value) else f"{round(value):,}"


def decimal(value: float | None, places: int = 1) -> str:
    return MISSING if _missing(value) else f"{value:,.{places}f}"


# Largest first; a tile shows one decimal of the unit (348.3k, 1.2M).
_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def compact(value: float | None, places: int = 0) -> str:
    """A number short enough for a KPI tile: '348.3k', '1.2M', '-4.0k'; below 1,000 with ``places`` decimals.

    The unit is chosen after rounding, so 999,960 reads '1.0M', not '1000.0k'.
    """
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    if abs(number) < 1000:
        return f"{number:,.{places}f}"
    for size, suffix in _UNITS:
        scaled = round(number / size, 1)
        if abs(scaled) >= 1:
            return f"{scaled:.1f}{suffix}"
    return f"{number:,.{places}f}"  # pragma: no cover - abs(number) >= 1000 always finds "k"


Kind = Literal["money", "count", "decimal"]
_EXACT: dict[str, Callable[[float | None], str]] = {"money": money, "count": count, "decimal": decimal}
_PLACES = {"money": 2, "count": 0, "decimal": 1}


def metric(
    where: Any, label: str, value: float | None, kind: Kind = "count", help: str | None = None, **kwargs: Any
) -> None:
    """A bordered ``st.metric`` tile whose number always fits: compact value, exact value in the tooltip.

    A tile is about a fifth of the page wide; '348,301.12' is cut to '348,30…' there, '348.3k' is not.
    ``where`` is a column (or ``st``); other keyword arguments (delta, delta_color, ...) go to ``metric``.
    """
    shown, exact = compact(value, _PLACES[kind]), _EXACT[kind](value)
    if shown != exact:
        help = f"{help}\n\nExact: {exact}" if help else f"Exact: {exact}"
    where.metric(label, shown, help=help, border=True, **kwargs)


def pct(value: float | None, places: int = 2) -> str:
    """A ratio (0.0975) as a percentage ('9.75%')."""
    return MISSING if _missing(value) else f"{value * 100:.{places}f}%"


def dashed(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``frame`` as a table shows it: every missing cell (None, NaN, NaT) a dash instead of 'None'.

    Columns without a missing value are returned as they are (numbers stay numbers and sort as
    such). A column with one becomes text: its values formatted with the printf format in
    ``formats`` (as ``NumberColumn(format=...)`` takes), else floats with at most 4 decimals and
    whole ones without '.0' (an integer column with a null arrives as float), timestamps to the
    second, the rest as ``str``.
    """
    nulls = frame.isna()
    holes = nulls.any()
    if not holes.any():
        return frame
    shown = frame.copy(deep=False)
    for column in frame.columns[holes.to_numpy()]:
        fmt = (formats or {}).get(column)
        shown[column] = [
            MISSING if missing else _cell(value, fmt)
            for value, missing in zip(frame[column], nulls[column], strict=True)
        ]
    return shown


def _cell(value: object, fmt: str | None) -> str:
    if fmt is not None and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return fmt % value
    if isinstance(value, float):
        # like the table's own number display: at most 4 decimals, no trailing zeros
        return str(int(value)) if value.is_integer() else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def table(frame: pd.DataFrame, column_config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """``st.dataframe`` without the index and with missing cells as dashes (see :func:`dashed`).

    A number column that had to become text for its dashes keeps its label, help and format,
    and stays right-aligned like the other numbers.
    """
    config = dict(column_config or {})
    formats = {
        name: spec["type_config"]["format"]
        for name, spec in config.items()
        if isinstance(spec, Mapping)
        and isinstance(spec.get("type_config"), Mapping)
        and spec["type_config"].get("format")
    }
    shown = dashed(frame, formats)
    if shown is not frame:
        for name in frame.columns:
            hidden = name in config and config[name] is None
            if not hidden and shown[name].dtype == object and pd.api.types.is_numeric_dtype(frame[name].dtype):
                spec = config.get(name)
                label, about = (spec.get("label"), spec.get("help")) if isinstance(spec, Mapping) else (spec, None)
                config[name] = st.column_config.TextColumn(label, help=about, alignment="right")
    st.dataframe(shown, hide_index=True, column_config=config or None, **kwargs)


def product_label(product_id: object, name: object) -> str:
    """The product's name when silver.products gave one, else its id."""
    return name if isinstance(name, str) and name.strip() else str(product_id)


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change for st.metric's delta ('+6.4%'); None when there is nothing to compare with."""
    if _missing(current) or _missing(previous) or previous == 0:
        return None
    return f"{(current - previous) / abs(previous) * 100:+.1f}%"


def change_pp(current: float | None, previous: float | None) -> str | None:
    """Change of a rate in percentage points ('+0.50 pp')."""
    if _missing(current) or _missing(previous):
        return None
    return f"{(current - previous) * 100:+.2f} pp"
