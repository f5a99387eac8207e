"""What an incremental gold build recomputes: the dates a change reached, or everything.

Shared by the date-grained gold builds. A build hands :func:`dates_to_rebuild` a function from
its inputs' changes (the changed rows, and the inputs as the last build saw them) to the dates
they reach (see ``transforms.narrowing``). None means "recompute from all of silver", which is
always right: the answer on a full refresh, a first build, small inputs, or an input without a
readable change feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame

from lakehouse.runner import BuildContext


@dataclass(frozen=True)
class Changes:
    """Each input's changed rows since the last build, and the input as that build saw it."""

    changed: dict[str, DataFrame]
    previous: dict[str, DataFrame]


def dates_to_rebuild(
    context: BuildContext, inputs: tuple[str, ...], reached: Callable[[Changes], DataFrame]
) -> list[dt.date] | None:
    """The dates (column ``date`` of ``reached(changes)``) to recompute, or None for everything."""
    if not any(context.worth_narrowing(table_id) for table_id in inputs):
        return None
    changed, previous = {}, {}
    for table_id in inputs:
        rows, before = context.changes(table_id), context.read_previous(table_id)
        if rows is None or before is None:
            return None  # a first build, a full refresh, or an input without a change feed
        changed[table_id], previous[table_id] = rows, before
    dates = context.collect_values(reached(Changes(changed, previous)), "date")
    return dates or None


def dates_predicate(column: str, dates: list[dt.date]) -> str:
    """The ``replaceWhere`` that replaces exactly ``dates`` of ``column``."""
    listed = ", ".join(f"DATE'{day}'" for day in dates)
    return f"`{column}` IN ({listed})"
