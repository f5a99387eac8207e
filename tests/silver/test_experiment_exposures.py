"""silver.experiment_exposures: the derived build (first exposure, ledger of collapsed exposures) and suite."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from silver import experiment_exposures
from tests.frames import declared, failed_checks, silver_events, silver_experiments

EXP = {
    "experiment_id": "exp_a",
    "name": "Checkout",
    "variants": ["control", "treatment"],
    "allocation": {"control": 0.5, "treatment": 0.5},
    "start_date": "2026-10-02",
    "end_date": "2026-10-03",
}


def test_build_counts_collapsed_exposures(spark: SparkSession) -> None:
    def event(n: int, ts: str, user: str, variant: str) -> dict[str, object]:
        return {
            "event_id": f"e{n}",
            "event_ts": ts,
            "user_id": user,
            "session_id": f"s{n}",
            "experiments": {"exp_a": variant},
        }

    events = silver_events(
        spark,
        [
            event(1, "2026-10-02T10:00:00Z", "u1", "treatment"),
            event(2, "2026-10-02T09:00:00Z", "u1", "control"),  # earlier, though ingested later: control wins
            event(3, "2026-10-03T10:00:00Z", "u2", "control"),
            event(4, "2026-10-04T00:00:00+01:00", "u3", "treatment"),  # UTC 10-03 23:00: inside the window
            event(5, "2026-10-04T00:00:00Z", "u4", "treatment"),  # after the window
        ],
    )
    output = experiment_exposures.build(
        {"silver.events": events, "silver.experiments": silver_experiments(spark, [EXP])}
    )
    assert output.ledger is not None and output.ledger.balanced
    assert (output.ledger.rows_in, output.ledger.rows_out, output.ledger.deduplicated) == (4, 3, 1)
    assert output.data is not None
    expected = spark.createDataFrame(
        [
            ("u1", "control", dt.datetime(2026, 10, 2, 9), 2),
            ("u2", "control", dt.datetime(2026, 10, 3, 10), 1),
            ("u3", "treatment", dt.datetime(2026, 10, 3, 23), 1),
        ],
        "user_id string, variant string, first_exposure_ts timestamp, variants_seen long",
    )
    assertDataFrameEqual(output.data.select("user_id", "variant", "first_exposure_ts", "variants_seen"), expected)


def test_suite_catches_a_user_counted_twice(spark: SparkSession) -> None:
    at = dt.datetime(2026, 10, 2, 9)
    bad = spark.createDataFrame(
        [
            ("u1", "exp_a", "control", at, at.date(), 1),
            ("u1", "exp_a", "treatment", at, at.date(), 2),
            ("u2", "exp_a", None, at, at.date(), 1),
        ],
        "user_id string, experiment_id string, variant string, first_exposure_ts timestamp, "
        "first_exposure_date date, variants_seen long",
    )
    table = declared("silver.experiment_exposures")
    assert failed_checks(table, bad) == {
        ("expect_compound_columns_to_be_unique", "user_id,experiment_id", "critical"),
        ("expect_column_values_to_not_be_null", "variant", "critical"),
        ("expect_column_values_to_be_between", "variants_seen", "warn"),
    }
