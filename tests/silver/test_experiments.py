"""silver.experiments: the declaration's build (quarantine with reasons, ledger) and its suite."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from tests.frames import EXPERIMENT_COLUMNS, bronze, build_declared, declared, failed_checks
from transforms.latest import LATER_INGESTED_WINS

GOOD = {
    "experiment_id": "exp_a",
    "name": "Checkout",
    "variants": ["control", "treatment"],
    "allocation": {"control": 0.5, "treatment": 0.5},
    "start_date": "2026-10-02",
    "end_date": "2026-10-12",
}


def test_build_quarantines_with_reasons(spark: SparkSession) -> None:
    records = [
        GOOD,
        {**GOOD, "experiment_id": "exp_b", "allocation": {"control": 0.5, "grid": 0.5}},
        {**GOOD, "experiment_id": "exp_c", "variants": None},
        {"_corrupt_record": "invalid JSON (Expecting value): b'{'"},
    ]
    output = build_declared(
        "silver.experiments", {"bronze.experiments": bronze(spark, EXPERIMENT_COLUMNS, records, source="experiments")}
    )
    assert output.ledger is not None and output.ledger.balanced
    assert output.ledger.by_rule == {"allocation_mismatch": 1, "no_variants": 1, "unreadable_record": 1}
    assert output.data is not None and output.quarantine is not None
    [row] = output.data.collect()
    assert (row.experiment_id, row.variants, row.allocation, row.start_date) == (
        "exp_a",
        ["control", "treatment"],
        {"control": 0.5, "treatment": 0.5},
        dt.date(2026, 10, 2),
    )
    reasons = {r._rule: r._reason for r in output.quarantine.collect()}
    assert reasons["allocation_mismatch"].startswith("allocation keys do not match the variants")
    assert declared("silver.experiments").merge_condition == LATER_INGESTED_WINS


def test_suite_catches_duplicates_and_missing_dates(spark: SparkSession) -> None:
    day = dt.date(2026, 10, 2)
    bad = spark.createDataFrame(
        [
            ("exp_a", ["control"], {"control": 1.0}, day, day),
            ("exp_a", ["control"], {"control": 1.0}, None, day),
            ("exp_b", ["control"], {"control": 1.0}, day, day - dt.timedelta(days=1)),
        ],
        "experiment_id string, variants array<string>, allocation map<string,double>, start_date date, end_date date",
    )
    failed = failed_checks(declared("silver.experiments"), bad)
    assert failed == {
        ("expect_column_values_to_be_unique", "experiment_id", "critical"),
        ("expect_column_values_to_not_be_null", "start_date", "critical"),
        ("expect_column_pair_values_a_to_be_greater_than_b", None, "warn"),
    }
