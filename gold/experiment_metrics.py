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
from lakehouse.model import InputFrames, TableOutput
from transforms.experiment_report import METRIC_NUMBERS, Correction, experiment_analysis

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


def analysis(inputs: InputFrames, correction: Correction = "holm") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics, sequential) frames of every experiment, from the pinned daily sums."""
    daily = inputs["gold.experiment_daily"].toPandas()
    experiments = inputs["silver.experiments"].select("experiment_id", "variants", "allocation").toPandas()
    return experiment_analysis(daily, experiments, correction=correction)


def build(inputs: InputFrames, correction: Correction) -> TableOutput:
    """The decision table; ``correction`` is the declaration's (``LAKEHOUSE_EXPERIMENT_CORRECTION``)."""
    metrics, _sequential = analysis(inputs, correction)
    frame = inputs["silver.experiments"].sparkSession.createDataFrame(rows_for_spark(metrics, SCHEMA), SCHEMA)
    return TableOutput(data=frame.coalesce(1))
