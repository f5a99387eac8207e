"""What a run tells the world outside the engine: hooks the CLI and the flows register.

The runner builds, gates and writes; it does not know how a failure is alerted or how a run is
reported. It calls the hooks registered here at two moments, and the callers (``lakehouse run``,
the Prefect flows) register the Data Docs and alerts of :mod:`lakehouse.reports` with
:func:`lakehouse.reports.run_hooks`. A pipeline built without hooks (most tests, the benchmark)
reports nothing beyond its ops tables.

A hook must not fail the run it reports on: an exception from one is logged and swallowed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse.catalog import Catalog
    from lakehouse.model import TableResult
    from lakehouse.quality import GateFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableFailure:
    """One table failed in a run: a critical check (``gate`` set) or any other error."""

    run_id: str
    table: str
    message: str
    gate: GateFailed | None = None


@dataclass(frozen=True)
class RunCommitted:
    """A run's ops records are committed: what the reports of that run are made of."""

    run_id: str
    started_at: dt.datetime
    catalog: Catalog
    results: Sequence[TableResult]
    validations: Mapping[str, Any]


@dataclass
class RunHooks:
    """Callbacks per moment of a run, called in registration order."""

    table_failed: list[Callable[[TableFailure], object]] = field(default_factory=list)
    run_committed: list[Callable[[RunCommitted], object]] = field(default_factory=list)

    def notify_table_failed(self, event: TableFailure) -> None:
        for hook in self.table_failed:
            _call(hook, event, f"the failure hook of {event.table}")

    def notify_run_committed(self, event: RunCommitted) -> None:
        for hook in self.run_committed:
            _call(hook, event, f"the run hook of run {event.run_id}")


def _call(hook: Callable[[Any], object], event: object, what: str) -> None:
    try:
        hook(event)
    except Exception as exc:  # a report must not fail the run it reports on
        log.warning("%s (%s) failed: %s", what, getattr(hook, "__name__", hook), exc)
