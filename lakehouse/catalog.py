"""The table catalog: every table is declared once, and everything else reads the declarations.

A declaration names its layer, inputs, keys, partitioning, date column, write mode, and where
its build function, quality suite and schema live. Those three may be given as references
("module:attribute", see :func:`resolve`), which is how the layer packages declare them: the
declarations (``bronze/tables.py``, ``silver/tables.py``, ``gold/tables.py``) then import neither
Spark nor Great Expectations, and the code behind a reference is imported only when the runner
builds, gates or checks that table. The runner derives the build order from the inputs; the
CLI, flows, docs and the dashboard's lineage page list the same declarations.
The layer packages register their tables here; the core never imports them
directly, so the dependency direction stays flows -> gold -> silver -> bronze -> core.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

    from lakehouse.model import TableOutput
    from lakehouse.quality import Check
    from lakehouse.settings import Settings

Layer = Literal["bronze", "silver", "gold"]
WriteMode = Literal["append", "merge", "overwrite"]

# Modules whose ``declare(settings)`` returns that layer's tables, in layer order.
DECLARATION_MODULES = ("bronze.tables", "silver.tables", "gold.tables")


class CatalogError(ValueError):
    """The declarations are inconsistent (unknown input, cycle, duplicate name, a reference to nothing)."""


@functools.cache
def resolve(reference: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names, imported on first use."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise CatalogError(f"{reference!r} is not a 'module:attribute' reference")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise CatalogError(f"{reference!r} names nothing importable: {exc}") from exc


@dataclass(frozen=True)
class Bound:
    """A referenced function with some arguments fixed: a ``functools.partial`` that imports lazily."""

    reference: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return resolve(self.reference)(*self.args, *args, **self.kwargs, **kwargs)


def bound(reference: str, *args: Any, **kwargs: Any) -> Bound:
    """``reference``'s function with ``args``/``kwargs`` fixed, imported when first called."""
    return Bound(reference, args, kwargs)


def _callable(value: Callable[..., Any] | str) -> Callable[..., Any]:
    return resolve(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class TableDef:
    """One table: where it sits, what it reads, how it is built, written and checked."""

    layer: Layer
    name: str
    grain: str
    # Called with what ``receives`` says. A "module:function" reference or a :class:`Bound`
    # keeps Spark out of the declaration; see :meth:`build_function`.
    build: Callable[..., TableOutput] | str
    inputs: tuple[str, ...] = ()
    # What the build is called with. "pinned": its declared inputs as DataFrames, each whole at the
    # version this run pinned; "new": each input's rows committed since this table last read it
    # (all of them on a first build or a full refresh). Either way a ``Mapping`` from input id to
    # frame (``lakehouse.model.InputFrames``, which also serves the ``after`` tables as they stand):
    # a function of frames that a test calls with frames of its own.
    # "changes": the pinned frames and a ``lakehouse.model.InputChanges`` (what changed since the
    # last build, or None: recompute all), for builds that narrow to the dates a change reached
    # (gold's daily_kpis, product_daily, funnel_daily). "context": the runner's
    # ``lakehouse.runner.BuildContext``, for builds that read sources (bronze).
    receives: Literal["pinned", "new", "changes", "context"] = "context"
    # Tables a check of this one reads (``BuildContext.read_reference``) but the build does not:
    # built before it in the same run when both run, without being inputs (their changes trigger
    # no rebuild, and their failure blocks nothing here).
    after: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    # Each row's date (a gold table's grain date). An overwritten table's backfill replaces only
    # its window; a gold build narrowing on this table reads the span of its dates from the log;
    # the dashboard's sidebar filters the table's rows on it.
    date_column: str | None = None
    write: WriteMode = "overwrite"
    merge_condition: str | None = None
    # The quality suite: a function returning the checks, or its "module:function" reference.
    suite: Callable[[], list[Check]] | str | None = None
    quarantine: bool = False
    change_feed: bool = False
    # The columns and types every build must produce, in order (nullability is the suite's to
    # check). A build that drifts from it fails before its gate, and nothing is written. A
    # "module:ATTRIBUTE" reference to the StructType keeps pyspark out of the declaration.
    schema: StructType | str | None = None
    # Leading columns Delta keeps min/max statistics for (None: Delta's 32). Statistics serve
    # reads that filter the table; a table only ever read whole or by version (bronze) can skip
    # them and write faster (docs/benchmarks.md). Row counts are kept either way.
    stats_columns: int | None = None
    description: str = ""
    # For a table fed from outside the lakehouse (landing files): a Spark-free check whether it
    # has input it has not ingested. None means "cannot tell without running": always built.
    has_new_input: Callable[[Settings], bool] | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.layer}.{self.name}"

    def build_function(self) -> Callable[..., TableOutput]:
        """The build, imported now if the declaration gave a reference."""
        return _callable(self.build)

    def checks(self) -> list[Check]:
        """The suite's checks (none without a suite), imported now if the declaration gave a reference."""
        return list(_callable(self.suite)()) if self.suite is not None else []

    def declared_schema(self) -> StructType | None:
        """The declared output schema, imported now if the declaration gave a reference."""
        return resolve(self.schema) if isinstance(self.schema, str) else self.schema


