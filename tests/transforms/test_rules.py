"""transforms.rules: the first failing rule in declaration order, the split, and the JSON-container test.

Every declared quarantine rule of the silver tables has its own case in test_quarantine_rules.py.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from transforms.rules import (
    REASON,
    RULE,
    RowRule,
    failing,
    flag_first_failure,
    is_json_container,
    metadata_columns,
    passing,
)


def _rules() -> list[RowRule]:
    return [
        RowRule("negative", F.col("x") < 0, "x is negative"),
        RowRule("over_ten", F.col("x") > 10, "x is over 10"),
        RowRule("odd", F.col("x") % 2 == 1, "x is odd"),
    ]


def test_first_failing_rule_in_declaration_order(spark: SparkSession) -> None:
    rows = spark.createDataFrame([(1, 4), (2, -4), (3, 11), (4, 3), (5, None), (6, 10)], "id int, x int")
    flagged = flag_first_failure(rows, _rules())
    expected = spark.createDataFrame(
        [
            (1, 4, None, None),
            (2, -4, "negative", "x is negative"),
            (3, 11, "over_ten", "x is over 10"),  # also odd: over_ten is declared first
            (4, 3, "odd", "x is odd"),
            (5, None, None, None),  # a rule whose condition is null does not fail
            (6, 10, None, None),  # the edge of over_ten
        ],
        "id int, x int, _rule string, _reason string",
    )
    assertDataFrameEqual(flagged, expected)
    assert (RULE, REASON) == ("_rule", "_reason")
    assertDataFrameEqual(passing(flagged), spark.createDataFrame([(1, 4), (5, None), (6, 10)], "id int, x int"))
    assertDataFrameEqual(failing(flagged), expected.filter("_rule IS NOT NULL"))


def test_order_of_declaration_decides(spark: SparkSession) -> None:
    rows = spark.createDataFrame([(11,)], "x int")
    assert flag_first_failure(rows, list(reversed(_rules()))).select(RULE).first() == ("odd",)


def test_no_rules_no_failures(spark: SparkSession) -> None:
    flagged = flag_first_failure(spark.createDataFrame([(1,)], "x int"), [])
    assert flagged.collect() == [(1, None, None)]


def test_metadata_columns(spark: SparkSession) -> None:
    frame = spark.createDataFrame([], "a string, _corrupt_record string, b_ string, _ingest_seq long")
    assert metadata_columns(frame) == ["_corrupt_record", "_ingest_seq"]


def test_is_json_container(spark: SparkSession) -> None:
    cases = [
        ('{"id": 5}', True),
        (' [1, "a"] ', True),
        ("{}", True),
        ("[]", True),
        ("[A1]", False),  # bracketed but not JSON: an identifier
        ('{"id": 5', False),
        ("5", False),
        ('"x"', False),
        ("", False),
        (None, False),
    ]
    texts = spark.createDataFrame([(text,) for text, _ in cases], "t string")
    expected = spark.createDataFrame(cases, "t string, container boolean")
    assertDataFrameEqual(texts.select("t", is_json_container(F.col("t")).alias("container")), expected)
