"""The runner's plain types: what a build hands back and what a run reports.

They live apart from the runner so that the modules reading them (reports, alerts, the CLI's
summary, flows) and the table declarations (catalog) do not import the engine, which imports
them: no cycle. Importing this module loads neither Spark nor Great Expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse.ops import IngestRecord
    from lakehouse.quality import Check, CheckResult, GateFailed


# What a build declared with ``receives="pinned"`` or ``"new"`` is called with: each declared input
# id -> that input as a DataFrame (whole at the run's pinned version, or only its new rows), and
# each declared ``after`` table that exists -> that table as it stands. The runner reads each on
# first use; a test passes a dict.
InputFrames = Mapping[str, "DataFrame"]


@dataclass(frozen=True)
class InputChanges:
    """What changed in a build's inputs since its last build (``receives="changes"``).

    The runner passes None instead when the build must recompute from all of its inputs: a first
    build or full refresh, inputs too small for narrowing to pay, an input without a readable
    change feed or previous version.
    """

    changed: Mapping[str, DataFrame]  # input id -> the rows its commits since then changed (with ``_change_type``)
    previous: Mapping[str, DataFrame]  # input id -> the input as the last build saw it
    current: DataFrame  # the table as it stands


@dataclass
class Ledger:
    """Row accounting of one hop: rows_in = rows_out + quarantined + deduplicated."""

    rows_in: int
    rows_out: int
    quarantined: int
    deduplicated: int
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.quarantined + self.deduplicated


@dataclass
class TableOutput:
    """What a build function hands back; ``data=None`` means there is nothing new to write."""

    data: DataFrame | None
    quarantine: DataFrame | None = None
    ledger: Ledger | None = None
    replace_where: str | None = None
    ingest_records: list[IngestRecord] = field(default_factory=list)
    note: str | None = None
    # Extra keys for the commit's user metadata (e.g. Kafka offsets): they commit atomically with the data.
    commit_metadata: dict[str, Any] = field(default_factory=dict)
    # Delta idempotent-write id (app id, version) for append tables: a retried write of the same batch is a no-op.
    txn: tuple[str, int] | None = None
    # Checks only the build can state, because they compare with another table at this run's pinned
    # version: referential integrity value sets, reconciliation totals. Gated with the table's suite.
    checks: list[Check] = field(default_factory=list)
    # Frames the build persisted because several actions read them (its ledger, the quarantine):
    # the runner releases them after the write.
    cached: list[DataFrame] = field(default_factory=list)


@dataclass
class TableResult:
    table: str
    layer: str
    status: str  # written | skipped | failed
    delta_version: int | None
    rows_written: int | None = None
    quarantined: int | None = None
    deduplicated: int | None = None
    checks: list[CheckResult] = field(default_factory=list)
    message: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def checks_passed(self) -> int:
        return sum(1 for c in self.checks if c.success)


@dataclass
class RunReport:
    run_id: str
    results: list[TableResult]
    failed: GateFailed | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None
