"""silver.experiments — the build: one row per experiment_id, variants (first = control), allocation and window.

Declared in ``silver/tables.py``.
"""

from __future__ import annotations

from functools import partial

from silver.cleaning import Cleaning, build_cleaned
from transforms import experiments as t

CLEANING = Cleaning(
    raw_columns=("experiment_id", "name", "variants", "allocation", "start_date", "end_date"),
    typed=t.typed_experiments,
    rules=t.experiment_rules,
    to_silver=t.to_silver_experiments,
)
SCHEMA = t.SILVER_EXPERIMENTS_SCHEMA

build = partial(build_cleaned, cleaning=CLEANING)
