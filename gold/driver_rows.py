"""Small results computed on the driver (pandas) handed to Spark as rows of a declared schema.

Spark's ``createDataFrame`` checks every value against the schema: numpy scalars, NaN and NaT do
not pass, so each cell becomes the plain Python value its column's type takes, and missing
values (None, NaN, NaT) become null.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
from pyspark.sql import types as T

_CONVERT = {
    T.StringType: str,
    T.IntegerType: int,
    T.LongType: int,
    T.DoubleType: float,
    T.BooleanType: bool,
    T.DateType: lambda value: value.date() if hasattr(value, "date") else value,
    T.DecimalType: lambda value: value if isinstance(value, Decimal) else Decimal(str(value)),
}


def spark_value(value: object, data_type: T.DataType) -> object:
    """A pandas cell as the plain Python value ``data_type`` accepts; None, NaN and NaT become null."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return _CONVERT[type(data_type)](value)  # type: ignore[operator]


def rows_for_spark(frame: pd.DataFrame, schema: T.StructType) -> list[tuple]:
    """Rows of ``frame`` in ``schema``'s column order with plain Python values."""
    columns = [f.name for f in schema.fields]
    return [tuple(spark_value(r[f.name], f.dataType) for f in schema.fields) for r in frame[columns].to_dict("records")]