class Catalog:
    """All declared tables, in an order where every input comes before its consumers."""

    def __init__(self, tables: list[TableDef]) -> None:
        by_id: dict[str, TableDef] = {}
        for table in tables:
            if table.id in by_id:
                raise CatalogError(f"table {table.id} is declared twice")
            by_id[table.id] = table
        for table in tables:
            unknown = [name for name in table.inputs if name not in by_id]
            if unknown:
                raise CatalogError(f"{table.id} reads undeclared tables {unknown}")
            if table.receives != "context" and not table.inputs:
                raise CatalogError(f"{table.id} receives its inputs as frames but declares none")
        try:
            TopologicalSorter({t.id: set(t.inputs) for t in tables}).prepare()
        except CycleError as exc:
            raise CatalogError(f"table inputs form a cycle: {exc.args[1]}") from exc
        layer_rank = {"bronze": 0, "silver": 1, "gold": 2}
        # Stable, readable order: by layer, then the declaration order, moving a table only
        # as far as needed to come after its inputs.
        pending = sorted(tables, key=lambda t: layer_rank[t.layer])
        ordered: list[TableDef] = []
        placed: set[str] = set()
        while pending:
            ready = next(
                (t for t in pending if placed.issuperset(t.inputs) and placed.issuperset(set(t.after) & set(by_id))),
                None,
            )
            if ready is None:
                raise CatalogError(f"{pending[0].id} reads a table of a later layer: {list(pending[0].inputs)}")
            ordered.append(ready)
            placed.add(ready.id)
            pending.remove(ready)
        self._tables = ordered
        self._by_id = by_id

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def get(self, table_id: str) -> TableDef:
        try:
            return self._by_id[table_id]
        except KeyError:
            raise CatalogError(f"unknown table {table_id}; known: {', '.join(self._by_id)}") from None

    def layer(self, layer: Layer) -> list[TableDef]:
        return [table for table in self._tables if table.layer == layer]

    def prerequisites(self, table: TableDef) -> tuple[str, ...]:
        """What must be done before ``table`` starts: its inputs, then the declared ``after`` tables."""
        return (*table.inputs, *(t for t in table.after if t in self._by_id and t not in table.inputs))

    def edges(self) -> list[tuple[str, str]]:
        """(input, table) pairs: the lineage graph."""
        return [(source, table.id) for table in self._tables for source in table.inputs]


def load_catalog(settings: Settings) -> Catalog:
    tables: list[TableDef] = []
    for module_name in DECLARATION_MODULES:
        module = importlib.import_module(module_name)
        tables.extend(module.declare(settings))
    return Catalog(tables)
