"""silver.events — one row per event_id: typed clickstream events, first copy by event_ts wins."""

from __future__ import annotations

from expectations import silver_events
from lakehouse.catalog import TableDef
from lakehouse.runner import BuildContext, TableOutput
from silver.cleaning import Cleaning, build_cleaned
from transforms import events as t

RAW_COLUMNS = ("event_id", "event_ts", "user_id", "session_id", "event_type", "product_id", "order_id",
               "device", "country", "experiments", "properties")


def _rules(context: BuildContext):
    return t.event_rules(context.settings.late_event_tolerance_hours)


CLEANING = Cleaning(
    bronze="bronze.events",
    raw_columns=RAW_COLUMNS,
    typed=t.typed_events,
    rules=_rules,
    to_silver=t.to_silver_events,
    dedup=t.first_per_event_id,
    keys=("event_id",),
)


def build(context: BuildContext) -> TableOutput:
    return build_cleaned(context, CLEANING)


TABLE = TableDef(
    layer="silver",
    name="events",
    grain="One row per event_id.",
    build=build,
    inputs=("bronze.events",),
    keys=("event_id",),
    write="merge",
    merge_condition=t.EVENT_MERGE_CONDITION,
    suite=silver_events.suite,
    quarantine=True,
    description="Typed clickstream events; duplicates collapse to the first by event_ts, then ingestion order.",
)
