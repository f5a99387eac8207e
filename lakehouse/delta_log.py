"""A table's log, read without Spark: version, size, rows, properties, commit history and metadata.

delta-rs answers these in milliseconds where a Spark job would take a second, and it needs no
JVM, so the runner's per-table look at a table (:func:`table_facts`), the ops tables, the
monitors, the alerts, the lease-free "anything new?" check of the CLI and the dashboard all read
logs through here. :mod:`lakehouse.delta_io` (which needs Spark: every write, every data read)
re-exports these names for its callers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable as DeltaReader
from deltalake.exceptions import TableNotFoundError

from lakehouse.settings import Settings, is_object_path
from lakehouse.storage import reader_uri, table_id_path

CDF_PROPERTY = "delta.enableChangeDataFeed"


def _storage_options(settings: Settings, path: str) -> dict[str, str] | None:
    return settings.s3_storage_options() if is_object_path(path) else None


def open_reader(settings: Settings, path: str) -> DeltaReader | None:
    """A delta-rs handle on the table at ``path``, or None when there is no table yet."""
    try:
        return DeltaReader(reader_uri(path), storage_options=_storage_options(settings, path))
    except TableNotFoundError:
        return None


def table_version(settings: Settings, path: str) -> int | None:
    reader = open_reader(settings, path)
    return None if reader is None else reader.version()


@dataclass(frozen=True)
class TableFacts:
    """What one delta-rs look at a table's log says: version, size, rows, newest tagged user metadata.

    The runner takes one per table per run and reuses it for the skip decision, the watermark,
    the schema policy and the write path, instead of opening the log for each question.
    """

    version: int | None
    size_bytes: int = 0
    rows: int | None = None
    tagged_metadata: dict[str, Any] | None = None
    change_feed: bool = False
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.version is not None


def table_facts(settings: Settings, path: str, metadata_key: str | None = None) -> TableFacts:
    """Version, live bytes and rows (from the add actions' statistics) and the newest user metadata
    holding ``metadata_key``, from one snapshot of the log (no Spark)."""
    reader = open_reader(settings, path)
    if reader is None:
        return TableFacts(None)
    actions = pa.table(reader.get_add_actions(flatten=True))
    size = sum(v or 0 for v in actions.column("size_bytes").to_pylist()) if actions.num_rows else 0
    rows: int | None = None
    if "num_records" in actions.column_names:
        counts = actions.column("num_records").to_pylist()
        rows = None if any(c is None for c in counts) else sum(counts)
    tagged = _tagged_metadata(reader, metadata_key) if metadata_key else None
    properties = dict(reader.metadata().configuration)
    change_feed = properties.get(CDF_PROPERTY, "false").lower() == "true"
    return TableFacts(reader.version(), size, rows, tagged, change_feed, properties)


def table_exists(settings: Settings, table_id: str) -> bool:
    """Whether the catalog table ``layer.name`` has been written (delta-rs, no Spark)."""
    return table_version(settings, table_id_path(settings, table_id)) is not None


def latest_user_metadata(settings: Settings, path: str, key: str) -> dict[str, Any] | None:
    """The newest commit's user metadata that holds ``key`` (maintenance commits carry none)."""
    reader = open_reader(settings, path)
    return None if reader is None else _tagged_metadata(reader, key)


def parse_user_metadata(raw: str | None) -> dict[str, Any]:
    """A commit's user metadata as a dict (empty when absent or not a JSON object)."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _tagged_metadata(reader: DeltaReader, key: str) -> dict[str, Any] | None:
    for commit in reader.history():
        data = parse_user_metadata(commit.get("userMetadata"))
        if key in data:
            return data
    return None


# Commits that rewrite or delete files without changing what the table says.
MAINTENANCE_OPERATIONS = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})


def date_span_days(settings: Settings, path: str, column: str) -> int | None:
    """Days from the first to the last value of the date ``column``, from the log's file statistics.

    None when the table does not exist, is empty, or keeps no statistics for the column.
    """
    reader = open_reader(settings, path)
    if reader is None:
        return None
    actions = pa.table(reader.get_add_actions(flatten=True))
    low, high = f"min.{column}", f"max.{column}"
    if actions.num_rows == 0 or low not in actions.column_names or high not in actions.column_names:
        return None
    lows = [v for v in actions.column(low).to_pylist() if v is not None]
    highs = [v for v in actions.column(high).to_pylist() if v is not None]
    if len(lows) < actions.num_rows or len(highs) < actions.num_rows:
        return None  # a file without statistics for the column could hold any date
    return (max(highs) - min(lows)).days + 1


def data_changed(settings: Settings, path: str, after: int, upto: int) -> bool:
    """Whether any commit in ``(after, upto]`` changed the table's data (maintenance commits do not)."""
    reader = open_reader(settings, path)
    if reader is None:
        return True
    for commit in reader.history():
        version = commit.get("version")
        if version is None or not after < int(version) <= upto:
            continue
        if commit.get("operation") not in MAINTENANCE_OPERATIONS:
            return True
    return False


def versions_available(settings: Settings, path: str, first: int, last: int) -> bool:
    """Whether every commit ``first..last`` is still in the table's log (log cleanup removes old ones)."""
    reader = open_reader(settings, path)
    if reader is None:
        return False
    present = {int(c["version"]) for c in reader.history() if c.get("version") is not None}
    return all(version in present for version in range(first, last + 1))
