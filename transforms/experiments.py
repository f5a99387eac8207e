"""Experiments: the silver catalogue, who was exposed to what, and the per-variant sums behind the stats.

Three steps, each a pure DataFrame function:

- ``typed_experiments`` / ``experiment_rules`` / ``to_silver_experiments``: the catalogue
  (one row per ``experiment_id``; ``variants`` is a JSON list whose first entry is the
  control, ``allocation`` a JSON object variant -> share).
- ``experiment_exposures``: one row per (``user_id``, ``experiment_id``). An exposure is an
  event whose ``experiments`` map carries the experiment and whose UTC date lies in the
  window ``start_date``..``end_date`` (inclusive); the user's variant is the one of the
  first exposure (by ``event_ts``, then ingestion order), because a user re-bucketed later
  (a cookie reset) must not count twice.
- ``exposed_user_outcomes`` and ``variant_summary``: per exposed user whether they converted
  and their revenue, then counts, sums, mean and sample standard deviation per variant.
  The statistics themselves (``transforms.stats``) run on that tiny table on the driver.

Readings of METRICS.md ``experiment_results``: a converter has a ``purchase`` event at or after
their first exposure whose UTC date is in the window (the purchase need not carry the
experiment); their revenue is the sale lines, with ``order_date`` in the window, of the
distinct orders those purchase events name (an order counted once per user however many
purchase events carry it; guest orders count, since the user is known from the event).
An event carrying the experiment with a null variant is no exposure (it cannot be attributed).
Every declared variant gets a row, also with no users.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.lineage import LINEAGE
from transforms.parsing import clean_identifier, parse_date
from transforms.rules import RowRule, metadata_columns

MONEY = "decimal(38,6)"
LINE_MONEY = "decimal(38,8)"

SILVER_EXPERIMENTS_SCHEMA = T.StructType(
    [
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("name", T.StringType()),
        T.StructField("variants", T.ArrayType(T.StringType()), False),
        T.StructField("allocation", T.MapType(T.StringType(), T.DoubleType()), False),
        T.StructField("start_date", T.DateType(), False),
        T.StructField("end_date", T.DateType(), False),
        T.StructField("_ingest_file", T.StringType()),
        T.StructField("_ingest_seq", T.LongType()),
        T.StructField("_ingest_ts", T.TimestampType()),
        T.StructField("_ingest_batch_id", T.StringType()),
    ]
)

EXPOSURES_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("variant", T.StringType(), False),
        T.StructField("first_exposure_ts", T.TimestampType(), False),
        T.StructField("first_exposure_date", T.DateType(), False),
        T.StructField("variants_seen", T.LongType(), False),
    ]
)


# --- silver.experiments -------------------------------------------------------------------------


def typed_experiments(bronze: DataFrame) -> DataFrame:
    """Bronze strings -> contract types; JSON that does not parse as the declared type becomes null."""
    return bronze.select(
        clean_identifier(F.col("experiment_id")).alias("experiment_id"),
        clean_identifier(F.col("name")).alias("name"),
        F.from_json(F.col("variants"), T.ArrayType(T.StringType())).alias("variants"),
        # pyspark annotates from_json's schema without MapType, which it accepts (and documents) all the same.
        F.from_json(F.col("allocation"), T.MapType(T.StringType(), T.DoubleType())).alias("allocation"),  # type: ignore[arg-type]
        parse_date(F.col("start_date")).alias("start_date"),
        parse_date(F.col("end_date")).alias("end_date"),
        *metadata_columns(bronze),
    )


def _allocation_mismatch() -> Column:
    """Allocation keys differ from the variants (as sets, duplicates included) or shares are unusable."""
    allocation = F.col("allocation")
    keys_differ = F.array_sort(F.map_keys(allocation)) != F.array_sort(F.col("variants"))
    shares = F.map_values(allocation)
    bad_share = F.exists(shares, lambda share: share.isNull() | (share < 0) | F.isnan(share))
    no_total = F.aggregate(shares, F.lit(0.0), lambda total, share: total + share) <= 0
    return allocation.isNull() | keys_differ | bad_share | no_total


def experiment_rules() -> list[RowRule]:
    """Quarantine rules, in the order a reason is reported."""
    return [
        RowRule(
            "unreadable_record",
            F.col("_corrupt_record").isNotNull(),
            "the experiments document is not valid JSON objects",
        ),
        RowRule("missing_experiment_id", F.col("experiment_id").isNull(), "experiment_id is missing or empty"),
        RowRule(
            "unparseable_start_date", F.col("start_date").isNull(), "start_date is missing or not an ISO-8601 date"
        ),
        RowRule("unparseable_end_date", F.col("end_date").isNull(), "end_date is missing or not an ISO-8601 date"),
        RowRule(
            "no_variants",
            F.col("variants").isNull() | (F.size(F.col("variants")) == 0),
            "variants is missing, not a JSON list of names, or empty",
        ),
        RowRule(
            "allocation_mismatch",
            _allocation_mismatch(),
            "allocation keys do not match the variants, or a share is missing, negative or all are 0",
        ),
    ]


def to_silver_experiments(valid: DataFrame) -> DataFrame:
    return valid.select("experiment_id", "name", "variants", "allocation", "start_date", "end_date", *LINEAGE)


# --- silver.experiment_exposures ----------------------------------------------------------------


def exposure_events(events: DataFrame, experiments: DataFrame) -> DataFrame:
    """One row per (event, experiment) exposure: the event carries the experiment and falls in its window."""
    first = F.struct("event_ts", "_ingest_ts", "_ingest_batch_id", "_ingest_file", "_ingest_seq", "event_id")
    carried = events.select(
        "user_id",
        "event_ts",
        "event_date",
        first.alias("_order"),
        F.explode("experiments").alias("experiment_id", "variant"),
    ).filter(F.col("variant").isNotNull())
    windows = F.broadcast(experiments.select("experiment_id", "start_date", "end_date"))
    return (
        carried.join(windows, "experiment_id")
        .filter(F.col("event_date").between(F.col("start_date"), F.col("end_date")))
        .select("user_id", "experiment_id", "variant", "event_ts", "_order")
    )


EXPOSURE_EVENTS = "_exposure_events"


def first_exposures_counted(exposures: DataFrame) -> DataFrame:
    """:func:`first_exposures` plus ``_exposure_events``, the exposure events each row collapsed.

    The counts come from the same aggregation, so a build can account for every exposure event
    (rows in = their sum, rows out = the rows) without a second pass over the events.
    """
    return (
        exposures.groupBy("user_id", "experiment_id")
        .agg(
            F.min_by("variant", "_order").alias("variant"),
            F.min("event_ts").alias("first_exposure_ts"),
            F.count_distinct("variant").alias("variants_seen"),
            F.count(F.lit(1)).alias(EXPOSURE_EVENTS),
        )
        .select(
            "user_id",
            "experiment_id",
            "variant",
            "first_exposure_ts",
            F.to_date("first_exposure_ts").alias("first_exposure_date"),
            "variants_seen",
            EXPOSURE_EVENTS,
        )
    )


def first_exposures(exposures: DataFrame) -> DataFrame:
    """Collapse exposure events to one row per (user_id, experiment_id): the first one decides the variant."""
    return first_exposures_counted(exposures).drop(EXPOSURE_EVENTS)


def experiment_exposures(events: DataFrame, experiments: DataFrame) -> DataFrame:
    """One row per (user_id, experiment_id): the variant and instant of the first in-window exposure."""
    return first_exposures(exposure_events(events, experiments))


# --- gold.experiment_results (the Spark part) ---------------------------------------------------


def exposed_user_outcomes(
    exposures: DataFrame, experiments: DataFrame, events: DataFrame, order_lines: DataFrame
) -> DataFrame:
    """One row per exposed (experiment_id, user_id): variant, ``converted`` and ``revenue`` (0 when none)."""
    windows = F.broadcast(experiments.select("experiment_id", "start_date", "end_date"))
    purchases = events.filter(F.col("event_type") == "purchase").select(
        "user_id", F.col("event_ts").alias("purchase_ts"), F.col("event_date").alias("purchase_date"), "order_id"
    )
    qualifying = (
        exposures.join(windows, "experiment_id")
        .join(purchases, "user_id")
        .filter(
            (F.col("purchase_ts") >= F.col("first_exposure_ts"))
            & F.col("purchase_date").between(F.col("start_date"), F.col("end_date"))
        )
    )
    converted = qualifying.select("experiment_id", "user_id").distinct().withColumn("converted", F.lit(True))
    orders = (
        qualifying.filter(F.col("order_id").isNotNull())
        .select("experiment_id", "user_id", "order_id", "start_date", "end_date")
        .distinct()
    )
    sales = order_lines.filter(F.col("is_sale")).select("order_id", "order_date", "line_revenue")
    revenue = (
        orders.join(sales, "order_id")
        .filter(F.col("order_date").between(F.col("start_date"), F.col("end_date")))
        .groupBy("experiment_id", "user_id")
        .agg(F.sum("line_revenue").alias("revenue"))
    )
    keys = ["experiment_id", "user_id"]
    return (
        exposures.select("experiment_id", "variant", "user_id")
        .join(converted, keys, "left")
        .join(revenue, keys, "left")
        .select(
            "experiment_id",
            "variant",
            "user_id",
            F.coalesce(F.col("converted"), F.lit(False)).alias("converted"),
            F.coalesce(F.col("revenue"), F.lit(0)).cast(LINE_MONEY).alias("revenue"),
        )
    )


def variant_summary(outcomes: DataFrame, experiments: DataFrame) -> DataFrame:
    """One row per experiment and declared variant: the counts, sums and moments the statistics need.

    ``variant_index`` 0 is the control; ``revenue_mean``/``revenue_std`` (sample, ddof=1) are over
    every exposed user, users without revenue counting 0.
    """
    declared = experiments.select(
        "experiment_id", "allocation", F.posexplode("variants").alias("variant_index", "variant")
    ).select(
        "experiment_id",
        "variant_index",
        "variant",
        F.try_element_at("allocation", F.col("variant")).alias("allocation_share"),
    )
    revenue = F.col("revenue").cast("double")
    per_variant = outcomes.groupBy("experiment_id", "variant").agg(
        F.count(F.lit(1)).alias("users"),
        F.count_if("converted").alias("converters"),
        F.sum("revenue").alias("revenue"),
        F.avg(revenue).alias("revenue_mean"),
        F.stddev_samp(revenue).alias("revenue_std"),
    )
    users = F.coalesce(F.col("users"), F.lit(0)).cast("long")
    revenue_total = F.coalesce(F.col("revenue"), F.lit(0)).cast(MONEY)
    return (
        declared.join(per_variant, ["experiment_id", "variant"], "left")
        .select(
            "experiment_id",
            F.col("variant_index").cast("int").alias("variant_index"),
            "variant",
            "allocation_share",
            users.alias("users"),
            F.coalesce(F.col("converters"), F.lit(0)).cast("long").alias("converters"),
            F.when(users > 0, F.col("converters") / users).alias("conversion_rate"),
            revenue_total.alias("revenue"),
            F.when(users > 0, (revenue_total / users).cast(MONEY)).alias("revenue_per_user"),
            "revenue_mean",
            "revenue_std",
        )
        .orderBy("experiment_id", "variant_index")
    )
