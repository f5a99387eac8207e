"""gold.experiment_daily — additive sums per (experiment, variant, metric, first-exposure date).

The decision tables (gold.experiment_metrics, gold.experiment_sequential) are computed from these
sums alone, so any date range can be analysed without re-reading silver
(see ``transforms.experiment_metrics``).
"""

from __future__ import annotations

from pyspark.sql import types as T

from lakehouse.model import InputFrames, TableOutput
from transforms.experiment_metrics import SUM_COLUMNS, daily_sums, user_metrics

SCHEMA = T.StructType(
    [
        T.StructField("experiment_id", T.StringType(), False),
        T.StructField("variant", T.StringType(), False),
        T.StructField("metric", T.StringType(), False),
        T.StructField("date", T.DateType()),
        T.StructField("n", T.LongType(), False),
        *[T.StructField(column, T.DoubleType()) for column in SUM_COLUMNS[1:]],
    ]
)


def build(inputs: InputFrames) -> TableOutput:
    users = user_metrics(
        inputs["silver.experiment_exposures"],
        inputs["silver.experiments"],
        inputs["silver.events"],
        inputs["silver.order_lines"],
    )
    return TableOutput(data=daily_sums(users).coalesce(1))
