"""gold.product_daily — one row per (product_id, UTC date) with a view, an add-to-cart or a sale.

Readings of METRICS.md are stated in ``transforms.product_daily``: views and add-to-carts by
``event_date``, units and revenue of sale lines by ``order_date``, and ``sales_spike`` against
the mean of the 7 previous calendar dates (dates without sales count 0) through a range window
over day numbers.
"""

from __future__ import annotations

from expectations import gold_product_daily
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from transforms.product_daily import product_daily


def build(context: BuildContext) -> TableOutput:
    frame = product_daily(context.read("silver.events"), context.read("silver.order_lines"))
    return TableOutput(data=context.cache(frame))


TABLE = TableDef(
    layer="gold",
    name="product_daily",
    grain="One row per (product_id, date) with a view, an add-to-cart or a sale.",
    build=build,
    inputs=("silver.events", "silver.order_lines"),
    keys=("product_id", "date"),
    date_column="date",
    write="overwrite",
    suite=gold_product_daily.suite,
    description="Daily product views, add-to-carts, units, revenue, view-to-purchase rate and sales spikes.",
)
