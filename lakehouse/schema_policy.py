"""Schema policy: which schema changes a hop accepts, and the diff it prints when it refuses one.

* **Source files** (bronze's input): a CSV or XLSX file must carry every declared column in its
  header. Columns nobody declared are kept in ``_rescued_data``; a declared column that is gone
  fails the hop with the diff, because reading on would fill that column with nulls for every
  row and nothing downstream could tell a removed column from missing values.
* **Tables**: a write whose columns differ from the table's current schema is refused with a
  diff, except for the additions bronze makes when a source declares a new column and for the
  type widenings in :func:`is_widening` (the table's column type is widened first, so no value
  is ever cast down). Removing or retyping a column of an existing table is a deliberate act:
  change the contract and rebuild with ``--full-refresh``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyspark.sql import types as T

_INTEGRAL_ORDER = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


@dataclass(frozen=True)
class SchemaDiff:
    """What differs between the schema a table (or contract) has and the one a write brings."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    widened: list[tuple[str, str, str]] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.widened or self.retyped)

    def lines(self) -> list[str]:
        """One line per difference, ``+`` added, ``-`` removed, ``~`` retyped, ``^`` widened."""
        return (
            [f"- {name} {kind}" for name, kind in self.removed]
            + [f"~ {name} {old} -> {new}" for name, old, new in self.retyped]
            + [f"+ {name} {kind}" for name, kind in self.added]
            + [f"^ {name} {old} -> {new} (widening)" for name, old, new in self.widened]
        )


class SchemaBreak(RuntimeError):
    """A hop refused a breaking schema change; the message is one line that carries the diff."""

    def __init__(self, where: str, diff: SchemaDiff, advice: str) -> None:
        self.where = where
        self.diff = diff
        super().__init__(f"{where}: breaking schema change refused: {'; '.join(diff.lines())}. {advice}")


def is_widening(old: T.DataType, new: T.DataType) -> bool:
    """True when every value of ``old`` fits ``new`` exactly (the allow-list of type widening).

    Integers to a larger integer, a double or a decimal with room for their digits; float to
    double; a decimal to one with at least as many integer and fraction digits; date to
    timestamp_ntz. These are the widenings Delta's type-widening table feature supports.
    """
    if old == new:
        return True
    integral = [type(old) is kind for kind in _INTEGRAL_ORDER]
    if any(integral):
        rank = integral.index(True)
        if isinstance(new, _INTEGRAL_ORDER):
            return [type(new) is kind for kind in _INTEGRAL_ORDER].index(True) >= rank
        if isinstance(new, T.DoubleType):
            return rank <= 2  # a long does not fit a double exactly
        if isinstance(new, T.DecimalType):
            digits = (3, 5, 10, 20)[rank]
            return new.precision - new.scale >= digits
        return False
    if isinstance(old, T.FloatType):
        return isinstance(new, T.DoubleType)
    if isinstance(old, T.DecimalType) and isinstance(new, T.DecimalType):
        return new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale
    if isinstance(old, T.DateType):
        return isinstance(new, T.TimestampNTZType)
    return False


def diff_schemas(current: T.StructType, incoming: T.StructType) -> SchemaDiff:
    """Compare by column name (case-sensitive, order ignored) and type (nullability ignored)."""
    old = {f.name: f.dataType for f in current.fields}
    new = {f.name: f.dataType for f in incoming.fields}
    diff = SchemaDiff()
    for name, kind in old.items():
        if name not in new:
            diff.removed.append((name, kind.simpleString()))
        elif new[name] != kind:
            target = diff.widened if is_widening(kind, new[name]) else diff.retyped
            target.append((name, kind.simpleString(), new[name].simpleString()))
    diff.added.extend((name, kind.simpleString()) for name, kind in new.items() if name not in old)
    return diff


def check_write(table_id: str, current: T.StructType, incoming: T.StructType, allow_added: bool) -> SchemaDiff:
    """The diff of a write to an existing table; raises :class:`SchemaBreak` unless every change is allowed."""
    diff = diff_schemas(current, incoming)
    breaking = SchemaDiff(added=[] if allow_added else diff.added, removed=diff.removed, retyped=diff.retyped)
    if not breaking.empty:
        raise SchemaBreak(
            table_id,
            breaking,
            "Nothing was written; if the change is intended, change the contract and rebuild with --full-refresh.",
        )
    return diff


def check_declared(table_id: str, declared: T.StructType, produced: T.StructType) -> None:
    """Raise :class:`SchemaBreak` unless a build produced exactly its declared columns, types and order."""
    found = diff_schemas(declared, produced)
    # Against a contract even a widening is drift: the declaration says which type it is.
    diff = SchemaDiff(added=found.added, removed=found.removed, retyped=[*found.retyped, *found.widened])
    if diff.empty and [f.name for f in declared.fields] == [f.name for f in produced.fields]:
        return
    if diff.empty:
        diff = SchemaDiff(retyped=[("column order", ",".join(declared.names), ",".join(produced.names))])
    raise SchemaBreak(
        f"{table_id} (declared schema)",
        diff,
        "Nothing was written; the build no longer produces the schema its declaration states: "
        "fix the transform, or change the declared schema (and rebuild with --full-refresh).",
    )


def check_header(where: str, declared: Sequence[str], header: Sequence[str]) -> list[str]:
    """The header's undeclared columns; raises :class:`SchemaBreak` when a declared column is missing."""
    missing = [name for name in declared if name not in header]
    if missing:
        diff = SchemaDiff(removed=[(name, "string") for name in missing])
        raise SchemaBreak(
            where,
            diff,
            f"The file's header is {list(header)}; fix the file or change the source's declared columns.",
        )
    return [name for name in header if name and name not in declared]
