"""gold.funnel_daily — one row per (session date, session device or "all", funnel step 1-4).

A session reaches step n when it has events of steps 1..n in non-decreasing time order; per
session t1 = first product_view, then the first add_to_cart, begin_checkout and purchase each
at or after the previous step (see ``transforms.funnel_daily``).
"""

from __future__ import annotations

from pyspark.sql import functions as F

from gold.narrow import dates_predicate, dates_to_rebuild
from lakehouse.model import InputChanges, InputFrames, TableOutput
from transforms import narrowing
from transforms.funnel_daily import funnel_daily

EVENTS = "silver.events"


def build(inputs: InputFrames, changes: InputChanges | None) -> TableOutput:
    events = inputs[EVENTS]
    dates = dates_to_rebuild(
        changes, lambda c: narrowing.session_dates_reached(events, c.previous[EVENTS], c.changed[EVENTS])
    )
    if dates is None:
        return TableOutput(data=funnel_daily(events).coalesce(1))
    # Sessions dated on the reached dates, each whole: their funnel rows are exact.
    frame = funnel_daily(narrowing.events_of_sessions_on(events, dates)).filter(F.col("session_date").isin(dates))
    return TableOutput(data=frame.coalesce(1), replace_where=dates_predicate("session_date", dates))
