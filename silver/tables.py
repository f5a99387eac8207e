"""Silver table declarations."""

from __future__ import annotations

from lakehouse.catalog import TableDef
from lakehouse.settings import Settings
from silver import events, order_lines


def declare(settings: Settings) -> list[TableDef]:
    return [events.TABLE, order_lines.TABLE]
