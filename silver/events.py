"""silver.events — the build: one row per event_id, typed clickstream events, first copy by event_ts wins.

Events arrive as landing files (bronze.events) and, when Kafka is enabled, on the clickstream
topic (bronze.clickstream). Both carry the same contract, so the declaration (``silver/tables.py``)
lists both as inputs and they are cleaned as one batch: an event delivered both ways collapses
to one row like any other duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pyspark.sql import DataFrame

from lakehouse.contract import EVENT_COLUMNS
from silver.cleaning import Cleaning, build_cleaned
from transforms import events as t


def _first_per_event_id(events: DataFrame, _keys: Sequence[str]) -> DataFrame:
    return t.first_per_event_id(events)


CLEANING = Cleaning(
    raw_columns=EVENT_COLUMNS,
    typed=t.typed_events,
    rules=t.event_rules,  # late_tolerance_hours: bound by the declaration from the settings
    to_silver=t.to_silver_events,
    dedup=_first_per_event_id,
)
SCHEMA = t.SILVER_EVENTS_SCHEMA

build = partial(build_cleaned, cleaning=CLEANING)
