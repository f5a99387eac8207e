"""Per-table summary of the lakehouse, read without Spark (delta-rs metadata only)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse import delta_log
from lakehouse.catalog import Catalog
from lakehouse.model import TableResult
from lakehouse.settings import Settings
from lakehouse.storage import quarantine_id, table_id_path, table_path


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int | None
    version: int | None
    quarantined: int | None
    checks: str
    status: str


def row_count(settings: Settings, path: str) -> int | None:
    """Rows in the current snapshot, from the file statistics Delta keeps (no scan)."""
    reader = delta_log.open_reader(settings, path)
    if reader is None:
        return None
    actions = pa.table(reader.get_add_actions(flatten=True))
    if "num_records" not in actions.column_names:
        return None
    return int(pc.sum(actions.column("num_records")).as_py() or 0)


def summarize(settings: Settings, catalog: Catalog, results: list[TableResult]) -> list[TableSummary]:
    by_table = {r.table: r for r in results}
    rows = []
    for table in catalog:
        result = by_table.get(table.id)
        quarantined = (
            row_count(settings, table_id_path(settings, quarantine_id(table.name))) or 0 if table.quarantine else None
        )
        rows.append(
            TableSummary(
                table=table.id,
                rows=row_count(settings, table_path(settings, table.layer, table.name)),
                version=delta_log.table_version(settings, table_path(settings, table.layer, table.name)),
                quarantined=quarantined,
                checks=f"{result.checks_passed}/{len(result.checks)}" if result and result.checks else "-",
                status=result.status if result else "-",
            )
        )
    return rows


def format_summary(rows: list[TableSummary]) -> str:
    header = ("TABLE", "ROWS", "VERSION", "QUARANTINED", "CHECKS PASSED", "THIS RUN")
    cells = [(r.table, _fmt(r.rows), _fmt(r.version), _fmt(r.quarantined), r.checks, r.status) for r in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *cells])


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
