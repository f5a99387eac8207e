"""Silver table declarations."""

from __future__ import annotations

from lakehouse.catalog import TableDef
from lakehouse.settings import Settings
from silver import events, experiment_exposures, experiments, order_lines, products, stock


def declare(settings: Settings) -> list[TableDef]:
    # Products before order lines: the order lines' referential check reads this run's catalogue.
    return [
        events.declare(settings),
        products.TABLE,
        stock.TABLE,
        order_lines.TABLE,
        experiments.TABLE,
        experiment_exposures.TABLE,
    ]
