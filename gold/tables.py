"""Gold table declarations."""

from __future__ import annotations

from gold import (
    category_daily,
    daily_kpis,
    experiment_daily,
    experiment_metrics,
    experiment_results,
    experiment_sequential,
    fct_user,
    funnel_daily,
    product_daily,
    retention_cohorts,
)
from lakehouse.catalog import TableDef
from lakehouse.settings import Settings


def declare(settings: Settings) -> list[TableDef]:
    return [
        daily_kpis.TABLE,
        product_daily.TABLE,
        category_daily.TABLE,
        fct_user.TABLE,
        retention_cohorts.TABLE,
        funnel_daily.TABLE,
        experiment_results.TABLE,
        experiment_daily.TABLE,
        experiment_metrics.TABLE,
        experiment_sequential.TABLE,
    ]
