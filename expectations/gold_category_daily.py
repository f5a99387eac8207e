"""Suite of gold.category_daily: one row per (date, category); every sale lands in a category."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical


def suite() -> list[Check]:
    return [
        critical(
            gxe.ExpectTableColumnsToMatchSet(column_set=["date", "category", "revenue", "units"], exact_match=True)
        ),
        critical(gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "category"])),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="date")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="category")),
        critical(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="units", min_value=0, strict_min=True)),
    ]
