"""Experiment metrics per exposed user, and their additive daily sums (``gold.experiment_daily``).

The metrics an experiment is judged on are declared once, in :data:`METRICS`: name, role (goal,
secondary or guardrail), kind (a per-user mean, or a ratio of two per-user sums analysed with the
delta method), the per-user columns they read, the good direction and, for a guardrail, the
non-inferiority margin. The Spark side here computes those per-user columns and sums them by
experiment, variant, metric and first-exposure date; the statistics
(``transforms.experiment_analysis``) run on the sums, so any date range can be analysed without
re-reading silver.

Per exposed user (``first_exposures`` of silver.experiment_exposures), with the experiment's
window [start_date, end_date] (UTC dates) and the first exposure instant ``t0``:

- after exposure (events at or after ``t0`` whose date is in the window, as METRICS.md's
  experiment_results): ``converted`` (1 when a purchase event, else 0), ``orders`` (distinct
  orders of those purchases with a sale line dated in the window), ``revenue`` (those lines'
  revenue; an order carried by several purchase events counts once), ``page_views`` (page_view
  events) and ``sessions`` (distinct session ids);
- before exposure, the CUPED covariates: the same converted / orders / revenue over the 7 days
  before ``t0`` (events in [t0 - 7 days, t0); the lines of those orders, whatever their date).

Sums per (experiment_id, variant, metric, date = first exposure date): ``n`` users, ``sum_y``,
``sum_y2`` of the metric's numerator y, for a ratio metric also ``sum_d``, ``sum_d2``, ``sum_yd``
of its denominator d, and for a metric with a covariate x ``sum_x``, ``sum_x2``, ``sum_xy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

PRE_PERIOD_DAYS = 7
# Per-user values and their sums are exact decimals (revenue has 8 places), cast to double only
# once summed: the same data gives the same bits whatever the partitioning, so an incremental run
# equals a full refresh exactly.
VALUE_TYPE = "decimal(38,8)"
SUM_TYPE = "double"

Role = Literal["goal", "secondary", "guardrail"]


@dataclass(frozen=True)
class ExperimentMetric:
    """One metric of every experiment: what it reads per user and how a result is judged."""

    name: str
    role: Role
    # The per-user column of the numerator; a ratio metric divides the sum of ``numerator`` by the
    # sum of ``denominator`` (e.g. AOV = revenue / orders), a mean metric averages ``numerator``.
    numerator: str
    denominator: str | None = None
    # The per-user pre-exposure column used as CUPED covariate (mean metrics only).
    covariate: str | None = None
    higher_is_better: bool = True
    # Guardrails: how much worse (in the units of the difference) a variant may be.
    margin: float | None = None
    # How a difference is shown: a rate x100 in percentage points, money as is.
    scale: float = 1.0
    unit: str = ""
    description: str = ""

    @property
    def kind(self) -> Literal["mean", "ratio"]:
        return "ratio" if self.denominator is not None else "mean"


METRICS: tuple[ExperimentMetric, ...] = (
    ExperimentMetric(
        "conversion",
        "goal",
        "converted",
        covariate="converted_pre",
        scale=100.0,
        unit="pp",
        description="Share of exposed users with a purchase after exposure.",
    ),
    ExperimentMetric(
        "revenue_per_user",
        "secondary",
        "revenue",
        covariate="revenue_pre",
        description="Revenue of post-exposure orders per exposed user (0 without one).",
    ),
    ExperimentMetric(
        "orders_per_user",
        "secondary",
        "orders",
        covariate="orders_pre",
        description="Post-exposure orders per exposed user.",
    ),
    ExperimentMetric(
        "aov",
        "secondary",
        "revenue",
        denominator="orders",
        description="Average order value: revenue / orders of exposed users (delta method).",
    ),
    ExperimentMetric(
        "page_views_per_session",
        "guardrail",
        "page_views",
        denominator="sessions",
        margin=0.25,
        description="Page views per post-exposure session; may not fall by more than 0.25.",
    ),
)

USER_COLUMNS = (
    "converted",
    "orders",
    "revenue",
    "page_views",
    "sessions",
    "converted_pre",
    "orders_pre",
    "revenue_pre",
)
SUM_COLUMNS = ("n", "sum_y", "sum_y2", "sum_d", "sum_d2", "sum_yd", "sum_x", "sum_x2", "sum_xy")


def metric(name: str) -> ExperimentMetric:
    """The declared metric called ``name``."""
    for declared in METRICS:
        if declared.name == name:
            return declared
    raise KeyError(f"no experiment metric {name!r}; declared: {', '.join(m.name for m in METRICS)}")


def user_metrics(exposures: DataFrame, experiments: DataFrame, events: DataFrame, order_lines: DataFrame) -> DataFrame:
    """One row per exposed (experiment_id, user_id): variant, first exposure date and :data:`USER_COLUMNS`."""
    windows = F.broadcast(experiments.select("experiment_id", "start_date", "end_date"))
    exposed = exposures.select("experiment_id", "variant", "user_id", "first_exposure_ts", "first_exposure_date").join(
        windows, "experiment_id"
    )
    activity = events.select("user_id", "event_ts", "event_date", "event_type", "session_id", "order_id")
    joined = exposed.join(activity, "user_id")
    t0 = F.col("first_exposure_ts")
    after = (F.col("event_ts") >= t0) & F.col("event_date").between(F.col("start_date"), F.col("end_date"))
    before = (F.col("event_ts") < t0) & (F.col("event_ts") >= t0 - F.expr(f"INTERVAL {PRE_PERIOD_DAYS} DAYS"))
    purchase = F.col("event_type") == "purchase"
    keys = ["experiment_id", "user_id"]
    per_user_events = joined.groupBy(*keys).agg(
        F.max(F.when(after & purchase, 1).otherwise(0)).alias("converted"),
        F.max(F.when(before & purchase, 1).otherwise(0)).alias("converted_pre"),
        F.count_if(after & (F.col("event_type") == "page_view")).alias("page_views"),
        F.count_distinct(F.when(after, F.col("session_id"))).alias("sessions"),
    )
    period = F.when(after, F.lit("after")).when(before, F.lit("before"))
    purchased = (
        joined.filter(purchase & F.col("order_id").isNotNull())
        .select(*keys, "order_id", "start_date", "end_date", period.alias("period"))
        .filter(F.col("period").isNotNull())
        .distinct()
    )
    sales = order_lines.filter(F.col("is_sale")).select("order_id", "order_date", "line_revenue")
    in_window = F.col("order_date").between(F.col("start_date"), F.col("end_date"))
    order_revenue = (
        purchased.join(sales, "order_id")
        .filter((F.col("period") == "before") | in_window)
        .groupBy(*keys, "period", "order_id")
        .agg(F.sum("line_revenue").alias("order_revenue"))
    )
    is_after = F.col("period") == "after"
    per_user_orders = order_revenue.groupBy(*keys).agg(
        F.count_if(is_after).alias("orders"),
        F.sum(F.when(is_after, F.col("order_revenue"))).alias("revenue"),
        F.count_if(~is_after).alias("orders_pre"),
        F.sum(F.when(~is_after, F.col("order_revenue"))).alias("revenue_pre"),
    )

    def number(column: str) -> Column:
        return F.coalesce(F.col(column), F.lit(0)).cast(VALUE_TYPE).alias(column)

    return (
        exposed.select(*keys, "variant", "first_exposure_date")
        .join(per_user_events, keys, "left")
        .join(per_user_orders, keys, "left")
        .select(*keys, "variant", F.col("first_exposure_date").alias("date"), *[number(c) for c in USER_COLUMNS])
    )


def daily_sums(users: DataFrame) -> DataFrame:
    """``gold.experiment_daily``: the additive sums of every :data:`METRICS` entry per experiment, variant and date."""

    def sums(declared: ExperimentMetric) -> list[Column]:
        y = F.col(declared.numerator)
        d = F.col(declared.denominator) if declared.denominator else None
        x = F.col(declared.covariate) if declared.covariate else None

        def total(value: Column | None, name: str) -> Column:
            summed = F.sum(value).cast(SUM_TYPE) if value is not None else F.lit(None).cast(SUM_TYPE)
            return summed.alias(f"{declared.name}__{name}")

        return [
            total(y, "sum_y"),
            total(y * y, "sum_y2"),
            total(d, "sum_d"),
            total(d * d if d is not None else None, "sum_d2"),
            total(y * d if d is not None else None, "sum_yd"),
            total(x, "sum_x"),
            total(x * x if x is not None else None, "sum_x2"),
            total(x * y if x is not None else None, "sum_xy"),
        ]

    wide = users.groupBy("experiment_id", "variant", "date").agg(
        F.count(F.lit(1)).alias("n"), *[column for declared in METRICS for column in sums(declared)]
    )
    long = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(declared.name).alias("metric"),
                    *[F.col(f"{declared.name}__{column}").alias(column) for column in SUM_COLUMNS[1:]],
                )
                for declared in METRICS
            ]
        )
    ).alias("m")
    return wide.select("experiment_id", "variant", "date", "n", long).select(
        "experiment_id", "variant", "m.metric", "date", "n", *[f"m.{column}" for column in SUM_COLUMNS[1:]]
    )
