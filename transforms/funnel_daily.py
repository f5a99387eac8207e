"""Gold funnel_daily (METRICS.md ``funnel_daily``).

Grain: one row per (``session_date``, ``device``, ``step``), for every session date and
session device (transforms.sessions) plus device ``all``, steps 1-4: product_view ->
add_to_cart -> begin_checkout -> purchase.

A session reaches step n when it has events of steps 1..n in non-decreasing time order
(ties allowed), computed greedily per session: t1 = first product_view; t2 = first
add_to_cart at or after t1; t3 = first begin_checkout at or after t2; t4 = first purchase
at or after t3. Taking the earliest qualifying event at each step is optimal, so this finds
an ordered chain whenever one exists. Every (date, device) with sessions gets all four
steps, 0 included; ``step_conversion`` is null on step 1 and wherever the previous step
has 0 sessions, ``overall_conversion`` null when step 1 has 0.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from transforms.sessions import sessions

STEPS = ("product_view", "add_to_cart", "begin_checkout", "purchase")
ALL_DEVICES = "all"


def _times(event_type: str) -> Column:
    return F.collect_list(F.when(F.col("event_type") == event_type, F.col("event_ts")))


def _first_at_or_after(times: Column, after: Column) -> Column:
    return F.array_min(F.filter(times, lambda ts: ts >= after))


def session_steps(events: DataFrame) -> DataFrame:
    """One row per session: ``t1``..``t4``, the instant each step was reached (null when not reached)."""
    collected = (
        events.filter(F.col("session_id").isNotNull() & F.col("event_type").isin(*STEPS))
        .groupBy("session_id")
        .agg(
            F.min(F.when(F.col("event_type") == STEPS[0], F.col("event_ts"))).alias("t1"),
            *[_times(step).alias(f"times{n}") for n, step in enumerate(STEPS[1:], start=2)],
        )
    )
    reached = collected
    for n in range(2, len(STEPS) + 1):
        reached = reached.withColumn(f"t{n}", _first_at_or_after(F.col(f"times{n}"), F.col(f"t{n - 1}")))
    return reached.select("session_id", *[f"t{n}" for n in range(1, len(STEPS) + 1)])


def funnel_daily(events: DataFrame) -> DataFrame:
    steps = (
        sessions(events)
        .select("session_id", "session_date", "device")
        .join(session_steps(events), "session_id", "left")
    )
    counts = [F.count(f"t{n}").alias(f"reached{n}") for n in range(1, len(STEPS) + 1)]
    by_device = steps.groupBy("session_date", "device").agg(*counts)
    overall = steps.groupBy("session_date").agg(*counts).withColumn("device", F.lit(ALL_DEVICES))
    totals = by_device.unionByName(overall)
    per_step = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(n).alias("step"),
                    F.lit(name).alias("step_name"),
                    F.col(f"reached{n}").alias("reached"),
                    F.col(f"reached{max(n - 1, 1)}").alias("previous"),
                )
                for n, name in enumerate(STEPS, start=1)
            ]
        )
    ).alias("s")
    long = totals.select("session_date", "device", F.col("reached1").alias("first"), per_step)
    reached = F.col("s.reached").cast("long")
    return long.select(
        "session_date",
        "device",
        F.col("s.step").cast("int").alias("step"),
        F.col("s.step_name").alias("step_name"),
        reached.alias("sessions_reached"),
        F.when((F.col("s.step") > 1) & (F.col("s.previous") > 0), reached / F.col("s.previous")).alias(
            "step_conversion"
        ),
        F.when(F.col("first") > 0, reached / F.col("first")).alias("overall_conversion"),
    )
