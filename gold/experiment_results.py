"""gold.experiment_results — one row per experiment and declared variant: exposure, conversion, tests.

Counts and sums come from Spark (``transforms.experiments``); the per-variant summary has a
handful of rows, so it is collected and the statistics run on the driver with scipy
(``transforms.stats``), then the result goes back to Spark with an explicit schema.
Readings of METRICS.md are stated in those two modules: first exposure decides the variant,
converters purchase at/after it within the window, an order counts once per user, and the
comparison columns are null on the control row (the first variant).
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
from pyspark.sql import types as T

from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
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

_CONVERT = {
    T.StringType: str,
    T.IntegerType: int,
    T.LongType: int,
    T.DoubleType: float,
    T.BooleanType: bool,
    T.DecimalType: lambda value: value if isinstance(value, Decimal) else Decimal(str(value)),
}


def _value(value: object, data_type: T.DataType) -> object:
    """A pandas cell as the plain Python value ``data_type`` accepts; NaN and None become null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return _CONVERT[type(data_type)](value)  # type: ignore[operator]


def rows_for_spark(results: pd.DataFrame) -> list[tuple]:
    """Result rows in SCHEMA order with plain Python values (numpy scalars and NaN do not pass Spark's checks)."""
    columns = [f.name for f in SCHEMA.fields]
    framed = results.assign(
        is_control=results["variant_index"] == results.groupby("experiment_id")["variant_index"].transform("min")
    )
    return [
        tuple(_value(record[f.name], f.dataType) for f in SCHEMA.fields)
        for record in framed[columns].to_dict("records")
    ]


def build(context: BuildContext) -> TableOutput:
    experiments = context.read("silver.experiments")
    outcomes = exposed_user_outcomes(
        context.read("silver.experiment_exposures"),
        experiments,
        context.read("silver.events"),
        context.read("silver.order_lines"),
    )
    summary = variant_summary(outcomes, experiments).toPandas()
    results = experiment_statistics(summary)
    frame = context.spark.createDataFrame(rows_for_spark(results), SCHEMA)
    return TableOutput(data=context.cache(frame.coalesce(1)))
