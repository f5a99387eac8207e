"""Suite of gold.daily_kpis: one row per date, non-negative money and counts, rates in [0, 1]."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def suite() -> list[Check]:
    return [
        # One row per date: none means nothing landed; more than 100 years of dates means a
        # timestamp was misread (e.g. epoch seconds taken as years) and stretched the date spine.
        warn(gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=36_600)),
        critical(gxe.ExpectColumnValuesToBeUnique(column="date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="date")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="orders", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="sessions", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="session_conversion_rate", min_value=0, max_value=1)),
    ]


def revenue_reconciles(silver_sale_revenue: float) -> Check:
    """Reconciliation: the days' revenue adds up to the revenue of every sale line in silver (critical).

    A sale line outside the date spine, or counted twice by a join, breaks it. The tolerance
    covers the float conversion of a decimal sum only.
    """
    tolerance = 1e-6 * max(1.0, abs(silver_sale_revenue))
    return critical(
        gxe.ExpectColumnSumToBeBetween(
            column="revenue", min_value=silver_sale_revenue - tolerance, max_value=silver_sale_revenue + tolerance
        )
    )
