"""A single-node DuckDB implementation of the whole pipeline: landing -> silver -> every gold table.

It is written from METRICS.md alone and shares no code with the pipeline (no Spark, no
``transforms``), so that the benchmark can (1) time the whole pipeline on a single-node SQL engine
and (2) check every Spark gold table (daily_kpis, product_daily, category_daily, fct_user,
retention_cohorts, funnel_daily, experiment_results) against an independent reading.

What it does, in SQL:

* events: every ``events/*.jsonl[.gz]`` file through ``read_json`` (newline-delimited, every
  column read as VARCHAR, ``ignore_errors`` so that a malformed line becomes an all-null row
  instead of failing the scan), with the file name and the line's ordinal (ingestion order);
* orders: every ``orders/*.csv`` through ``read_csv`` with an explicit 10-column VARCHAR schema;
  a row whose field count differs from the header is rejected (``store_rejects``) and counted;
* silver rules: ISO-8601 timestamps parsed exactly as the contract spells them (regex, then a
  strict local parse, then the offset), quarantine before de-duplication, events keep the first
  copy by ``event_ts`` then ingestion order, order lines keep the latest ingested version;
* products: the ``products`` sheet of every ``inventory/*.xlsx`` read with openpyxl (cells rendered
  as text), handed to DuckDB; rows without ``product_id`` or with a non-numeric ``list_price`` are
  quarantined, then the latest ingested row per ``product_id`` wins;
* experiments: every ``experiments/*.json`` read with ``json`` (a list of objects or one object),
  validated (id, ISO dates, a non-empty variant list, an allocation over exactly those variants with
  usable shares), the latest ingested row per ``experiment_id`` wins;
* gold: ``daily_kpis`` over a date spine from the first to the last silver date, ``product_daily``
  (the 7-day spike baseline through a join on the previous dates), ``category_daily``, ``fct_user``,
  ``retention_cohorts``, ``funnel_daily`` (greedy ordered steps per session, lists + lambdas) and
  ``experiment_results`` (exposures from the events' ``experiments`` map in SQL, the statistics with
  scipy on the per-variant counts and the per-user revenue vectors).

Ingestion order is (batch, landing-relative path, line): by default all files are one batch, the
benchmark passes two (the files of the full run, then the files the incremental run added).

Usage::

    python benchmarks/duckdb_reference.py --landing /tmp/lakehouse-bench/.../landing [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

EVENT_COLUMNS = (
    "event_id",
    "event_ts",
    "user_id",
    "session_id",
    "event_type",
    "product_id",
    "order_id",
    "device",
    "country",
    "experiments",
    "properties",
)
ORDER_COLUMNS = (
    "order_id",
    "line_no",
    "order_ts",
    "customer_id",
    "product_id",
    "quantity",
    "unit_price",
    "discount",
    "status",
    "country",
)
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "remove_from_cart", "begin_checkout", "purchase", "search")
EVENT_GLOB, ORDER_GLOB = "events/*.jsonl*", "orders/*.csv"
INVENTORY_GLOB, EXPERIMENT_GLOB = "inventory/*.xlsx", "experiments/*.json"
LANDING_GLOBS = (EVENT_GLOB, ORDER_GLOB, INVENTORY_GLOB, EXPERIMENT_GLOB)
PRODUCT_COLUMNS = ("product_id", "name", "category", "brand", "list_price", "cost")
FUNNEL_STEPS = ("product_view", "add_to_cart", "begin_checkout", "purchase")
GOLD_TABLES = (
    "daily_kpis",
    "product_daily",
    "category_daily",
    "fct_user",
    "retention_cohorts",
    "funnel_daily",
    "experiment_results",
)
SILVER_TABLES = ("silver_events", "silver_order_lines", "silver_products", "silver_experiments")
ALPHA = 0.05
# YYYY-MM-DD, optional [T or space]hh:mm[:ss[.fraction]], optional Z or +-hh[:mm] / +-hhmm (METRICS.md).
ISO_TIMESTAMP = r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
NUMBER = "DECIMAL(18,6)"  # quantity, unit_price, discount; their product is DECIMAL(37,18): exact
LATE_TOLERANCE_HOURS = 24


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(names: Sequence[str]) -> str:
    return "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"


# Scalar macros. ``p`` is the struct regexp_extract returns for ISO_TIMESTAMP: every field is '' when the
# text does not match, so ``p.d <> ''`` means "matched" and the regex runs once per value.
MACROS = f"""
CREATE OR REPLACE MACRO ident(x) AS nullif(trim(x), '');
CREATE OR REPLACE MACRO iso_parts(x) AS
    regexp_extract(trim(x), {_sql_str(ISO_TIMESTAMP)}, ['d', 'hh', 'mi', 'ss', 'frac', 'off']);
CREATE OR REPLACE MACRO iso_offset_minutes(off) AS CASE
    WHEN off IN ('', 'Z') THEN 0
    WHEN CAST(substr(replace(off, ':', ''), 2, 2) AS INTEGER) > 23
      OR coalesce(CAST(nullif(substr(replace(off, ':', ''), 4, 2), '') AS INTEGER), 0) > 59 THEN NULL
    ELSE (CASE WHEN off[1] = '-' THEN -1 ELSE 1 END)
       * (CAST(substr(replace(off, ':', ''), 2, 2) AS INTEGER) * 60
          + coalesce(CAST(nullif(substr(replace(off, ':', ''), 4, 2), '') AS INTEGER), 0))
END;
CREATE OR REPLACE MACRO iso_utc(p) AS CASE WHEN p.d <> '' THEN
    try_strptime(p.d || ' ' || coalesce(nullif(p.hh, ''), '00') || ':' || coalesce(nullif(p.mi, ''), '00')
                 || ':' || coalesce(nullif(p.ss, ''), '00') || '.' || rpad(left(p.frac, 6), 6, '0'),
                 '%Y-%m-%d %H:%M:%S.%f')
    - to_minutes(iso_offset_minutes(p.off))
