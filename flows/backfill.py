"""The ``backfill`` flow: rebuild silver and gold for a date window.

Silver is rebuilt from all of bronze (MERGE keys make that idempotent); gold tables with a
date grain replace only the window's dates, so a backfill never touches other days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow

from flows.medallion import build_table, summary_rows
from lakehouse.lease import hold_lease
from lakehouse.reports import run_hooks
from lakehouse.runner import Pipeline
from lakehouse.settings import load_settings
from lakehouse.spark import create_spark_session


@flow(name="backfill", log_prints=True)
def backfill(date_from: dt.date, date_to: dt.date, layers: list[str] | None = None) -> list[dict[str, Any]]:
    """Rebuild ``layers`` (default silver and gold) for dates ``date_from``..``date_to`` inclusive."""
    if date_to < date_from:
        raise ValueError(f"backfill window is empty: {date_from} > {date_to}")
    wanted = layers or ["silver", "gold"]
    settings = load_settings()
    # One writer per lakehouse, as for medallion_pipeline: a backfill a Prefect worker starts
    # waits for a run in progress (the CLI's own hold, when it started the flow, is joined).
    with hold_lease(settings, purpose="backfill", wait=True):
        pipeline = Pipeline(
            settings, create_spark_session(settings), dates=(date_from, date_to), hooks=run_hooks(settings)
        )
        try:
            for table in pipeline.catalog:
                if table.layer in wanted:
                    build_table(pipeline, table.id)
        finally:
            pipeline.finish()
        return summary_rows(pipeline.results)
