"""gold.retention_cohorts — one row per (cohort month, month offset) of customers' first sale month.

Offsets run from 0 to the last month in which any customer has a sale line, quiet months included
with 0 active customers (see ``transforms.retention_cohorts``).
"""

from __future__ import annotations

from lakehouse.model import InputFrames, TableOutput
from transforms.retention_cohorts import retention_cohorts


def build(inputs: InputFrames) -> TableOutput:
    return TableOutput(data=retention_cohorts(inputs["silver.order_lines"]).coalesce(1))