END;
CREATE OR REPLACE MACRO plain_number(x) AS
    CASE WHEN regexp_matches(trim(x), {_sql_str(PLAIN_NUMBER)}) THEN TRY_CAST(trim(x) AS {NUMBER}) END;
"""


@dataclass(frozen=True)
class Batch:
    """Landing files ingested together, and when (naive UTC): the late-event rule compares to it."""

    files: tuple[str, ...]  # landing-relative paths
    ingested_at: dt.datetime


@dataclass
class ReferenceResult:
    seconds: dict[str, float]
    daily_kpis: list[dict[str, Any]]
    counts: dict[str, Any] = field(default_factory=dict)
    gold: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # every gold table, as rows
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU of this process (all DuckDB threads)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def landing_files(landing: Path) -> list[str]:
    """Event, order, inventory and experiment files under ``landing`` (landing-relative, path order)."""
    import fnmatch

    found = [p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()]
    return sorted(f for f in found if any(fnmatch.fnmatch(f, glob) for glob in LANDING_GLOBS))


def _check_csv_headers(landing: Path, files: Sequence[str]) -> None:
    expected = ",".join(ORDER_COLUMNS)
    for rel in files:
        with (landing / rel).open(encoding="utf-8", newline="") as handle:
            header = handle.readline().strip().lstrip("\ufeff")
        if header != expected:
            raise ValueError(f"{rel}: header {header!r} is not the contract's {expected!r}")


def _register_files(con: duckdb.DuckDBPyConnection, landing: Path, batches: Sequence[Batch]) -> None:
    rows = [
        (rel, str((landing / rel).resolve()), number, batch.ingested_at)
        for number, batch in enumerate(batches)
        for rel in batch.files
    ]
    con.execute("CREATE TABLE ingest_files (path VARCHAR, uri VARCHAR, batch INTEGER, ingested_at TIMESTAMP)")
    con.executemany("INSERT INTO ingest_files VALUES (?, ?, ?, ?)", rows)


def _load_events(con: duckdb.DuckDBPyConnection, uris: list[str]) -> None:
    if not uris:
        con.execute(
            f"CREATE TABLE raw_events AS SELECT {', '.join(f'NULL::VARCHAR AS {c}' for c in EVENT_COLUMNS)},"
            " NULL::VARCHAR AS filename, NULL::BIGINT AS ordinality LIMIT 0"
        )
        return
    con.execute(
        f"""
        CREATE TABLE raw_events AS
        SELECT * FROM read_json($files, format = 'newline_delimited', columns = {_columns(EVENT_COLUMNS)},
                                ignore_errors = true, filename = true)
        WITH ORDINALITY
        """,
        {"files": uris},
    )


def _load_orders(con: duckdb.DuckDBPyConnection, uris: list[str]) -> int:
    """Load order rows; returns how many rows were rejected as malformed (field count != header)."""
    if not uris:
        con.execute(
            f"CREATE TABLE raw_orders AS SELECT {', '.join(f'NULL::VARCHAR AS {c}' for c in ORDER_COLUMNS)},"
            " NULL::VARCHAR AS filename, NULL::BIGINT AS ordinality LIMIT 0"
        )
        return 0
    con.execute(
        f"""
        CREATE TABLE raw_orders AS
        SELECT * FROM read_csv($files, columns = {_columns(ORDER_COLUMNS)}, header = true, auto_detect = false,
                               delim = ',', quote = '"', escape = '"', encoding = 'utf-8',
                               store_rejects = true, filename = true)
        WITH ORDINALITY
        """,
        {"files": uris},
    )
    rows = con.execute("SELECT count(*) FROM reject_errors").fetchall()
    return int(rows[0][0]) if rows else 0


def _cell_text(value: Any) -> str | None:
    """A workbook cell as the text a person reads (``12.0`` -> ``12``); blank is None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _load_products(con: duckdb.DuckDBPyConnection, landing: Path, files: Sequence[tuple[str, int]]) -> int:
    """The ``products`` sheet of every workbook -> ``raw_products``; returns the unreadable workbooks."""
    import zipfile

    from openpyxl import load_workbook

    rows: list[tuple[Any, ...]] = []
    unreadable = 0
    for rel, batch in files:
        try:
            workbook = load_workbook(landing / rel, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            unreadable += 1
            continue
        try:
            if "products" not in workbook.sheetnames:
                unreadable += 1
                continue
            cells = workbook["products"].iter_rows(values_only=True)
            header = [str(c).strip() if c is not None else "" for c in next(cells, ())]
            missing = [c for c in PRODUCT_COLUMNS if c not in header]
            if missing:
                raise ValueError(f"{rel}: sheet products lacks the contract's columns {missing}")
            where = [header.index(c) for c in PRODUCT_COLUMNS]
            seq = 0
            for row in cells:
                if not any(c is not None and str(c).strip() for c in row):
                    continue
                padded = list(row) + [None] * (len(header) - len(row))
                rows.append((*[_cell_text(padded[i]) for i in where], rel, seq, batch))
                seq += 1
        finally:
            workbook.close()
    columns = ", ".join(f"{c} VARCHAR" for c in PRODUCT_COLUMNS)
    con.execute(f"CREATE TABLE raw_products ({columns}, path VARCHAR, seq BIGINT, batch INTEGER)")
    if rows:
        con.executemany(f"INSERT INTO raw_products VALUES ({', '.join('?' * (len(PRODUCT_COLUMNS) + 3))})", rows)
    return unreadable


def _share(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    share = float(value)
    return share if share == share and share >= 0 else None  # NaN and negative shares are unusable


def _load_experiments(con: duckdb.DuckDBPyConnection, landing: Path, files: Sequence[tuple[str, int]]) -> None:
    """Every experiments document -> ``raw_experiments`` (one row per object, allocation checked here)."""
    rows: list[tuple[Any, ...]] = []
    for rel, batch in files:
        try:
            document = json.loads((landing / rel).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            rows.append((None, None, None, None, None, False, True, rel, 0, batch))
            continue
        items = document if isinstance(document, list) else [document]
        if not all(isinstance(item, dict) for item in items):
            rows.append((None, None, None, None, None, False, True, rel, 0, batch))
            continue
        for seq, item in enumerate(items):
            raw_variants = item.get("variants")
            variants = (
                [str(v) for v in raw_variants]
                if isinstance(raw_variants, list) and all(isinstance(v, str | int | float) for v in raw_variants)
                else None
            )
            allocation = item.get("allocation")
            shares: list[float | None] | None = None
            allocation_ok = False
            if variants and isinstance(allocation, dict):
                shares = [_share(allocation.get(v)) for v in variants]
                allocation_ok = (
                    sorted(map(str, allocation)) == sorted(variants)
                    and all(v is not None for v in shares)
                    and sum(v for v in shares if v is not None) > 0
                )

            def text(key: str, item: dict[str, Any] = item) -> str | None:
                value = item.get(key)
                return None if value is None or isinstance(value, dict | list) else str(value)

            rows.append(
                (
                    text("experiment_id"),
                    text("start_date"),
                    text("end_date"),
                    variants,
                    shares,
                    allocation_ok,
                    False,
                    rel,
                    seq,
                    batch,
                )
            )
    con.execute(
        """
        CREATE TABLE raw_experiments (experiment_id VARCHAR, start_date VARCHAR, end_date VARCHAR,
                                      variants VARCHAR[], shares DOUBLE[], allocation_ok BOOLEAN,
                                      unreadable BOOLEAN, path VARCHAR, seq BIGINT, batch INTEGER)
        """
    )
    if rows:
        con.executemany("INSERT INTO raw_experiments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


SILVER_EVENTS = f"""
CREATE TABLE typed_events AS
WITH parsed AS (
    SELECT r.*, f.path, f.batch, f.ingested_at, iso_parts(r.event_ts) AS p
    FROM raw_events r JOIN ingest_files f ON f.uri = r.filename
), typed AS (
    SELECT
        ident(event_id) AS event_id,
        iso_utc(p) AS ts,
        ident(user_id) AS user_id,
        ident(session_id) AS session_id,
        lower(ident(event_type)) AS event_type,
        ident(product_id) AS product_id,
        ident(order_id) AS order_id,
        lower(ident(device)) AS device,
        ident(country) AS country,
        experiments,
        properties,
        ({" AND ".join(f"{c} IS NULL" for c in EVENT_COLUMNS)}) AS unreadable,
        path, ordinality AS line, batch, ingested_at
    FROM parsed
)
SELECT *, CASE
    WHEN unreadable THEN 'malformed_json'
    WHEN event_id IS NULL THEN 'missing_event_id'
    WHEN user_id IS NULL THEN 'missing_user_id'
    WHEN ts IS NULL THEN 'unparseable_event_ts'
    WHEN event_type IS NULL OR event_type NOT IN ({", ".join(_sql_str(t) for t in EVENT_TYPES)})
        THEN 'unknown_event_type'
    WHEN ts > ingested_at + INTERVAL {LATE_TOLERANCE_HOURS} HOURS THEN 'event_ts_in_future'
END AS reason
FROM typed;

CREATE TABLE silver_events AS
SELECT event_id, ts AS event_ts, CAST(ts AS DATE) AS event_date, user_id, session_id, event_type, product_id,
       order_id, device, country, experiments, properties, path AS ingest_file, line AS ingest_line, batch
FROM typed_events
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts, batch, path, line) = 1;
"""

SILVER_ORDER_LINES = """
CREATE TABLE typed_order_lines AS
WITH parsed AS (
    SELECT r.*, f.path, f.batch, iso_parts(r.order_ts) AS p
    FROM raw_orders r JOIN ingest_files f ON f.uri = r.filename
), typed AS (
    SELECT
        ident(order_id) AS order_id,
        ident(line_no) AS line_no,
        iso_utc(p) AS ts,
        ident(customer_id) AS customer_id,
        ident(product_id) AS product_id,
        plain_number(quantity) AS quantity,
        plain_number(unit_price) AS unit_price,
        CASE WHEN ident(discount) IS NULL THEN CAST(0 AS DECIMAL(18,6)) ELSE plain_number(discount) END
            AS discount,
        lower(ident(status)) AS status,
        ident(country) AS country,
        path, ordinality AS line, batch
    FROM parsed
)
SELECT *, CASE
    WHEN order_id IS NULL THEN 'missing_order_id'
    WHEN line_no IS NULL THEN 'missing_line_no'
    WHEN ts IS NULL THEN 'unparseable_order_ts'
    WHEN quantity IS NULL THEN 'non_numeric_quantity'
    WHEN unit_price IS NULL THEN 'non_numeric_unit_price'
    WHEN quantity <= 0 THEN 'non_positive_quantity'
    WHEN unit_price < 0 THEN 'negative_unit_price'
    WHEN abs(quantity * unit_price) >= 1e22 THEN 'line_amount_out_of_range'
    WHEN discount IS NULL OR discount < 0 OR discount > 1 THEN 'discount_out_of_range'
END AS reason
FROM typed;

CREATE TABLE silver_order_lines AS
SELECT order_id, line_no, ts AS order_ts, CAST(ts AS DATE) AS order_date, customer_id, product_id, quantity,
       unit_price, discount, quantity * unit_price * (1 - discount) AS line_revenue, status,
       coalesce(status, '') NOT IN ('cancelled', 'returned') AS is_sale, country,
       path AS ingest_file, line AS ingest_line, batch
FROM typed_order_lines
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY order_id, line_no ORDER BY batch DESC, path DESC, line DESC) = 1;
"""

GOLD_DAILY_KPIS = """
CREATE TABLE daily_kpis AS
WITH sales AS (
    SELECT * FROM silver_order_lines WHERE is_sale
), sales_daily AS (
    SELECT order_date AS date, sum(line_revenue) AS revenue, count(DISTINCT order_id) AS orders,
           sum(quantity) AS units
    FROM sales GROUP BY ALL
), first_sales AS (
    SELECT first_date AS date, count(*) AS new_customers
    FROM (SELECT customer_id, min(order_date) AS first_date FROM sales WHERE customer_id IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
), active AS (
    SELECT event_date AS date, count(DISTINCT user_id) AS active_users FROM silver_events GROUP BY ALL
), sessions AS (
    SELECT session_id, min(event_ts) AS started, bool_or(event_type = 'purchase') AS converted
    FROM silver_events WHERE session_id IS NOT NULL GROUP BY ALL
), session_daily AS (
    SELECT CAST(started AS DATE) AS date, count(*) AS sessions, count(*) FILTER (WHERE converted) AS converted
    FROM sessions GROUP BY ALL
), bounds AS (
    SELECT min(d) AS lo, max(d) AS hi
    FROM (SELECT event_date AS d FROM silver_events UNION ALL SELECT order_date FROM silver_order_lines)
), spine AS (
    SELECT CAST(unnest(generate_series(lo, hi, INTERVAL 1 DAY)) AS DATE) AS date FROM bounds WHERE lo IS NOT NULL
)
SELECT
    spine.date,
    coalesce(s.revenue, 0) AS revenue,
    coalesce(s.orders, 0) AS orders,
    CASE WHEN coalesce(s.orders, 0) > 0 THEN CAST(s.revenue AS DECIMAL(38,12)) / s.orders END AS aov,
    coalesce(s.units, 0) AS units,
    coalesce(a.active_users, 0) AS active_users,
    coalesce(d.sessions, 0) AS sessions,
    CASE WHEN coalesce(d.sessions, 0) > 0 THEN d.converted / d.sessions END AS session_conversion_rate,
    coalesce(n.new_customers, 0) AS new_customers
FROM spine
LEFT JOIN sales_daily s USING (date)
LEFT JOIN first_sales n USING (date)
LEFT JOIN active a USING (date)
LEFT JOIN session_daily d USING (date)
ORDER BY spine.date;
"""

SILVER_PRODUCTS = """
CREATE TABLE typed_products AS
SELECT ident(product_id) AS product_id, ident(name) AS name, ident(category) AS category, ident(brand) AS brand,
       plain_number(list_price) AS list_price, plain_number(cost) AS cost, path, seq, batch,
       CASE WHEN ident(product_id) IS NULL THEN 'missing_product_id'
            WHEN plain_number(list_price) IS NULL THEN 'non_numeric_list_price' END AS reason
FROM raw_products;

CREATE TABLE silver_products AS
SELECT product_id, name, category, brand, list_price, cost, path AS ingest_file, seq AS ingest_seq, batch
FROM typed_products
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY batch DESC, path DESC, seq DESC) = 1;
"""

SILVER_EXPERIMENTS = """
CREATE TABLE typed_experiments AS
WITH typed AS (
    SELECT ident(experiment_id) AS experiment_id,
           CAST(iso_utc(iso_parts(start_date)) AS DATE) AS start_date,
           CAST(iso_utc(iso_parts(end_date)) AS DATE) AS end_date,
           variants, shares, allocation_ok, unreadable, path, seq, batch
    FROM raw_experiments
)
SELECT *, CASE
    WHEN unreadable THEN 'unreadable_record'
    WHEN experiment_id IS NULL THEN 'missing_experiment_id'
    WHEN start_date IS NULL THEN 'unparseable_start_date'
    WHEN end_date IS NULL THEN 'unparseable_end_date'
    WHEN variants IS NULL OR len(variants) = 0 THEN 'no_variants'
    WHEN NOT allocation_ok THEN 'allocation_mismatch'
END AS reason
FROM typed;

CREATE TABLE silver_experiments AS
SELECT experiment_id, start_date, end_date, variants, shares, path AS ingest_file, seq AS ingest_seq, batch
FROM typed_experiments
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY experiment_id ORDER BY batch DESC, path DESC, seq DESC) = 1;

CREATE TABLE experiment_variants AS
SELECT experiment_id, CAST(generate_subscripts(variants, 1) - 1 AS INTEGER) AS variant_index,
       unnest(variants) AS variant, unnest(shares) AS allocation_share
FROM silver_experiments;
"""

# One row per session: its date and device are those of its first event (by event_ts, then ingestion order).
SESSIONS = """
CREATE TABLE silver_sessions AS
SELECT session_id,
       arg_min_null(user_id, (event_ts, batch, ingest_file, ingest_line)) AS user_id,
       CAST(min(event_ts) AS DATE) AS session_date,
       coalesce(arg_min_null(device, (event_ts, batch, ingest_file, ingest_line)), 'unknown') AS device,
       bool_or(event_type = 'purchase') AS converted
FROM silver_events
WHERE session_id IS NOT NULL
GROUP BY ALL;
"""

# units > 1.5 x (previous 7 dates' units / 7) and that mean >= 1, in exact decimals: 14 x units > 3 x sum, sum >= 7.
GOLD_PRODUCT_DAILY = """
CREATE TABLE product_daily AS
WITH seen AS (
    SELECT product_id, event_date AS date,
           count(*) FILTER (WHERE event_type = 'product_view') AS views,
           count(*) FILTER (WHERE event_type = 'add_to_cart') AS add_to_carts
    FROM silver_events
    WHERE product_id IS NOT NULL AND event_type IN ('product_view', 'add_to_cart')
    GROUP BY ALL
), sold AS (
    SELECT product_id, order_date AS date, sum(quantity) AS units_sold, sum(line_revenue) AS revenue
    FROM silver_order_lines WHERE is_sale AND product_id IS NOT NULL GROUP BY ALL
), daily AS (
    SELECT product_id, date, coalesce(seen.views, 0) AS views, coalesce(seen.add_to_carts, 0) AS add_to_carts,
           coalesce(sold.units_sold, 0) AS units_sold, coalesce(sold.revenue, 0) AS revenue
    FROM seen FULL OUTER JOIN sold USING (product_id, date)
), baseline AS (
    SELECT d.product_id, d.date, sum(s.units_sold) AS previous_units
    FROM daily d JOIN sold s ON s.product_id = d.product_id AND s.date >= d.date - 7 AND s.date < d.date
    GROUP BY ALL
)
SELECT d.date, d.product_id, CAST(d.views AS BIGINT) AS views, CAST(d.add_to_carts AS BIGINT) AS add_to_carts,
       d.units_sold, d.revenue,
       CASE WHEN d.views > 0 THEN CAST(d.units_sold AS DOUBLE) / d.views END AS view_to_purchase_rate,
       coalesce(d.units_sold * 14 > b.previous_units * 3 AND b.previous_units >= 7, false) AS sales_spike
FROM daily d LEFT JOIN baseline b USING (product_id, date)
ORDER BY d.product_id, d.date;
"""

GOLD_CATEGORY_DAILY = """
CREATE TABLE category_daily AS
SELECT l.order_date AS date, coalesce(p.category, 'unknown') AS category,
       sum(l.line_revenue) AS revenue, sum(l.quantity) AS units
FROM silver_order_lines l LEFT JOIN silver_products p ON p.product_id = l.product_id
WHERE l.is_sale
GROUP BY ALL
ORDER BY 1, 2;
"""

GOLD_FCT_USER = """
CREATE TABLE fct_user AS
WITH seen AS (
    SELECT user_id, min(event_ts) AS first_event, max(event_ts) AS last_event, count(*) AS events
    FROM silver_events GROUP BY ALL
), started AS (
    SELECT user_id, count(*) AS sessions FROM silver_sessions GROUP BY ALL
), bought AS (
    SELECT customer_id AS user_id, min(order_ts) AS first_order, max(order_ts) AS last_order,
           count(DISTINCT order_id) AS orders, sum(line_revenue) AS revenue,
           min(order_date) AS first_order_date, max(order_date) AS last_order_date
    FROM silver_order_lines WHERE is_sale AND customer_id IS NOT NULL GROUP BY ALL
), users AS (
    SELECT user_id FROM seen UNION SELECT user_id FROM bought
)
SELECT u.user_id,
       least(s.first_event, b.first_order) AS first_seen,
       greatest(s.last_event, b.last_order) AS last_seen,
       coalesce(st.sessions, 0) AS sessions,
       coalesce(s.events, 0) AS events,
       coalesce(b.orders, 0) AS orders,
       coalesce(b.revenue, 0) AS revenue,
       b.first_order_date, b.last_order_date
FROM users u
LEFT JOIN seen s USING (user_id)
LEFT JOIN started st USING (user_id)
LEFT JOIN bought b USING (user_id)
ORDER BY u.user_id;
"""

GOLD_RETENTION_COHORTS = """
CREATE TABLE retention_cohorts AS
WITH active AS (
    SELECT DISTINCT customer_id, CAST(date_trunc('month', order_date) AS DATE) AS month
    FROM silver_order_lines WHERE is_sale AND customer_id IS NOT NULL
), cohorts AS (
    SELECT customer_id, min(month) AS cohort_month FROM active GROUP BY ALL
), sizes AS (
    SELECT cohort_month, count(*) AS cohort_size FROM cohorts GROUP BY ALL
), grid AS (
    SELECT cohort_month, cohort_size,
           CAST(unnest(generate_series(cohort_month, (SELECT max(month) FROM active), INTERVAL 1 MONTH)) AS DATE)
               AS activity_month
    FROM sizes
), retained AS (
    SELECT c.cohort_month, a.month AS activity_month, count(*) AS active_customers
    FROM active a JOIN cohorts c USING (customer_id) GROUP BY ALL
)
SELECT g.cohort_month,
       CAST(datediff('month', g.cohort_month, g.activity_month) AS INTEGER) AS month_offset,
       g.activity_month, g.cohort_size,
       coalesce(r.active_customers, 0) AS active_customers,
       coalesce(r.active_customers, 0) / g.cohort_size AS retention_rate
FROM grid g LEFT JOIN retained r USING (cohort_month, activity_month)
ORDER BY 1, 2;
"""

# Greedy per session: t1 = first product_view, t(n) = first step-n event at or after t(n-1).
GOLD_FUNNEL_DAILY = """
CREATE TABLE funnel_daily AS
WITH marks AS (
    SELECT session_id,
           min(event_ts) FILTER (WHERE event_type = 'product_view') AS t1,
           list(event_ts) FILTER (WHERE event_type = 'add_to_cart') AS l2,
           list(event_ts) FILTER (WHERE event_type = 'begin_checkout') AS l3,
           list(event_ts) FILTER (WHERE event_type = 'purchase') AS l4
    FROM silver_events
    WHERE session_id IS NOT NULL AND event_type IN ('product_view', 'add_to_cart', 'begin_checkout', 'purchase')
    GROUP BY ALL
), m2 AS (
    SELECT *, list_min(list_filter(l2, lambda x: x >= t1)) AS t2 FROM marks
), m3 AS (
    SELECT *, list_min(list_filter(l3, lambda x: x >= t2)) AS t3 FROM m2
), m4 AS (
    SELECT *, list_min(list_filter(l4, lambda x: x >= t3)) AS t4 FROM m3
), per_session AS (
    SELECT s.session_date, s.device,
           CAST(m.t1 IS NOT NULL AS INTEGER) AS r1, CAST(m.t2 IS NOT NULL AS INTEGER) AS r2,
           CAST(m.t3 IS NOT NULL AS INTEGER) AS r3, CAST(m.t4 IS NOT NULL AS INTEGER) AS r4
    FROM silver_sessions s LEFT JOIN m4 m USING (session_id)
), totals AS (
    SELECT session_date, device, [sum(r1), sum(r2), sum(r3), sum(r4)] AS reached FROM per_session GROUP BY ALL
    UNION ALL
    SELECT session_date, 'all', [sum(r1), sum(r2), sum(r3), sum(r4)] FROM per_session GROUP BY ALL
), steps AS (
    SELECT * FROM (VALUES (1, 'product_view'), (2, 'add_to_cart'), (3, 'begin_checkout'), (4, 'purchase'))
        AS t(step, step_name)
)
SELECT t.session_date, t.device, CAST(s.step AS INTEGER) AS step, s.step_name,
       CAST(t.reached[s.step] AS BIGINT) AS sessions_reached,
       CASE WHEN s.step > 1 AND t.reached[s.step - 1] > 0 THEN t.reached[s.step] / t.reached[s.step - 1] END
           AS step_conversion,
       CASE WHEN t.reached[1] > 0 THEN t.reached[s.step] / t.reached[1] END AS overall_conversion
FROM totals t CROSS JOIN steps s
ORDER BY 1, 2, 3;
"""

# Exposures: an event carrying the experiment (non-null variant) on a UTC date inside the window; the user's
# variant is that of the first such event. Converters purchase at/after it within the window; their revenue
# is the in-window sale lines of the distinct orders those purchases name.
EXPERIMENT_OUTCOMES = """
CREATE TABLE exposure_events AS
WITH carried AS (
    SELECT user_id, event_id, event_ts, event_date, batch, ingest_file, ingest_line,
           unnest(map_entries(TRY_CAST(TRY_CAST(experiments AS JSON) AS MAP(VARCHAR, VARCHAR)))) AS entry
    FROM silver_events
    WHERE experiments IS NOT NULL AND experiments <> '{}'
)
SELECT c.user_id, x.experiment_id, c.entry.value AS variant, c.event_ts,
       (c.event_ts, c.batch, c.ingest_file, c.ingest_line, c.event_id) AS seen_order
FROM carried c JOIN silver_experiments x ON x.experiment_id = c.entry.key
WHERE c.entry.value IS NOT NULL AND c.event_date BETWEEN x.start_date AND x.end_date;

CREATE TABLE experiment_exposures AS
SELECT user_id, experiment_id, arg_min(variant, seen_order) AS variant, min(event_ts) AS first_exposure_ts,
       count(DISTINCT variant) AS variants_seen
FROM exposure_events GROUP BY ALL;

CREATE TABLE experiment_outcomes AS
WITH qualifying AS (
    SELECT x.experiment_id, x.user_id, p.order_id, w.start_date, w.end_date
    FROM experiment_exposures x
    JOIN silver_experiments w USING (experiment_id)
    JOIN silver_events p ON p.user_id = x.user_id AND p.event_type = 'purchase'
    WHERE p.event_ts >= x.first_exposure_ts AND p.event_date BETWEEN w.start_date AND w.end_date
), converted AS (
    SELECT DISTINCT experiment_id, user_id FROM qualifying
), orders AS (
    SELECT DISTINCT experiment_id, user_id, order_id, start_date, end_date FROM qualifying WHERE order_id IS NOT NULL
), revenue AS (
    SELECT o.experiment_id, o.user_id, sum(l.line_revenue) AS revenue
    FROM orders o JOIN silver_order_lines l ON l.order_id = o.order_id AND l.is_sale
    WHERE l.order_date BETWEEN o.start_date AND o.end_date
    GROUP BY ALL
)
SELECT x.experiment_id, x.variant, x.user_id, c.user_id IS NOT NULL AS converted,
       coalesce(r.revenue, 0) AS revenue
FROM experiment_exposures x
LEFT JOIN converted c USING (experiment_id, user_id)
LEFT JOIN revenue r USING (experiment_id, user_id);

CREATE TABLE experiment_variant_totals AS
SELECT v.experiment_id, v.variant, v.variant_index, v.allocation_share,
       count(o.user_id) AS users, count(o.user_id) FILTER (WHERE o.converted) AS converters,
       coalesce(sum(o.revenue), 0) AS revenue,
       coalesce(list(CAST(o.revenue AS DOUBLE)) FILTER (WHERE o.user_id IS NOT NULL), []) AS user_revenue
FROM experiment_variants v
LEFT JOIN experiment_outcomes o USING (experiment_id, variant)
GROUP BY ALL
ORDER BY v.experiment_id, v.variant_index;
"""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    rows = con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def _reasons(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    rows = con.execute(f"SELECT reason, count(*) FROM {table} WHERE reason IS NOT NULL GROUP BY ALL ORDER BY 1")
    return {str(reason): int(n) for reason, n in rows.fetchall()}


EXPERIMENT_RESULT_COLUMNS = (
    ("experiment_id", "VARCHAR"),
    ("variant", "VARCHAR"),
    ("variant_index", "INTEGER"),
    ("is_control", "BOOLEAN"),
    ("allocation_share", "DOUBLE"),
    ("users", "BIGINT"),
    ("converters", "BIGINT"),
    ("conversion_rate", "DOUBLE"),
    ("revenue", "DECIMAL(38,18)"),
    ("revenue_per_user", "DECIMAL(38,18)"),
    ("srm_p_value", "DOUBLE"),
    ("abs_lift", "DOUBLE"),
    ("rel_lift", "DOUBLE"),
    ("ci_low", "DOUBLE"),
    ("ci_high", "DOUBLE"),
    ("p_value", "DOUBLE"),
    ("significant", "BOOLEAN"),
    ("revenue_p_value", "DOUBLE"),
)


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _srm(users: list[int], shares: list[float]) -> float | None:
    """Chi-square goodness of fit of users per variant against the shares normalised to sum 1."""
    from scipy import stats

    total, planned = sum(users), sum(shares)
    if len(users) < 2 or total <= 0 or planned <= 0:
        return None
    expected = [total * share / planned for share in shares]
    if any(e == 0 and n > 0 for n, e in zip(users, expected, strict=True)):
        return 0.0  # someone landed in a variant planned at 0: a certain mismatch
    kept = [(n, e) for n, e in zip(users, expected, strict=True) if e > 0]
    if len(kept) < 2:
        return None
    return _finite(stats.chisquare([n for n, _ in kept], [e for _, e in kept]).pvalue)


def experiment_statistics(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-variant totals (users, converters, revenue, per-user revenue list) -> experiment_results rows."""
    from scipy import stats

    z95 = float(stats.norm.ppf(0.975))
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for row in variants:
        by_experiment.setdefault(row["experiment_id"], []).append(row)
    out: list[dict[str, Any]] = []
    for experiment_id in sorted(by_experiment):
        rows = sorted(by_experiment[experiment_id], key=lambda r: r["variant_index"])
        srm = _srm([int(r["users"]) for r in rows], [float(r["allocation_share"]) for r in rows])
        control = rows[0]
        n0, c0 = int(control["users"]), int(control["converters"])
        for row in rows:
            n, c = int(row["users"]), int(row["converters"])
            revenue = Decimal(row["revenue"])
            result: dict[str, Any] = {
                "experiment_id": experiment_id,
                "variant": row["variant"],
                "variant_index": int(row["variant_index"]),
                "is_control": row is control,
                "allocation_share": float(row["allocation_share"]),
                "users": n,
                "converters": c,
                "conversion_rate": c / n if n else None,
                "revenue": revenue,
                "revenue_per_user": revenue / n if n else None,
                "srm_p_value": srm,
                **dict.fromkeys(("abs_lift", "rel_lift", "ci_low", "ci_high", "p_value", "significant")),
                "revenue_p_value": None,
            }
            if row is not control and n > 0 and n0 > 0:
                p1, p0 = c / n, c0 / n0
                diff = p1 - p0
                se = math.sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / n0)
                pooled = (c + c0) / (n + n0)
                pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n0))
                p_value = _finite(2 * stats.norm.sf(abs(diff) / pooled_se)) if pooled_se > 0 else None
                result.update(
                    abs_lift=diff,
                    rel_lift=diff / p0 if p0 > 0 else None,
                    ci_low=diff - z95 * se,
                    ci_high=diff + z95 * se,
                    p_value=p_value,
                    significant=None if p_value is None else p_value < ALPHA,
                )
            if row is not control and n >= 2 and n0 >= 2:
                with warnings.catch_warnings():  # constant samples: an undefined test is null, not a warning
                    warnings.simplefilter("ignore", RuntimeWarning)
                    welch = stats.ttest_ind(row["user_revenue"], control["user_revenue"], equal_var=False)
                result["revenue_p_value"] = _finite(welch.pvalue)
            out.append(result)
    return out


def _store_experiment_results(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    con.execute(
        "CREATE TABLE experiment_results ("
        + ", ".join(f"{name} {kind}" for name, kind in EXPERIMENT_RESULT_COLUMNS)
        + ")"
    )
    if rows:
        names = [name for name, _ in EXPERIMENT_RESULT_COLUMNS]
        con.executemany(
            f"INSERT INTO experiment_results VALUES ({', '.join('?' * len(names))})",
            [tuple(row[name] for name in names) for row in rows],
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def run_reference(
    landing: Path,
    batches: Sequence[Batch] | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    write_dir: Path | None = None,
) -> ReferenceResult:
    """Landing files -> silver -> every gold table of METRICS.md, in one in-memory DuckDB.

    ``batches`` default to every landing file as one batch ingested now. With ``write_dir`` the silver
    tables and every gold table are also written as Parquet there (timed per table as ``write_<table>``).
    """
    landing = Path(landing).resolve()
    if batches is None:
        batches = [Batch(tuple(landing_files(landing)), _utcnow())]
    import fnmatch

    all_files = [rel for batch in batches for rel in batch.files]
    event_files = [rel for rel in all_files if fnmatch.fnmatch(rel, EVENT_GLOB)]
    order_files = [rel for rel in all_files if fnmatch.fnmatch(rel, ORDER_GLOB)]
    batch_files = [(rel, number) for number, batch in enumerate(batches) for rel in batch.files]
    inventory_files = [(rel, n) for rel, n in batch_files if fnmatch.fnmatch(rel, INVENTORY_GLOB)]
    experiment_files = [(rel, n) for rel, n in batch_files if fnmatch.fnmatch(rel, EXPERIMENT_GLOB)]
    # Libraries the steps use are imported before the clock starts (the Spark process has them loaded too).
    import openpyxl  # noqa: F401
    import scipy.stats  # noqa: F401

    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    started = lap = time.perf_counter()
    cpu_started = cpu_lap = _process_cpu()

    def mark(name: str) -> None:
        nonlocal lap, cpu_lap
        now, now_cpu = time.perf_counter(), _process_cpu()
        seconds[name] = round(now - lap, 3)
        cpu[name] = round(now_cpu - cpu_lap, 3)
        lap, cpu_lap = now, now_cpu

    config: dict[str, Any] = {"preserve_insertion_order": True}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(":memory:", config=config)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(MACROS)
        _check_csv_headers(landing, order_files)
        _register_files(con, landing, batches)
        _load_events(con, [str(landing / rel) for rel in event_files])
        mark("read_events")
        malformed_orders = _load_orders(con, [str(landing / rel) for rel in order_files])
        mark("read_orders")
        unreadable_workbooks = _load_products(con, landing, inventory_files)
        mark("read_inventory")
        _load_experiments(con, landing, experiment_files)
        mark("read_experiments")
        con.execute(SILVER_EVENTS)
        mark("silver_events")
        con.execute(SILVER_ORDER_LINES)
        mark("silver_order_lines")
        con.execute(SILVER_PRODUCTS)
        mark("silver_products")
        con.execute(SILVER_EXPERIMENTS)
        mark("silver_experiments")
        con.execute(GOLD_DAILY_KPIS)
        mark("gold_daily_kpis")
        con.execute(SESSIONS)
        mark("sessions")
        for name, sql in (
            ("product_daily", GOLD_PRODUCT_DAILY),
            ("category_daily", GOLD_CATEGORY_DAILY),
            ("fct_user", GOLD_FCT_USER),
            ("retention_cohorts", GOLD_RETENTION_COHORTS),
            ("funnel_daily", GOLD_FUNNEL_DAILY),
        ):
            con.execute(sql)
            mark(f"gold_{name}")
        con.execute(EXPERIMENT_OUTCOMES)
        mark("silver_experiment_exposures")
        totals = _rows(con, "SELECT * FROM experiment_variant_totals")
        _store_experiment_results(con, experiment_statistics(totals))
        mark("gold_experiment_results")
        if write_dir is not None:
            write_dir.mkdir(parents=True, exist_ok=True)
            for table in (*SILVER_TABLES, "experiment_exposures", *GOLD_TABLES):
                target = write_dir / f"{table}.parquet"
                con.execute(f"COPY {table} TO {_sql_str(str(target))} (FORMAT parquet)")
                mark(f"write_{table}")
        seconds["total"] = round(time.perf_counter() - started, 3)
        cpu["total"] = round(_process_cpu() - cpu_started, 3)

        gold = {table: _rows(con, f"SELECT * FROM {table}") for table in GOLD_TABLES}
        event_reasons = _reasons(con, "typed_events")
        order_reasons = _reasons(con, "typed_order_lines")
        if malformed_orders:
            order_reasons = {"malformed_csv_row": malformed_orders, **order_reasons}
        product_reasons = _reasons(con, "typed_products")
        if unreadable_workbooks:
            product_reasons = {"unreadable_record": unreadable_workbooks, **product_reasons}
        raw_events = int(_scalar(con, "SELECT count(*) FROM raw_events"))
        raw_orders = int(_scalar(con, "SELECT count(*) FROM raw_orders")) + malformed_orders
        silver_events = int(_scalar(con, "SELECT count(*) FROM silver_events"))
        silver_lines = int(_scalar(con, "SELECT count(*) FROM silver_order_lines"))
        counts = {
            "event_files": len(event_files),
            "order_files": len(order_files),
            "inventory_files": len(inventory_files),
            "experiment_files": len(experiment_files),
            "events_in": raw_events,
            "events_quarantined": sum(event_reasons.values()),
            "events_deduplicated": raw_events - sum(event_reasons.values()) - silver_events,
            "silver_events": silver_events,
            "event_quarantine_reasons": event_reasons,
            "order_rows_in": raw_orders,
            "order_lines_quarantined": sum(order_reasons.values()),
            "order_lines_deduplicated": raw_orders - sum(order_reasons.values()) - silver_lines,
            "silver_order_lines": silver_lines,
            "order_quarantine_reasons": order_reasons,
            "product_rows_in": int(_scalar(con, "SELECT count(*) FROM raw_products")),
            "products_quarantined": sum(product_reasons.values()),
            "silver_products": int(_scalar(con, "SELECT count(*) FROM silver_products")),
            "product_quarantine_reasons": product_reasons,
            "experiments_quarantined": sum(_reasons(con, "typed_experiments").values()),
            "silver_experiments": int(_scalar(con, "SELECT count(*) FROM silver_experiments")),
            "experiment_exposures": int(_scalar(con, "SELECT count(*) FROM experiment_exposures")),
            "gold_rows": {table: len(rows) for table, rows in gold.items()},
            "duckdb_version": duckdb.__version__,
            "threads": int(_scalar(con, "SELECT current_setting('threads')")),
        }
    finally:
        con.close()
    return ReferenceResult(seconds=seconds, daily_kpis=gold["daily_kpis"], counts=counts, gold=gold, cpu_seconds=cpu)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def kpi_markdown(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    names = list(rows[0])
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_fmt(row[n]) for n in names) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True, help="landing zone folder (events/, orders/)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--write-dir", type=Path, default=None, help="also write silver and gold as Parquet here")
    parser.add_argument("--json", type=Path, default=None, help="write timings, counts and every gold table here")
    args = parser.parse_args(argv)
    result = run_reference(args.landing, threads=args.threads, write_dir=args.write_dir)
    print(kpi_markdown(result.daily_kpis))
    print()
    print(kpi_markdown(result.gold["experiment_results"]))
    print()
    print("seconds:", json.dumps(result.seconds))
    print("cpu seconds:", json.dumps(result.cpu_seconds))
    print("counts:", json.dumps(result.counts))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"seconds": result.seconds, "cpu_seconds": result.cpu_seconds, "counts": result.counts, **result.gold},
                default=str,
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
