"""What an incremental gold build recomputes: the dates a change reached, or everything.

Shared by the date-grained gold builds declared with ``receives="changes"``. A build hands
:func:`dates_to_rebuild` the runner's ``InputChanges`` (the changed rows, and the inputs as the
last build saw them) and a function from them to the dates they reach (see
``transforms.narrowing``). None means "recompute from all of silver", which is always right: the
answer on a full refresh, a first build, small inputs, or an input without a readable change feed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.model import InputChanges

log = logging.getLogger(__name__)


def dates_to_rebuild(
    changes: InputChanges | None, reached: Callable[[InputChanges], DataFrame]
) -> list[dt.date] | None:
    """The dates (column ``date`` of ``reached(changes)``) to recompute, or None for everything.

    ``changes`` is what the runner hands a build declared with ``receives="changes"``; None (a
    first build, a full refresh, small inputs, no readable change feed) means recompute all.
    """
    if changes is None:
        return None
    try:
        frame = reached(changes).select("date").where(F.col("date").isNotNull()).distinct()
        dates = sorted(row[0] for row in frame.collect())  # one row per date: small
    except PySparkException as exc:
        # The change feed cannot be read for the range (commits from before it was enabled, or
        # change files removed by VACUUM): recompute from the whole inputs instead.
        text = str(exc).strip()
        log.warning("change feed unreadable (%s); reading the inputs whole", text.splitlines()[0] if text else exc)
        return None
    return dates or None


def dates_predicate(column: str, dates: list[dt.date]) -> str:
    """The ``replaceWhere`` that replaces exactly ``dates`` of ``column``."""
    listed = ", ".join(f"DATE'{day}'" for day in dates)
    return f"`{column}` IN ({listed})"
