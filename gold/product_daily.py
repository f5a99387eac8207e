"""gold.product_daily — one row per (product_id, UTC date) with a view, an add-to-cart or a sale.

Readings of METRICS.md are stated in ``transforms.product_daily``: views and add-to-carts by
``event_date``, units and revenue of sale lines by ``order_date``, and ``sales_spike`` against
the mean of the 7 previous calendar dates (dates without sales count 0) through a range window
over day numbers.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from gold.narrow import dates_predicate, dates_to_rebuild
from lakehouse.model import InputChanges, InputFrames, TableOutput
from transforms import narrowing
from transforms.product_daily import SPIKE_LOOKBACK_DAYS, product_daily

EVENTS, ORDER_LINES = "silver.events", "silver.order_lines"


def _changed_dates(changes: InputChanges) -> DataFrame:
    """The changed rows' own dates (a product's row per date sums that date's events and lines)."""
    return (
        changes.changed[EVENTS]
        .select(F.col("event_date").alias("date"))
        .unionByName(changes.changed[ORDER_LINES].select(F.col("order_date").alias("date")))
    )


def build(inputs: InputFrames, changes: InputChanges | None) -> TableOutput:
    events, order_lines = inputs[EVENTS], inputs[ORDER_LINES]
    changed = dates_to_rebuild(changes, _changed_dates)
    if changed is None:
        return TableOutput(data=product_daily(events, order_lines))
    # A day's sales reach the spike flag of the 7 days after it, whose baselines read 7 days back.
    dates = narrowing.widened(changed, after=SPIKE_LOOKBACK_DAYS)
    frame = product_daily(
        narrowing.on_dates(events, "event_date", dates),
        narrowing.on_dates(order_lines, "order_date", narrowing.widened(dates, before=SPIKE_LOOKBACK_DAYS)),
    ).filter(F.col("date").isin(dates))
    return TableOutput(data=frame, replace_where=dates_predicate("date", dates))
