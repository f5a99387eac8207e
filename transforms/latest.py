"""Keep the latest ingested row per key: the rule of every silver table fed by re-sent reference data.

Products, stock snapshots and the experiment catalogue are re-exported whole; the
contract says a later export overrides an earlier one, so within one batch the
row latest in ingestion order wins, and across batches the MERGE condition below
lets a stored row be replaced only by a row ingested after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from transforms import conditions
from transforms.lineage import ingestion_order

# MERGE update condition (s = incoming, t = stored): only a later-ingested copy replaces the stored one.
LATER_INGESTED_WINS = conditions.LATER_INGESTED_WINS


def latest_per_key(rows: DataFrame, keys: Sequence[str]) -> DataFrame:
    """One row per ``keys``: the one latest in ingestion order (batch, then file path, then position)."""
    order = Window.partitionBy(*keys).orderBy(*[c.desc() for c in ingestion_order()])
    return rows.withColumn("_copy", F.row_number().over(order)).filter("_copy = 1").drop("_copy")
