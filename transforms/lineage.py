"""The lineage columns every bronze row carries into silver, and the order they define.

One place for both: silver tables keep the columns, and "first" or "latest ingested" copies are
decided by the order (batch time, batch, file path, position in the file).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

LINEAGE = ("_ingest_file", "_ingest_seq", "_ingest_ts", "_ingest_batch_id")


def ingestion_order() -> list[Column]:
    """Sort keys of ingestion order: batch, then file path, then position in the file."""
    return [F.col("_ingest_ts"), F.col("_ingest_batch_id"), F.col("_ingest_file"), F.col("_ingest_seq")]
