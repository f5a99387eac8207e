"""Silver table declarations."""

from __future__ import annotations

from lakehouse.catalog import TableDef
from lakehouse.settings import Settings
from silver import events, experiment_exposures, experiments, order_lines, products, stock


def declare(settings: Settings) -> list[TableDef]:
    return [events.declare(settings), order_lines.TABLE, products.TABLE, stock.TABLE, experiments.TABLE,
            experiment_exposures.TABLE]
