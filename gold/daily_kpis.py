"""gold.daily_kpis — one row per UTC date: revenue, orders, AOV, units, users, sessions, conversion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from expectations import gold_daily_kpis
from gold.narrow import dates_predicate, dates_to_rebuild
from lakehouse.model import InputChanges, InputFrames, TableOutput
from transforms import narrowing
from transforms.kpis import daily_kpis

EVENTS, ORDER_LINES = "silver.events", "silver.order_lines"


def _reached(events: DataFrame, order_lines: DataFrame) -> Callable[[InputChanges], DataFrame]:
    """Dates a change reaches: the changed rows' own dates (sales, active users), changed sessions'
    dates and the first sale dates that moved (``new_customers``)."""

    def reached(changes: InputChanges) -> DataFrame:
        event_changes, line_changes = changes.changed[EVENTS], changes.changed[ORDER_LINES]
        return (
            event_changes.select(F.col("event_date").alias("date"))
            .unionByName(line_changes.select(F.col("order_date").alias("date")))
            .unionByName(narrowing.session_dates_reached(events, changes.previous[EVENTS], event_changes))
            .unionByName(narrowing.customer_dates_reached(order_lines, changes.previous[ORDER_LINES], line_changes))
        )

    return reached


def _spine_edges(current: DataFrame, events: DataFrame, order_lines: DataFrame) -> tuple[set[dt.date], list[dt.date]]:
    """Dates whose row exists or vanishes because the first/last date moved, and the new spine.

    The spine runs from the first to the last date of events and order lines: a new last date
    two days on adds a zero row for the day between, which no changed row names.
    """
    bounds = (
        events.select(F.col("event_date").alias("d"))
        .unionByName(order_lines.select(F.col("order_date").alias("d")))
        .agg(F.min("d"), F.max("d"))
        .first()
    )
    first, last = (bounds[0], bounds[1]) if bounds is not None else (None, None)
    spine = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)] if first is not None else []
    stored = {row[0] for row in current.select("date").collect()}  # one row per date: small
    return set(spine) ^ stored, spine


def build(inputs: InputFrames, changes: InputChanges | None) -> TableOutput:
    events, order_lines = inputs[EVENTS], inputs[ORDER_LINES]
    reached = dates_to_rebuild(changes, _reached(events, order_lines))
    replace_where = None
    if reached is None or changes is None:
        frame = daily_kpis(events, order_lines)
        sales = order_lines
    else:
        edges, spine = _spine_edges(changes.current, events, order_lines)
        dates = sorted(set(reached) | edges)
        in_spine = sorted(set(dates) & set(spine))
        frame = daily_kpis(
            narrowing.events_of_sessions_on(events, dates),
            narrowing.lines_of_customers_on(order_lines, dates),
            spine=narrowing.date_range(events, in_spine),
        )
        sales = narrowing.on_dates(order_lines, "order_date", in_spine)
        replace_where = dates_predicate("date", dates)
    sale_revenue = sales.filter(F.col("is_sale")).agg(F.sum("line_revenue")).first()[0]
    return TableOutput(
        data=frame.coalesce(1),
        replace_where=replace_where,
        # On an incremental run: the replaced dates' revenue equals their sale lines'.
        checks=[gold_daily_kpis.revenue_reconciles(float(sale_revenue or 0))],
    )
