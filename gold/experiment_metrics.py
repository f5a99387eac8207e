"""gold.experiment_metrics — one row per (experiment, treatment variant, metric): the decision table.

Computed on the driver from gold.experiment_daily (a few rows per experiment and day) by
``transforms.experiment_report``: fixed-horizon and CUPED comparisons, Holm-adjusted p-values,
always-valid p-values and confidence sequences, MDE, guardrails, SRM and the verdict.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
from pyspark.sql import types as T

from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from transforms.experiment_report import experiment_analysis

SCHEMA = T.StructType(
    [
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("variant", T.StringType(), False),
        T.StructField("metric", T.StringType(), False),
        T.StructField("role", T.StringType(), False),
        T.StructField("kind", T.StringType(), False),
        T.StructField("higher_is_better", T.BooleanType(), False),
        T.StructField("control_users", T.LongType(), False),
        T.StructField("users", T.LongType(), False),
        *[
            T.StructField(name, T.DoubleType())
            for name in (
                "control_value",
                "value",
                "difference",
                "rel_lift",
                "ci_low",
                "ci_high",
                "p_value",
                "adjusted_p_value",
                "cuped_difference",
                "cuped_ci_low",
                "cuped_ci_high",
                "cuped_p_value",
                "variance_reduction",
                "always_valid_p_value",
                "cs_low",
                "cs_high",
                "mde",
                "margin",
            )
        ],
        T.StructField("guardrail_ok", T.BooleanType()),
        T.StructField("srm_p_value", T.DoubleType()),
        T.StructField("verdict", T.StringType(), False),
    ]
)

_CONVERT = {
    T.StringType: str,
    T.IntegerType: int,
    T.LongType: int,
    T.DoubleType: float,
    T.BooleanType: bool,
    T.DateType: lambda value: value.date() if hasattr(value, "date") else value,
    T.DecimalType: lambda value: value if isinstance(value, Decimal) else Decimal(str(value)),
}


def _value(value: object, data_type: T.DataType) -> object:
    """A pandas cell as the plain Python value ``data_type`` accepts; NaN, NaT and None become null."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return _CONVERT[type(data_type)](value)  # type: ignore[operator]


def rows_for_spark(frame: pd.DataFrame, schema: T.StructType) -> list[tuple]:
    """Rows of ``frame`` in ``schema`` order with plain Python values (numpy scalars and NaN do not pass Spark)."""
    columns = [f.name for f in schema.fields]
    return [tuple(_value(r[f.name], f.dataType) for f in schema.fields) for r in frame[columns].to_dict("records")]


def analysis(context: BuildContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics, sequential) frames of every experiment, from the pinned daily sums."""
    daily = context.read("gold.experiment_daily").toPandas()
    experiments = context.read("silver.experiments").select("experiment_id", "variants", "allocation").toPandas()
    return experiment_analysis(daily, experiments)


def build(context: BuildContext) -> TableOutput:
    metrics, _sequential = analysis(context)
    frame = context.spark.createDataFrame(rows_for_spark(metrics, SCHEMA), SCHEMA)
    return TableOutput(data=context.cache(frame.coalesce(1)))
