"""gold.experiment_metrics — one row per (experiment, treatment variant, metric): the decision table.

Computed on the driver from gold.experiment_daily (a few rows per experiment and day) by
``transforms.experiment_report``: fixed-horizon and CUPED comparisons, adjusted p-values (Holm, or
Benjamini-Hochberg with ``LAKEHOUSE_EXPERIMENT_CORRECTION=bh``), always-valid p-values and
confidence sequences, MDE, guardrails, SRM and the verdict.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import types as T

from gold.driver_rows import rows_for_spark
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from transforms.experiment_report import METRIC_NUMBERS, experiment_analysis

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
        *[T.StructField(name, T.DoubleType()) for name in METRIC_NUMBERS],
        T.StructField("guardrail_ok", T.BooleanType()),
        T.StructField("srm_p_value", T.DoubleType()),
        T.StructField("verdict", T.StringType(), False),
    ]
)


def analysis(context: BuildContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics, sequential) frames of every experiment, from the pinned daily sums."""
    daily = context.read("gold.experiment_daily").toPandas()
    experiments = context.read("silver.experiments").select("experiment_id", "variants", "allocation").toPandas()
    return experiment_analysis(daily, experiments, correction=context.settings.experiment_correction)


def build(context: BuildContext) -> TableOutput:
    metrics, _sequential = analysis(context)
    frame = context.spark.createDataFrame(rows_for_spark(metrics, SCHEMA), SCHEMA)
    return TableOutput(data=context.cache(frame.coalesce(1)))
