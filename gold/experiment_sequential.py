"""gold.experiment_sequential — the sequential path of each mean metric: one row per look (date).

Cumulative estimate of treatment minus control over users first exposed up to ``date``, the
fixed-horizon 95% CI beside the always-valid confidence sequence and p-value (see
``transforms.experiment_report``).
"""

from __future__ import annotations

from pyspark.sql import types as T

from gold.driver_rows import rows_for_spark
from gold.experiment_metrics import analysis
from lakehouse.model import InputFrames, TableOutput
from transforms.experiment_report import SEQUENTIAL_NUMBERS

SCHEMA = T.StructType(
    [
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("variant", T.StringType(), False),
        T.StructField("metric", T.StringType(), False),
        T.StructField("date", T.DateType(), False),
        T.StructField("users", T.LongType(), False),
        *[T.StructField(name, T.DoubleType()) for name in SEQUENTIAL_NUMBERS],
    ]
)


def build(inputs: InputFrames) -> TableOutput:
    _metrics, sequential = analysis(inputs)  # the sequential path does not depend on the correction
    frame = inputs["silver.experiments"].sparkSession.createDataFrame(rows_for_spark(sequential, SCHEMA), SCHEMA)
    return TableOutput(data=frame.coalesce(1))
