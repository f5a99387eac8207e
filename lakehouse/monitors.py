"""Table monitors: is each table still fed (freshness), and did its last write look like the usual ones (volume)?

The gates judge the rows a run is about to write; they cannot notice that nothing arrived at
all, or that a source sent a tenth of its usual batch. These two monitors read only the Delta
commit history (through delta-rs: no Spark job, milliseconds per table) and report warn-level
results, recorded in ``ops.quality_results`` with the gates' checks at the end of every run:

``monitor_freshness``  age of the table's last data commit against ``freshness_warn_hours``.
``monitor_volume``     rows the last data commit added against the mean of the ``volume_window``
                       data commits before it; outside ``[volume_warn_ratio, 1 / volume_warn_ratio]``
                       times that mean is a warning (a drop and a spike are both worth a look).

Only data commits count: a maintenance commit (OPTIMIZE, VACUUM, property changes) neither makes a
table fresh nor says anything about volume. Rows added are ``numOutputRows`` of a WRITE (append or
overwrite) and ``numTargetRowsInserted`` of a MERGE, whose ``numOutputRows`` also counts the
unchanged rows it copied into rewritten files.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from lakehouse import delta_log
from lakehouse.quality import CheckResult
from lakehouse.settings import Settings
from lakehouse.storage import table_id_path

log = logging.getLogger(__name__)

FRESHNESS = "monitor_freshness"
VOLUME = "monitor_volume"
MONITORS = (FRESHNESS, VOLUME)

# Operations that write table data; everything else in the log is maintenance or metadata.
DATA_OPERATIONS = frozenset(
    {
        "WRITE",
        "MERGE",
        "CREATE TABLE AS SELECT",
        "REPLACE TABLE AS SELECT",
        "CREATE OR REPLACE TABLE AS SELECT",
        "STREAMING UPDATE",
    }
)
# Enough history to find ``volume_window`` data commits among interleaved maintenance commits.
HISTORY_SLACK = 20


@dataclass(frozen=True)
class Commit:
    """One data commit as the monitors see it."""

    version: int
    at: dt.datetime  # UTC, naive like the ops tables' timestamps
    operation: str
    rows_added: int | None


def _rows_added(operation: str, metrics: dict) -> int | None:
    key = "numTargetRowsInserted" if operation == "MERGE" else "numOutputRows"
    value = metrics.get(key)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def data_commits(settings: Settings, table_id: str, limit: int) -> list[Commit] | None:
    """The table's newest data commits, newest first; None when the table does not exist yet."""
    reader = delta_log.open_reader(settings, table_id_path(settings, table_id))
    if reader is None:
        return None
    commits = []
    for entry in reader.history(limit + HISTORY_SLACK):
        operation = str(entry.get("operation", ""))
        if operation not in DATA_OPERATIONS:
            continue
        at = dt.datetime.fromtimestamp(int(entry["timestamp"]) / 1000, dt.UTC).replace(tzinfo=None)
        commits.append(
            Commit(
                int(entry.get("version", -1)),
                at,
                operation,
                _rows_added(operation, entry.get("operationMetrics") or {}),
            )
        )
        if len(commits) >= limit:
            break
    return commits


def freshness(settings: Settings, table_id: str, commits: list[Commit], now: dt.datetime) -> CheckResult:
    """Warn when the last data commit is older than ``freshness_warn_hours``."""
    limit = settings.freshness_warn_hours
    if not commits:
        return _result(table_id, FRESHNESS, False, f"no data commit (limit {limit:g} h)")
    age_hours = max((now - commits[0].at).total_seconds(), 0.0) / 3600
    observed = f"last write {age_hours:.1f} h ago at version {commits[0].version} (limit {limit:g} h)"
    return _result(table_id, FRESHNESS, age_hours <= limit, observed)


def volume(settings: Settings, table_id: str, commits: list[Commit]) -> CheckResult:
    """Warn when the last write added far fewer or far more rows than the writes before it."""
    counted = [c for c in commits if c.rows_added is not None]
    if not counted:
        return _result(table_id, VOLUME, True, "no row count in the commit history")
    last, previous = counted[0], counted[1 : 1 + settings.volume_window]
    if not previous:
        return _result(table_id, VOLUME, True, f"{last.rows_added} rows at version {last.version}; first write")
    mean = sum(c.rows_added or 0 for c in previous) / len(previous)
    low = settings.volume_warn_ratio
    high = 1 / low if low > 0 else float("inf")
    last_rows = last.rows_added or 0
    if mean == 0:
        ok, ratio_text = last_rows == 0, "n/a"
    else:
        ratio = last_rows / mean
        ok, ratio_text = low <= ratio <= high, f"{ratio:.2f}"
    observed = (
        f"{last_rows} rows at version {last.version} vs mean {mean:.1f} of {len(previous)} previous writes "
        f"(ratio {ratio_text}, allowed {low:g}-{high:g})"
    )
    return _result(table_id, VOLUME, ok, observed)


def _result(table_id: str, name: str, success: bool, observed: str) -> CheckResult:
    return CheckResult(
        table=table_id,
        expectation=name,
        column=None,
        severity="warn",
        success=success,
        unexpected_count=None,
        observed=observed,
    )


def check_tables(settings: Settings, table_ids: Iterable[str], now: dt.datetime | None = None) -> list[CheckResult]:
    """Freshness and volume of every existing table in ``table_ids`` (tables not written yet are left out).

    Never raises: a monitor that cannot read a table's history logs why and reports nothing for it,
    because a monitor must not fail the run it reports on.
    """
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    results: list[CheckResult] = []
    for table_id in table_ids:
        try:
            commits = data_commits(settings, table_id, settings.volume_window + 1)
        except Exception as exc:  # a report must not fail the run
            log.warning("monitors: cannot read the history of %s: %s", table_id, exc)
            continue
        if commits is None:
            continue
        results.append(freshness(settings, table_id, commits, now))
        results.append(volume(settings, table_id, commits))
    return results
