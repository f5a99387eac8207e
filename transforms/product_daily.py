"""Gold product_daily (METRICS.md ``product_daily``).

Grain: one row per (``product_id``, ``date``) on which the product had a ``product_view``
event, an ``add_to_cart`` event or a sale line; every date is a UTC date (``event_date``
for events, ``order_date`` for sale lines).

Readings: ``views``/``add_to_carts`` count events of that type naming the product; events and
lines without a ``product_id`` belong to no product. ``sales_spike`` compares ``units_sold``
with the mean over the 7 calendar dates before (d-7..d-1), dates without sales counting 0:
because every date with a sale has a row, a range window over day numbers sums exactly the
sales of those 7 dates, with no dense product x date grid. It is evaluated in exact decimals:
units > 1.5 x sum/7 <=> 14 x units > 3 x sum, and mean >= 1 <=> sum >= 7.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from transforms.kpis import MONEY

UNITS = "decimal(38,4)"
LINE_MONEY = "decimal(38,8)"
SPIKE_LOOKBACK_DAYS = 7


def _zero(type_name: str) -> Column:
    return F.lit(0).cast(type_name)


def product_daily(events: DataFrame, order_lines: DataFrame) -> DataFrame:
    product_events = (
        events.filter(F.col("product_id").isNotNull())
        .select(
            "product_id",
            F.col("event_date").alias("date"),
            (F.col("event_type") == "product_view").cast("long").alias("views"),
            (F.col("event_type") == "add_to_cart").cast("long").alias("add_to_carts"),
            _zero(UNITS).alias("units_sold"),
            _zero(LINE_MONEY).alias("revenue"),
        )
        .filter((F.col("views") + F.col("add_to_carts")) > 0)
    )
    sale_lines = order_lines.filter(F.col("is_sale") & F.col("product_id").isNotNull()).select(
        "product_id",
        F.col("order_date").alias("date"),
        F.lit(0).cast("long").alias("views"),
        F.lit(0).cast("long").alias("add_to_carts"),
        F.col("quantity").cast(UNITS).alias("units_sold"),
        F.col("line_revenue").cast(LINE_MONEY).alias("revenue"),
    )
    daily = (
        product_events.unionByName(sale_lines)
        .groupBy("product_id", "date")
        .agg(
            F.sum("views").alias("views"),
            F.sum("add_to_carts").alias("add_to_carts"),
            F.sum("units_sold").cast(UNITS).alias("units_sold"),
            F.sum("revenue").cast(MONEY).alias("revenue"),
        )
    )
    previous_week = Window.partitionBy("product_id").orderBy(F.unix_date("date")).rangeBetween(-SPIKE_LOOKBACK_DAYS, -1)
    baseline = F.coalesce(F.sum("units_sold").over(previous_week), _zero(UNITS))
    spike = (F.col("units_sold") * (2 * SPIKE_LOOKBACK_DAYS) > baseline * 3) & (baseline >= SPIKE_LOOKBACK_DAYS)
    return daily.select(
        "date",
        "product_id",
        F.col("views").cast("long").alias("views"),
        F.col("add_to_carts").cast("long").alias("add_to_carts"),
        "units_sold",
        "revenue",
        F.when(F.col("views") > 0, F.col("units_sold").cast("double") / F.col("views")).alias("view_to_purchase_rate"),
        spike.alias("sales_spike"),
    )
