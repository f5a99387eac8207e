"""Row-level rules: flag the first rule a row breaks, then split good rows from quarantine.

A rule is (name, failing condition, human reason). All rules of a table evaluate in
one projection, natively in Spark, so quarantining costs no extra pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

RULE = "_rule"
REASON = "_reason"


@dataclass(frozen=True)
class RowRule:
    name: str
    fails: Column
    reason: str


def flag_first_failure(df: DataFrame, rules: Sequence[RowRule]) -> DataFrame:
    """Add ``_rule`` and ``_reason``: the first rule (in declaration order) the row fails, else null."""
    rule = F.lit(None).cast("string")
    reason = F.lit(None).cast("string")
    for r in reversed(rules):
        failing = F.coalesce(r.fails, F.lit(False))
        rule = F.when(failing, F.lit(r.name)).otherwise(rule)
        reason = F.when(failing, F.lit(r.reason)).otherwise(reason)
    return df.withColumn(RULE, rule).withColumn(REASON, reason)


def passing(flagged: DataFrame) -> DataFrame:
    return flagged.filter(F.col(RULE).isNull()).drop(RULE, REASON)


def failing(flagged: DataFrame) -> DataFrame:
    return flagged.filter(F.col(RULE).isNotNull())


def metadata_columns(df: DataFrame) -> list[str]:
    """Underscore-prefixed columns (lineage, raw record, corrupt text): typed frames carry them through."""
    return [name for name in df.columns if name.startswith("_")]
