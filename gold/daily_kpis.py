"""gold.daily_kpis — one row per UTC date: revenue, orders, AOV, units, users, sessions, conversion."""

from __future__ import annotations

from pyspark.sql import functions as F

from expectations import gold_daily_kpis
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from transforms.kpis import daily_kpis


def build(context: BuildContext) -> TableOutput:
    order_lines = context.read("silver.order_lines")
    frame = daily_kpis(context.read("silver.events"), order_lines)
    sale_revenue = order_lines.filter(F.col("is_sale")).agg(F.sum("line_revenue")).first()[0]
    return TableOutput(
        data=context.cache(frame.coalesce(1)),
        checks=[gold_daily_kpis.revenue_reconciles(float(sale_revenue or 0))],
    )


TABLE = TableDef(
    layer="gold",
    name="daily_kpis",
    grain="One row per UTC date.",
    build=build,
    inputs=("silver.events", "silver.order_lines"),
    keys=("date",),
    date_column="date",
    write="overwrite",
    suite=gold_daily_kpis.suite,
    description="Daily e-commerce KPIs as METRICS.md defines them.",
)
