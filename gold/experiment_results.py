"""gold.experiment_results — one row per experiment and declared variant: exposure, conversion, tests.

Counts and sums come from Spark (``transforms.experiments``); the per-variant summary has a
handful of rows, so it is collected and the statistics run on the driver with scipy
(``transforms.stats``), then the result goes back to Spark with an explicit schema.
Readings of METRICS.md are stated in those two modules: first exposure decides the variant,
converters purchase at/after it within the window, an order counts once per user, and the
comparison columns are null on the control row (the first variant).
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import types as T

from gold import driver_rows
from lakehouse.model import InputFrames, TableOutput
from transforms.experiments import exposed_user_outcomes, variant_summary
from transforms.stats import experiment_statistics

MONEY = T.DecimalType(38, 6)

SCHEMA = T.StructType(
    [
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("variant", T.StringType(), False),
        T.StructField("variant_index", T.IntegerType(), False),
        T.StructField("is_control", T.BooleanType(), False),
        T.StructField("allocation_share", T.DoubleType()),
        T.StructField("users", T.LongType(), False),
        T.StructField("converters", T.LongType(), False),
        T.StructField("conversion_rate", T.DoubleType()),
        T.StructField("revenue", MONEY, False),
        T.StructField("revenue_per_user", MONEY),
        T.StructField("srm_p_value", T.DoubleType()),
        T.StructField("abs_lift", T.DoubleType()),
        T.StructField("rel_lift", T.DoubleType()),
        T.StructField("ci_low", T.DoubleType()),
        T.StructField("ci_high", T.DoubleType()),
        T.StructField("p_value", T.DoubleType()),
        T.StructField("significant", T.BooleanType()),
        T.StructField("revenue_p_value", T.DoubleType()),
    ]
)


def rows_for_spark(results: pd.DataFrame) -> list[tuple]:
    """Result rows in SCHEMA order, ``is_control`` marking each experiment's first variant."""
    framed = results.assign(
        is_control=results["variant_index"] == results.groupby("experiment_id")["variant_index"].transform("min")
    )
    return driver_rows.rows_for_spark(framed, SCHEMA)


def build(inputs: InputFrames) -> TableOutput:
    experiments = inputs["silver.experiments"]
    outcomes = exposed_user_outcomes(
        inputs["silver.experiment_exposures"],
        experiments,
        inputs["silver.events"],
        inputs["silver.order_lines"],
    )
    summary = variant_summary(outcomes, experiments).toPandas()
    results = experiment_statistics(summary)
    frame = experiments.sparkSession.createDataFrame(rows_for_spark(results), SCHEMA)
    return TableOutput(data=frame.coalesce(1))
