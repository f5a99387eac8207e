"""Gold table declarations."""

from __future__ import annotations

from gold import daily_kpis
from lakehouse.catalog import TableDef
from lakehouse.settings import Settings


def declare(settings: Settings) -> list[TableDef]:
    return [daily_kpis.TABLE]
