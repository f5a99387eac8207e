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

# A JSON line that is not valid UTF-8 cannot be read as text without inventing characters, so
# bronze keeps its bytes instead: ``_corrupt_record`` = this prefix + the base64 of the raw line.
# The prefix is the contract between the reader and the ``invalid_utf8`` quarantine rule.
INVALID_UTF8_PREFIX = "invalid UTF-8, base64 of the raw line: "


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


def is_json_container(text: Column) -> Column:
    """True when ``text`` is a JSON object or array, i.e. a value that is not a scalar.

    Spark's JSON parser stores an object or array found where a string column is declared as
    its JSON text, so ``{"id": 5}`` arrives in bronze as the text ``{"id":5}``. Only text that
    starts with ``{`` or ``[`` is parsed (``when`` short-circuits), and only a parse that
    succeeds counts, so an identifier such as ``[A1]`` stays a string. False for null.
    """
    trimmed = F.trim(text)
    candidate = F.substring(trimmed, 1, 1).isin("{", "[")
    parsed = F.json_object_keys(trimmed).isNotNull() | F.json_array_length(trimmed).isNotNull()
    return F.when(candidate, parsed).otherwise(F.lit(False))
