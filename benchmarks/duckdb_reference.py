"""A single-node DuckDB implementation of the landing -> silver -> gold.daily_kpis hop.

It is written from METRICS.md alone and shares no code with the pipeline (no Spark, no
``transforms``), so that the benchmark can (1) time the same hop on a single-node SQL engine
and (2) check the Spark lakehouse's ``gold.daily_kpis`` against an independent reading.

What it does, in SQL:

* events: every ``events/*.jsonl[.gz]`` file through ``read_json`` (newline-delimited, every
  column read as VARCHAR, ``ignore_errors`` so that a malformed line becomes an all-null row
  instead of failing the scan), with the file name and the line's ordinal (ingestion order);
* orders: every ``orders/*.csv`` through ``read_csv`` with an explicit 10-column VARCHAR schema;
  a row whose field count differs from the header is rejected (``store_rejects``) and counted;
* silver rules: ISO-8601 timestamps parsed exactly as the contract spells them (regex, then a
  strict local parse, then the offset), quarantine before de-duplication, events keep the first
  copy by ``event_ts`` then ingestion order, order lines keep the latest ingested version;
* gold: ``daily_kpis`` over a date spine from the first to the last silver date.

Ingestion order is (batch, landing-relative path, line): by default all files are one batch, the
benchmark passes two (the files of the full run, then the files the incremental run added).

Usage::

    python benchmarks/duckdb_reference.py --landing /tmp/lakehouse-bench/.../landing [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def landing_files(landing: Path) -> list[str]:
    """Event and order files under ``landing`` (landing-relative, path order)."""
    import fnmatch

    found = [p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()]
    return sorted(f for f in found if fnmatch.fnmatch(f, EVENT_GLOB) or fnmatch.fnmatch(f, ORDER_GLOB))


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
    row = con.execute("SELECT count(*) FROM reject_errors").fetchone()
    return int(row[0]) if row else 0


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


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _reasons(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    rows = con.execute(f"SELECT reason, count(*) FROM {table} WHERE reason IS NOT NULL GROUP BY ALL ORDER BY 1")
    return {str(reason): int(n) for reason, n in rows.fetchall()}


def run_reference(
    landing: Path,
    batches: Sequence[Batch] | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    write_dir: Path | None = None,
) -> ReferenceResult:
    """Landing files -> silver events / order lines -> gold daily_kpis, in one in-memory DuckDB.

    ``batches`` default to every event and order file as one batch ingested now. With ``write_dir``
    the two silver tables and daily_kpis are also written as Parquet there (timed as ``write``).
    """
    landing = Path(landing).resolve()
    if batches is None:
        batches = [Batch(tuple(landing_files(landing)), _utcnow())]
    import fnmatch

    all_files = [rel for batch in batches for rel in batch.files]
    event_files = [rel for rel in all_files if fnmatch.fnmatch(rel, EVENT_GLOB)]
    order_files = [rel for rel in all_files if fnmatch.fnmatch(rel, ORDER_GLOB)]
    seconds: dict[str, float] = {}
    started = lap = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        seconds[name] = round(now - lap, 3)
        lap = now

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
        con.execute(SILVER_EVENTS)
        mark("silver_events")
        con.execute(SILVER_ORDER_LINES)
        mark("silver_order_lines")
        con.execute(GOLD_DAILY_KPIS)
        mark("gold_daily_kpis")
        if write_dir is not None:
            write_dir.mkdir(parents=True, exist_ok=True)
            for table in ("silver_events", "silver_order_lines", "daily_kpis"):
                target = write_dir / f"{table}.parquet"
                con.execute(f"COPY {table} TO {_sql_str(str(target))} (FORMAT parquet)")
            mark("write")
        seconds["total"] = round(time.perf_counter() - started, 3)

        cursor = con.execute("SELECT * FROM daily_kpis ORDER BY date")
        names = [d[0] for d in cursor.description]
        kpis = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        event_reasons = _reasons(con, "typed_events")
        order_reasons = _reasons(con, "typed_order_lines")
        if malformed_orders:
            order_reasons = {"malformed_csv_row": malformed_orders, **order_reasons}
        raw_events = int(_scalar(con, "SELECT count(*) FROM raw_events"))
        raw_orders = int(_scalar(con, "SELECT count(*) FROM raw_orders")) + malformed_orders
        silver_events = int(_scalar(con, "SELECT count(*) FROM silver_events"))
        silver_lines = int(_scalar(con, "SELECT count(*) FROM silver_order_lines"))
        counts = {
            "event_files": len(event_files),
            "order_files": len(order_files),
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
            "duckdb_version": duckdb.__version__,
            "threads": int(_scalar(con, "SELECT current_setting('threads')")),
        }
    finally:
        con.close()
    return ReferenceResult(seconds=seconds, daily_kpis=kpis, counts=counts)


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
    parser.add_argument("--json", type=Path, default=None, help="write timings, counts and daily_kpis here")
    args = parser.parse_args(argv)
    result = run_reference(args.landing, threads=args.threads, write_dir=args.write_dir)
    print(kpi_markdown(result.daily_kpis))
    print()
    print("seconds:", json.dumps(result.seconds))
    print("counts:", json.dumps(result.counts))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"seconds": result.seconds, "counts": result.counts, "daily_kpis": result.daily_kpis},
                default=str,
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
