"""silver.events — one row per event_id: typed clickstream events, first copy by event_ts wins.

Events arrive as landing files (bronze.events) and, when Kafka is enabled, on the clickstream
topic (bronze.clickstream). Both carry the same contract, so they are cleaned as one batch:
an event delivered both ways collapses to one row like any other duplicate.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from expectations import silver_events
from lakehouse.catalog import TableDef
from lakehouse.contract import EVENT_COLUMNS
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from lakehouse.settings import Settings
from silver.cleaning import Cleaning, build_cleaned, cleaned_table
from transforms import events as t

RAW_COLUMNS = EVENT_COLUMNS
FILE_INPUT = "bronze.events"
KAFKA_INPUT = "bronze.clickstream"


def _rules(context: BuildContext):
    return t.event_rules(context.settings.late_event_tolerance_hours)


CLEANING = Cleaning(
    bronze=(FILE_INPUT,),
    raw_columns=RAW_COLUMNS,
    typed=t.typed_events,
    rules=_rules,
    to_silver=t.to_silver_events,
    dedup=t.first_per_event_id,
    keys=("event_id",),
)


def build(context: BuildContext, cleaning: Cleaning = CLEANING) -> TableOutput:
    return build_cleaned(context, cleaning)


def table(with_kafka: bool) -> TableDef:
    """silver.events reading the landing files' bronze table, plus the Kafka one when ``with_kafka``."""
    cleaning = replace(CLEANING, bronze=(FILE_INPUT, KAFKA_INPUT)) if with_kafka else CLEANING
    return cleaned_table(
        cleaning,
        name="events",
        grain="One row per event_id.",
        build=partial(build, cleaning=cleaning),
        merge_condition=t.EVENT_MERGE_CONDITION,
        suite=silver_events.suite,
        schema=t.SILVER_EVENTS_SCHEMA,
        # Gold reads what changed since its last build (dates, sessions, customers it reached).
        change_feed=True,
        date_column="event_date",
        description="Typed clickstream events (landing files"
        + (" and Kafka" if with_kafka else "")
        + "); duplicates collapse to the first by event_ts, then ingestion order.",
    )


def declare(settings: Settings) -> TableDef:
    return table(settings.kafka_enabled)
