"""gold.funnel_daily — one row per (session date, session device or "all", funnel step 1-4).

A session reaches step n when it has events of steps 1..n in non-decreasing time order; per
session t1 = first product_view, then the first add_to_cart, begin_checkout and purchase each
at or after the previous step (see ``transforms.funnel_daily``).
"""

from __future__ import annotations

from expectations import gold_funnel_daily
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from transforms.funnel_daily import funnel_daily


def build(context: BuildContext) -> TableOutput:
    frame = funnel_daily(context.read("silver.events"))
    return TableOutput(data=context.cache(frame.coalesce(1)))


TABLE = TableDef(
    layer="gold",
    name="funnel_daily",
    grain="One row per (session_date, device, step).",
    build=build,
    inputs=("silver.events",),
    date_column="session_date",
    keys=("session_date", "device", "step"),
    write="overwrite",
    suite=gold_funnel_daily.suite,
    description="Sessions reaching each funnel step, step-to-step and overall conversion, per day and device.",
)
