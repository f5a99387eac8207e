"""The dashboard's only reader: Delta tables -> pandas, without Spark or a JVM.

Every page asks this module for data and never opens a table itself, so caching,
filtering and "table not there yet" live in one place. Tables are opened with
delta-rs (``deltalake``) and scanned as Arrow datasets; filters are pushed into
the scan (pyarrow) and aggregations run in DuckDB over the same datasets, so a
page never pulls more than it shows.

Why not ``lakehouse.delta_io.open_reader``: that module imports ``pyspark`` and
``delta`` at module level (it is also the Spark writer), which would put a JVM
client library into the dashboard process. The few lines it takes to open a
reader are repeated here on top of the same core helpers (``table_path``,
``reader_uri``, ``dashboard_storage_options``).

Results are cached with ``st.cache_data`` for ``settings.dashboard_cache_seconds``.
A missing table is never cached: the loader raises inside the cached function
(Streamlit does not cache exceptions) and the wrapper turns that into an empty
frame, so a table another job creates shows up on the next rerun.

Below that cache, each table's ``DeltaTable`` is kept per process (reopened from scratch every
minute) and brought up to date (``update_incremental``: new commits only) every time a loader
runs, and its Arrow dataset is reused while the version stays the same. Results are also kept
per table id and Delta version read (a bounded LRU): a Delta version never changes, so when
the TTL expires and nothing was committed since, a loader costs one log check per table
instead of a scan; a new commit (or a table written anew) changes the key and the next call
reads it. ``clear_cache`` (the Refresh button) drops all of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import streamlit as st
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError, TableNotFoundError

from lakehouse import delta_log
from lakehouse.catalog import load_catalog
from lakehouse.settings import Settings, is_object_path
from lakehouse.storage import reader_uri, table_id_path

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Layers whose tables the pipeline builds from declared inputs (the lineage page's graph).
LINEAGE_LAYERS = ("bronze", "silver", "gold")
# Key of the commit metadata where the runner records each input's version (runner.WATERMARK_KEY).
INPUTS_KEY = "inputs"
# Tables with a device dimension; the sidebar's device filter applies to these only.
DEVICE_COLUMNS: dict[str, str] = {"gold.funnel_daily": "device"}

# canonical column -> other names it may be published under. Gold tables are young and their
# column names may still move; pages use the canonical names and show a hint when one is missing.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "gold.product_daily": {
        "units_sold": ("units", "quantity"),
        "add_to_carts": ("add_to_cart", "carts"),
        "views": ("product_views",),
        "sales_spike": ("spike", "is_spike"),
        "view_to_purchase_rate": ("conversion_rate",),
    },
    "gold.category_daily": {"units": ("units_sold", "quantity")},
    "gold.funnel_daily": {
        "session_date": ("date",),
        "sessions_reached": ("sessions", "reached"),
        "step_name": ("event_type", "step_event"),
    },
    "gold.experiment_results": {
        "conversion_rate": ("conv_rate", "cr"),
        "revenue_per_user": ("arpu", "rpu"),
        "srm_p_value": ("srm_p", "srm_pvalue"),
        "p_value": ("pvalue", "p"),
    },
    "gold.retention_cohorts": {
        "month_offset": ("months_since_first", "offset", "period"),
        "retention_rate": ("retention", "rate"),
        "active_customers": ("active", "customers_active", "retained_customers"),
    },
    "silver.stock": {"on_hand": ("quantity_on_hand", "qty_on_hand")},
}

EMPTY = pd.DataFrame()

_declared_dates: dict[tuple[object, ...], dict[str, str]] = {}
_declared_dates_lock = threading.Lock()


def date_columns(settings: Settings, table_id: str) -> tuple[str, ...]:
    """The column the sidebar's date range filters ``table_id`` on, then the older names it may carry.

    The column is the table's declared ``date_column`` (``lakehouse.catalog``; the declarations
    load without pyspark or Great Expectations), followed by its ALIASES; empty for a table
    declared without one. The declarations are read once per process and catalog-shaping settings.
    """
    key = (settings.kafka_enabled, settings.sources_file)
    with _declared_dates_lock:
        if key not in _declared_dates:
            _declared_dates[key] = {t.id: t.date_column for t in load_catalog(settings) if t.date_column}
        declared = _declared_dates[key].get(table_id)
    if declared is None:
        return ()
    return (declared, *ALIASES.get(table_id, {}).get(declared, ()))


class DataUnavailable(RuntimeError):
    """A table exists but cannot be read (unreachable object store, corrupt log): shown as an error, not empty."""


class _Missing(LookupError):
    """Raised inside cached functions so that 'no table yet' is never cached."""


@dataclass(frozen=True)
class TableInfo:
    """What the Data health and Lineage pages show per table, read from the Delta log only (no data scan).

    ``inputs`` maps each table this one was built from to the Delta version it read, as the
    runner records it in the commit metadata of every build; None when the newest commit
    records none (a maintenance commit such as OPTIMIZE, or a table the runner does not build):
    :func:`lineage` then looks further back.
    """

    table_id: str
    uri: str
    version: int
    rows: int | None
    last_commit: dt.datetime | None
    operation: str | None
    inputs: dict[str, int | None] | None
    columns: tuple[str, ...]

    def column(self, canonical: str) -> str | None:
        """The name ``canonical`` is published under in this table (see ALIASES), or None."""
        if canonical in self.columns:
            return canonical
        return _first_present(self.columns, ALIASES.get(self.table_id, {}).get(canonical, ()))


# ---------------------------------------------------------------------------- opening tables


def table_uri(settings: Settings, table_id: str) -> str:
    """delta-rs location of ``layer.table`` (``s3://`` where Spark says ``s3a://``)."""
    return reader_uri(table_id_path(settings, table_id))


def _storage_options(settings: Settings) -> tuple[tuple[str, str], ...]:
    """Hashable storage options; only object storage needs any (and then keys are required).

    The dashboard's own keys (``LAKEHOUSE_DASHBOARD_S3_*``, a read-only user) when set, else the
    main ones: the dashboard never writes, so it need not be able to.
    """
    if not is_object_path(settings.root):
        return ()
    return tuple(sorted(settings.dashboard_storage_options().items()))


_Key = tuple[str, tuple[tuple[str, str], ...]]
_HANDLES: dict[_Key, tuple[float, DeltaTable]] = {}
_DATASETS: dict[_Key, tuple[tuple[str, int], ds.Dataset]] = {}
_HANDLES_LOCK = threading.Lock()
# A handle is reopened from scratch at least this often, so a table that was deleted (or
# deleted and written anew, which an incremental update cannot see) is noticed within a minute.
HANDLE_MAX_AGE_SECONDS = 60.0


def _open(uri: str, storage_options: tuple[tuple[str, str], ...]) -> DeltaTable:
    """The table at its latest version: the process's handle updated with new commits, else a fresh open."""
    key = (uri, storage_options)
    with _HANDLES_LOCK:
        opened, table = _HANDLES.get(key, (0.0, None))
    if table is not None and time.monotonic() - opened < HANDLE_MAX_AGE_SECONDS:
        try:
            table.update_incremental()
            return table
        except (DeltaError, OSError):
            pass  # log gone or rewritten: open it afresh below
    try:
        table = DeltaTable(uri, storage_options=dict(storage_options) or None)
    except TableNotFoundError as exc:
        _forget(key)
        raise _Missing(uri) from exc
    except (DeltaError, OSError) as exc:
        _forget(key)
        raise DataUnavailable(f"cannot open Delta table {uri}: {exc}") from exc
    with _HANDLES_LOCK:
        _HANDLES[key] = (time.monotonic(), table)
    return table


def _identity(table: DeltaTable) -> tuple[str, int]:
    """Which table at which version: the id Delta gives a table when it is created, and the version."""
    return str(table.metadata().id), int(table.version())


def _dataset(uri: str, storage_options: tuple[tuple[str, str], ...]) -> ds.Dataset:
    """The table's latest version as an Arrow dataset, reused while the version does not change."""
    table = _open(uri, storage_options)
    version = _identity(table)
    key = (uri, storage_options)
    with _HANDLES_LOCK:
        known = _DATASETS.get(key)
    if known is not None and known[0] == version:
        return known[1]
    try:
        dataset = table.to_pyarrow_dataset()
    except (DeltaError, OSError) as exc:
        raise DataUnavailable(f"cannot read Delta table {uri}: {exc}") from exc
    with _HANDLES_LOCK:
        _DATASETS[key] = (version, dataset)
    return dataset


def _forget(key: _Key | None = None) -> None:
    """Drop one table's handle and dataset (all of them, and every kept result, without ``key``)."""
    with _HANDLES_LOCK:
        if key is None:
            _HANDLES.clear()
            _DATASETS.clear()
            _RESULTS.clear()
        else:
            _HANDLES.pop(key, None)
            _DATASETS.pop(key, None)


# Results by the Delta versions they were computed from; bounded, least recently used dropped first.
_RESULTS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
RESULTS_KEPT = 512


def _version(uri: str, storage_options: tuple[tuple[str, str], ...]) -> tuple[str, int]:
    """The table's id and latest version (one log check)."""
    return _identity(_open(uri, storage_options))


def _per_version(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per ``key``, which names the Delta versions read: a kept result is never stale."""
    with _HANDLES_LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            return _copy(_RESULTS[key])
    value = compute()
    with _HANDLES_LOCK:
        _RESULTS[key] = value
        while len(_RESULTS) > RESULTS_KEPT:
            _RESULTS.popitem(last=False)
    return _copy(value)


def _copy(value: T) -> T:
    """Frames are handed out as copies, so a caller changing one cannot change the kept result."""
    return value.copy() if isinstance(value, pd.DataFrame) else value  # type: ignore[return-value]


def _cached(func: F) -> F:
    """``st.cache_data`` with the TTL from settings, chosen when first called.

    The TTL is a setting, and settings are only known at run time (env vars of the
    launched process), so the decorated function is built lazily once per TTL.
    """

    @lru_cache(maxsize=4)
    def with_ttl(ttl: int) -> Callable[..., Any]:
        return st.cache_data(ttl=ttl, show_spinner=False, max_entries=256)(func)

    def call(settings: Settings, *args: Any, **kwargs: Any) -> Any:
        return with_ttl(settings.dashboard_cache_seconds)(*args, **kwargs)

    call.__doc__ = func.__doc__
    call.__wrapped__ = func  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


def clear_cache() -> None:
    """Forget every cached result and table handle (the sidebar's Refresh button)."""
    st.cache_data.clear()
    _forget()


# ---------------------------------------------------------------------------- scanning


def _date_scalar(value: dt.date, arrow_type: pa.DataType) -> pa.Scalar:
    """A bound comparable with the column whatever type the writer chose for it."""
    if pa.types.is_timestamp(arrow_type):
        return pa.scalar(dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC), arrow_type)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pa.scalar(value.isoformat(), arrow_type)
    return pa.scalar(value, pa.date32())


def _filter_expression(
    schema: pa.Schema,
    date_column: str | None,
    start: dt.date | None,
    end: dt.date | None,
    device_column: str | None,
    devices: tuple[str, ...],
) -> ds.Expression | None:
    expression: ds.Expression | None = None

    def both(extra: ds.Expression) -> ds.Expression:
        return extra if expression is None else expression & extra

    if date_column and date_column in schema.names:
        column_type = schema.field(date_column).type
        if pa.types.is_timestamp(column_type) and end is not None:
            # a timestamp column includes the whole end day
            expression = both(pc.field(date_column) < _date_scalar(end + dt.timedelta(days=1), column_type))
        elif end is not None:
            expression = both(pc.field(date_column) <= _date_scalar(end, column_type))
        if start is not None:
            expression = both(pc.field(date_column) >= _date_scalar(start, column_type))
    if device_column and devices and device_column in schema.names:
        expression = both(pc.field(device_column).isin(list(devices)))
    return expression


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with decimals as floats: money is exact in the tables and only rounded for display."""
    frame = table.to_pandas()
    for field in table.schema:
        if pa.types.is_decimal(field.type):
            frame[field.name] = frame[field.name].astype("float64")
    return frame


def _apply_aliases(frame: pd.DataFrame, table_id: str) -> pd.DataFrame:
    renames: dict[str, str] = {}
    for canonical, others in ALIASES.get(table_id, {}).items():
        if canonical in frame.columns:
            continue
        found = next((other for other in others if other in frame.columns and other not in renames), None)
        if found is not None:
            renames[found] = canonical
    return frame.rename(columns=renames) if renames else frame


def _first_present(names: Iterable[str], candidates: Sequence[str]) -> str | None:
    present = set(names)
    return next((c for c in candidates if c in present), None)


def read_uncached(
    settings: Settings,
    table_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    devices: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Scan one table with the filters pushed into the Arrow scan; empty frame when it does not exist.

    Public so the latency benchmark can time the bare read next to the cached one.
    """
    try:
        return _scan(
            table_uri(settings, table_id),
            _storage_options(settings),
            table_id,
            date_columns(settings, table_id),
            start,
            end,
            tuple(devices),
            tuple(columns) if columns else None,
        )
    except _Missing:
        return EMPTY.copy()


def _scan(
    uri: str,
    storage_options: tuple[tuple[str, str], ...],
    table_id: str,
    dates: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    devices: tuple[str, ...],
    columns: tuple[str, ...] | None,
) -> pd.DataFrame:
    dataset = _dataset(uri, storage_options)
    date_column = _first_present(dataset.schema.names, dates)
    device_column = DEVICE_COLUMNS.get(table_id)
    expression = _filter_expression(dataset.schema, date_column, start, end, device_column, devices)
    wanted = [c for c in columns if c in dataset.schema.names] if columns else None
    try:
        table = dataset.to_table(filter=expression, columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise DataUnavailable(f"cannot read {table_id} at {uri}: {exc}") from exc
    return _apply_aliases(_to_pandas(table), table_id)


@_cached
def _load_cached(
    uri: str,
    storage_options: tuple[tuple[str, str], ...],
    table_id: str,
    dates: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    devices: tuple[str, ...],
    columns: tuple[str, ...] | None,
) -> pd.DataFrame:
    return _per_version(
        ("scan", uri, storage_options, _version(uri, storage_options), table_id, dates, start, end, devices, columns),
        lambda: _scan(uri, storage_options, table_id, dates, start, end, devices, columns),
    )


def load_table(
    settings: Settings,
    table_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    devices: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``layer.table`` as a DataFrame, filtered to [start, end] and devices where the table has those columns.

    Returns an empty frame (no columns) when the table does not exist yet. Tables
    without a date or device column ignore those filters.
    """
    try:
        return _load_cached(
            settings,
            table_uri(settings, table_id),
            _storage_options(settings),
            table_id,
            date_columns(settings, table_id),
            start,
            end,
            tuple(sorted(devices)),
            tuple(columns) if columns else None,
        )
    except _Missing:
        return EMPTY.copy()


@lru_cache(maxsize=1)
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process: connecting costs ~30 ms, a cursor on it nothing.

    Each query takes its own cursor, because Streamlit runs sessions in parallel threads
    and a DuckDB connection must not be shared between threads (cursors may).
    """
    return duckdb.connect()


@_cached
def _query_cached(
    sql: str,
    sources: tuple[tuple[str, str], ...],
    storage_options: tuple[tuple[str, str], ...],
    params: tuple[Any, ...],
) -> pd.DataFrame:
    versions = tuple(_version(uri, storage_options) for _, uri in sources)
    return _per_version(
        ("query", sql, sources, versions, storage_options, params),
        lambda: _run_query(sql, sources, storage_options, params),
    )


def _run_query(
    sql: str,
    sources: tuple[tuple[str, str], ...],
    storage_options: tuple[tuple[str, str], ...],
    params: tuple[Any, ...],
) -> pd.DataFrame:
    connection = _duckdb().cursor()
    try:
        for alias, uri in sources:
            # DuckDB scans the Arrow dataset lazily and pushes filters/projections into it.
            connection.register(alias, _dataset(uri, storage_options))
        table = connection.sql(sql, params=list(params)).to_arrow_table()
    except duckdb.Error as exc:
        raise DataUnavailable(f"query failed: {exc}") from exc
    finally:
        connection.close()
    return _to_pandas(table)


def query(settings: Settings, sql: str, tables: dict[str, str], params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run DuckDB ``sql`` where each alias in ``tables`` names a ``layer.table``; empty when one is missing."""
    sources = tuple((alias, table_uri(settings, table_id)) for alias, table_id in sorted(tables.items()))
    try:
        return _query_cached(settings, sql, sources, _storage_options(settings), tuple(params))
    except _Missing:
        return EMPTY.copy()


# ---------------------------------------------------------------------------- table metadata


def recorded_inputs(commit: dict[str, Any]) -> dict[str, int | None] | None:
    """The ``inputs`` a commit's user metadata records (input table id -> version read); None when it has none."""
    raw = commit.get("userMetadata")
    meta = raw if isinstance(raw, dict) else delta_log.parse_user_metadata(raw if isinstance(raw, str) else None)
    if not isinstance(meta.get(INPUTS_KEY), dict):
        return None
    return {str(k): v if isinstance(v, int) and not isinstance(v, bool) else None for k, v in meta[INPUTS_KEY].items()}


@_cached
def _inputs_cached(uri: str, storage_options: tuple[tuple[str, str], ...]) -> dict[str, int | None]:
    """Inputs of the newest commit that records them, walking back past maintenance commits."""
    table = _open(uri, storage_options)

    def walk() -> dict[str, int | None]:
        for limit in (20, None):
            for commit in table.history(limit):
                found = recorded_inputs(commit)
                if found is not None:
                    return found
        return {}

    return _per_version(("inputs", uri, storage_options, _identity(table)), walk)


@_cached
def _info_cached(uri: str, storage_options: tuple[tuple[str, str], ...], table_id: str) -> TableInfo:
    table = _open(uri, storage_options)
    return _per_version(
        ("info", uri, storage_options, _identity(table), table_id), lambda: _read_info(table, uri, table_id)
    )


def _read_info(table: DeltaTable, uri: str, table_id: str) -> TableInfo:
    history = table.history(1)
    last = history[0] if history else {}
    stamp = last.get("timestamp")
    inputs = recorded_inputs(last)
    try:
        rows: int | None = int(table.count())
    except (DeltaError, OSError, ValueError):
        rows = None
    return TableInfo(
        table_id=table_id,
        uri=uri,
        version=int(table.version()),
        rows=rows,
        last_commit=dt.datetime.fromtimestamp(stamp / 1000, tz=dt.UTC) if stamp is not None else None,
        operation=last.get("operation"),
        inputs=inputs,
        columns=tuple(field.name for field in table.schema().fields),
    )


def table_info(settings: Settings, table_id: str) -> TableInfo | None:
    """Version, row count and last commit of a table from its Delta log; None when it does not exist."""
    try:
        return _info_cached(settings, table_uri(settings, table_id), _storage_options(settings), table_id)
    except _Missing:
        return None


def exists(settings: Settings, table_id: str) -> bool:
    return table_info(settings, table_id) is not None


@_cached
def _listed_tables(root: str, layers: tuple[str, ...]) -> list[str]:
    """``layer.name`` of every Delta table folder under a local root (object stores are not listed)."""
    found = []
    for layer in layers:
        folder = Path(root) / layer
        if folder.is_dir():
            found += [f"{layer}.{p.name}" for p in folder.iterdir() if (p / "_delta_log").is_dir()]
    return found


def lakehouse_tables(settings: Settings, layers: Sequence[str] = LINEAGE_LAYERS) -> list[str]:
    """Tables of ``layers`` that the runner reported (ops.pipeline_runs) or that a local root holds.

    Sorted by layer (in ``layers`` order), then name.
    """
    runs = load_table(settings, "ops.pipeline_runs", columns=("table",))
    reported = [str(t) for t in runs["table"].dropna().unique()] if "table" in runs.columns else []
    listed = [] if is_object_path(settings.root) else _listed_tables(settings, settings.root, tuple(layers))
    rank = {layer: n for n, layer in enumerate(layers)}
    wanted = {t for t in (*reported, *listed) if t.split(".", 1)[0] in rank}
    return sorted(wanted, key=lambda t: (rank[t.split(".", 1)[0]], t))


@dataclass(frozen=True)
class Lineage:
    """The table graph as the tables' own Delta commits record it: no table declarations imported.

    ``tables`` maps every table (built ones and the inputs they name) to its log facts, or None
    for an input that is not in the lakehouse; ``edges`` are (input, table) pairs.
    """

    tables: dict[str, TableInfo | None]
    edges: list[tuple[str, str]]


def lineage(settings: Settings, layers: Sequence[str] = LINEAGE_LAYERS) -> Lineage:
    """Each table's inputs from the newest commit that records them (the runner writes them on every build)."""
    tables: dict[str, TableInfo | None] = {t: table_info(settings, t) for t in lakehouse_tables(settings, layers)}
    for table_id, info in tables.items():
        if info is not None and info.inputs is None:
            try:
                inputs = _inputs_cached(settings, info.uri, _storage_options(settings))
            except _Missing:
                inputs = {}
            tables[table_id] = dataclasses.replace(info, inputs=inputs)
    edges: list[tuple[str, str]] = []
    for table_id, info in list(tables.items()):
        for source in sorted(info.inputs or ()) if info else ():
            if source not in tables:
                tables[source] = table_info(settings, source) if source.split(".", 1)[0] in layers else None
            edges.append((source, table_id))
    return Lineage(tables, edges)


# ---------------------------------------------------------------------------- page helpers


@_cached
def _date_range_cached(
    uri: str, storage_options: tuple[tuple[str, str], ...], table_id: str, dates: tuple[str, ...]
) -> tuple[dt.date, dt.date] | None:
    """Smallest and largest date of the table's date column, computed in Arrow (one column read)."""
    return _per_version(
        ("range", uri, storage_options, _version(uri, storage_options), table_id, dates),
        lambda: _date_range(uri, storage_options, table_id, dates),
    )


def _date_range(
    uri: str, storage_options: tuple[tuple[str, str], ...], table_id: str, dates: tuple[str, ...]
) -> tuple[dt.date, dt.date] | None:
    dataset = _dataset(uri, storage_options)
    column = _first_present(dataset.schema.names, dates)
    if column is None:
        return None
    try:
        values = dataset.to_table(columns=[column]).column(0)
    except (pa.ArrowException, OSError) as exc:
        raise DataUnavailable(f"cannot read {table_id} at {uri}: {exc}") from exc
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        extremes = pc.min_max(values)
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if low is None:
            return None
        return _as_date(low), _as_date(high)
    parsed = pd.to_datetime(values.to_pandas(), errors="coerce").dropna()
    return None if parsed.empty else (parsed.min().date(), parsed.max().date())


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def date_bounds(settings: Settings) -> tuple[dt.date, dt.date] | None:
    """First and last date across the dated gold tables: the sidebar's selectable range."""
    ranges = []
    for table_id in ("gold.daily_kpis", "gold.product_daily", "gold.funnel_daily"):
        try:
            uri, options = table_uri(settings, table_id), _storage_options(settings)
            found = _date_range_cached(settings, uri, options, table_id, date_columns(settings, table_id))
        except _Missing:
            continue
        if found is not None:
            ranges.append(found)
    if not ranges:
        return None
    return min(low for low, _ in ranges), max(high for _, high in ranges)


def devices(settings: Settings) -> list[str]:
    """Devices present in the funnel table (the only gold table split by device), without the 'all' rollup."""
    frame = load_table(settings, "gold.funnel_daily", columns=("device",))
    if frame.empty or "device" not in frame.columns:
        return []
    return sorted(str(d) for d in frame["device"].dropna().unique() if str(d) != "all")


def data_docs_location(settings: Settings) -> str | None:
    """Where Great Expectations' Data Docs were built, if anywhere we can see.

    A settings field (``data_docs_dir``) wins when the core grows one; otherwise the
    folder next to a local lakehouse root. Object-storage roots have no local folder.
    """
    configured = getattr(settings, "data_docs_dir", None)
    candidates: list[Path] = [Path(str(configured))] if configured else []
    if not is_object_path(settings.root):
        candidates.append(Path(settings.root).resolve().parent / "data_docs")
    for folder in candidates:
        if folder.is_dir():
            index = next(iter(sorted(folder.rglob("index.html"))), None)
            return str(index or folder)
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def top_products(settings: Settings, start: dt.date, end: dt.date, limit: int = 15) -> pd.DataFrame:
    """Products ranked by revenue over [start, end], with names and categories when silver.products exists.

    Columns: product_id, name, category, revenue, units_sold, views, add_to_carts, spike_days.
    Aggregated in DuckDB so the page receives one row per product, not one per product-day.
    """
    daily = table_info(settings, "gold.product_daily")
    if daily is None:
        return EMPTY.copy()
    date_col = _first_present(daily.columns, date_columns(settings, "gold.product_daily"))
    product_col = daily.column("product_id")
    if date_col is None or product_col is None:
        return EMPTY.copy()

    def total(canonical: str) -> str:
        actual = daily.column(canonical)
        return f"sum({_quoted(actual)})" if actual else "NULL"

    spike = daily.column("sales_spike")
    spike_sql = f"count(*) FILTER (WHERE {_quoted(spike)})" if spike else "NULL"
    tables = {"pd": "gold.product_daily"}
    names_sql, join_sql = "NULL AS name, NULL AS category", ""
    products = table_info(settings, "silver.products")
    if products is not None and "product_id" in products.columns:
        name, category = products.column("name"), products.column("category")
        names_sql = (
            f"{'names.' + _quoted(name) if name else 'NULL'} AS name, "
            f"{'names.' + _quoted(category) if category else 'NULL'} AS category"
        )
        join_sql = "LEFT JOIN (SELECT DISTINCT ON (product_id) * FROM products) names USING (product_id)"
        tables["products"] = "silver.products"
    sql = f"""
        WITH agg AS (
            SELECT CAST({_quoted(product_col)} AS VARCHAR) AS product_id,
                   {total("revenue")} AS revenue, {total("units_sold")} AS units_sold,
                   {total("views")} AS views, {total("add_to_carts")} AS add_to_carts,
                   {spike_sql} AS spike_days
            FROM pd
            WHERE {_quoted(date_col)} BETWEEN ? AND ?
            GROUP BY 1
        )
        SELECT agg.product_id, {names_sql}, revenue, units_sold, views, add_to_carts, spike_days
        FROM agg {join_sql}
        ORDER BY revenue DESC NULLS LAST, product_id
        LIMIT ?
    """
    return query(settings, sql, tables, (start, end, limit))


def stock_cover(settings: Settings, as_of: dt.date, window_days: int = 7) -> pd.DataFrame:
    """Stock on hand per product at the latest snapshot on or before ``as_of``, with days of cover.

    days_of_cover = on_hand / (units sold over the ``window_days`` dates ending at ``as_of``
    / ``window_days``); dates without sales count as 0, and cover is null when nothing sold.
    Columns: product_id, snapshot_date, warehouses, on_hand, reorder_point, avg_daily_units, days_of_cover.
    """
    stock = table_info(settings, "silver.stock")
    if stock is None:
        return EMPTY.copy()
    date_col = _first_present(stock.columns, date_columns(settings, "silver.stock"))
    on_hand = stock.column("on_hand")
    if date_col is None or on_hand is None or "product_id" not in stock.columns:
        return EMPTY.copy()
    reorder = f"sum({_quoted(stock.column('reorder_point'))})" if stock.column("reorder_point") else "NULL"
    warehouse = f"count(DISTINCT {_quoted('warehouse')})" if "warehouse" in stock.columns else "count(*)"
    tables = {"stock": "silver.stock"}
    sales_cte = "sales AS (SELECT NULL::VARCHAR AS product_id, 0 AS units WHERE false)"
    daily = table_info(settings, "gold.product_daily")
    if daily is not None and daily.column("units_sold") and daily.column("product_id"):
        daily_date = _first_present(daily.columns, date_columns(settings, "gold.product_daily"))
        tables["pd"] = "gold.product_daily"
        sales_cte = f"""sales AS (
            SELECT CAST({_quoted(daily.column("product_id") or "product_id")} AS VARCHAR) AS product_id,
                   sum({_quoted(daily.column("units_sold") or "units_sold")}) AS units
            FROM pd
            WHERE CAST({_quoted(daily_date or "date")} AS DATE) BETWEEN CAST(? AS DATE) - {window_days - 1}
                  AND CAST(? AS DATE)
            GROUP BY 1)"""
        params: tuple[Any, ...] = (as_of, as_of, as_of)
    else:
        params = (as_of,)
    sql = f"""
        WITH snap AS (
            -- the latest snapshot on or before the date, else the latest one (one scan for both)
            SELECT coalesce(max(d) FILTER (WHERE d <= ?), max(d)) AS d
            FROM (SELECT CAST({_quoted(date_col)} AS DATE) AS d FROM stock)
        ),
        onhand AS (
            SELECT CAST(product_id AS VARCHAR) AS product_id, max(CAST({_quoted(date_col)} AS DATE)) AS snapshot_date,
                   {warehouse} AS warehouses, sum({_quoted(on_hand)}) AS on_hand, {reorder} AS reorder_point
            FROM stock, snap
            WHERE CAST({_quoted(date_col)} AS DATE) = snap.d
            GROUP BY 1
        ),
        {sales_cte}
        SELECT onhand.*, coalesce(sales.units, 0) / {window_days}.0 AS avg_daily_units,
               CASE WHEN coalesce(sales.units, 0) > 0
                    THEN onhand.on_hand / (sales.units / {window_days}.0) END AS days_of_cover
        FROM onhand LEFT JOIN sales USING (product_id)
        ORDER BY days_of_cover ASC NULLS LAST, product_id
    """
    return query(settings, sql, tables, params)
