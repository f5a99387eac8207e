"""Narrowing gold inputs to what a set of dates needs, so an incremental run recomputes only those dates.

An incremental gold build finds the dates a change can reach (``*_reached``), narrows its inputs
to the rows those dates depend on (``*_on``), runs its usual transform and keeps only those dates.
Every helper returns a superset of what the metric needs, never fewer rows: a session is kept
whole, a customer with all their lines, a look-back window in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def on_dates(frame: DataFrame, column: str, dates: Iterable[dt.date]) -> DataFrame:
    return frame.filter(F.col(column).isin(list(dates)))


def widened(dates: Iterable[dt.date], before: int = 0, after: int = 0) -> list[dt.date]:
    """``dates`` with the ``before`` days ahead of each and the ``after`` days following each."""
    return sorted({day + dt.timedelta(days=k) for day in dates for k in range(-before, after + 1)})


def events_of_sessions_on(events: DataFrame, dates: list[dt.date]) -> DataFrame:
    """Every event on ``dates``, plus every event of each session with an event on ``dates``.

    A session dated on one of ``dates`` (its first event is there) is then whole, whatever day
    its later events fall on; events without a session are kept only on ``dates``.
    """
    on = on_dates(events, "event_date", dates)
    touched = on.filter(F.col("session_id").isNotNull()).select("session_id").distinct()
    return events.join(touched, "session_id", "left_semi").unionByName(on.filter(F.col("session_id").isNull()))


def lines_of_customers_on(order_lines: DataFrame, dates: list[dt.date]) -> DataFrame:
    """Every order line on ``dates``, plus every line of each customer with a line on ``dates``.

    A customer's first order date (``new_customers``) is then exact for any customer ordering on
    one of ``dates``.
    """
    on = on_dates(order_lines, "order_date", dates)
    customers = on.filter(F.col("customer_id").isNotNull()).select("customer_id").distinct()
    return order_lines.join(customers, "customer_id", "left_semi").unionByName(on.filter(F.col("customer_id").isNull()))


def _moved_firsts(before: DataFrame, after: DataFrame, group: str, date: str) -> DataFrame:
    """Old and new first ``date`` of each ``group`` whose first date moved (column ``date``)."""
    old = before.groupBy(group).agg(F.min(date).alias("old"))
    new = after.groupBy(group).agg(F.min(date).alias("new"))
    moved = old.join(new, group, "full").filter(~F.col("old").eqNullSafe(F.col("new")))
    return moved.select(F.explode(F.array("old", "new")).alias("date")).filter(F.col("date").isNotNull())


def session_dates_reached(events: DataFrame, previous: DataFrame, changed: DataFrame) -> DataFrame:
    """Dates (column ``date``) whose session rows a change to ``changed`` events can alter.

    Each changed session's date as it is now (its counts, device or funnel may have changed),
    and its date before when its first event moved (it leaves that date). ``events`` and
    ``previous`` are the table now and as the last build saw it.
    """
    sessions = changed.filter(F.col("session_id").isNotNull()).select("session_id").distinct()
    now = events.join(sessions, "session_id", "left_semi")
    before = previous.join(sessions, "session_id", "left_semi")
    current_dates = now.groupBy("session_id").agg(F.min("event_date").alias("date")).select("date")
    return current_dates.unionByName(_moved_firsts(before, now, "session_id", "event_date"))


def customer_dates_reached(order_lines: DataFrame, previous: DataFrame, changed: DataFrame) -> DataFrame:
    """Dates (column ``date``) whose ``new_customers`` a change to ``changed`` order lines can move:
    the old and new first sale date of each changed customer whose first sale date moved."""
    customers = changed.filter(F.col("customer_id").isNotNull()).select("customer_id").distinct()

    def sales(frame: DataFrame) -> DataFrame:
        return frame.filter(F.col("is_sale")).join(customers, "customer_id", "left_semi")

    return _moved_firsts(sales(previous), sales(order_lines), "customer_id", "order_date")


def date_range(frame: DataFrame, dates: list[dt.date]) -> DataFrame:
    """``dates`` as a one-column frame ``date`` (a date spine to compute on)."""
    spark = frame.sparkSession
    return spark.createDataFrame([(day,) for day in dates], "date date")
