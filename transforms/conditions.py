"""MERGE update conditions (s = incoming row, t = stored row): which copy of a key a silver table keeps.

Plain SQL text with no Spark import, so the table declarations (``silver/tables.py``) can name
them without loading pyspark; the transforms that de-duplicate a batch follow the same order.
"""

from __future__ import annotations

_INGESTION_ORDER = "struct({side}._ingest_ts, {side}._ingest_batch_id, {side}._ingest_file, {side}._ingest_seq)"

# Reference data re-exported whole: only a later-ingested copy replaces the stored one.
LATER_INGESTED_WINS = f"{_INGESTION_ORDER.format(side='s')} > {_INGESTION_ORDER.format(side='t')}"

# Order lines: the latest ingested version of a line wins, as for reference data.
ORDER_LINE_MERGE_CONDITION = LATER_INGESTED_WINS

# Events: a later copy replaces the stored one only when it comes first by (event_ts, ingestion order).
EVENT_MERGE_CONDITION = (
    "s.event_ts < t.event_ts OR (s.event_ts = t.event_ts AND "
    f"{_INGESTION_ORDER.format(side='s')} < {_INGESTION_ORDER.format(side='t')})"
)
