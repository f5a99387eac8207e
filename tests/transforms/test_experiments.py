"""transforms.experiments: the silver catalogue, first exposures, and per-variant sums.

One small world serves the exposure and outcome tests. Hand-derived truth (UTC):

- u1: exposed to exp_a as treatment at 10-02 01:30 (an offset timestamp of local 10-01), later seen
  as control (first exposure wins); exposed to exp_b as grid at 10-02 08:00 (a user in two
  experiments); purchases order o1 twice (double-fired event: counted once); o1 = 2 x 10 + 1 x 5 x 0.9
  = 24.5 (its returned line does not count).
- u2: control in exp_a from 10-02 22:30 (local 10-03 00:30+02:00); purchased before exposure and after
  the window: no conversion.
- u3: seen before the window (no exposure), exposed as control at 10-03 10:00, buys o4: 3 x 7 = 21
  (a cancelled line and a line dated after the window are left out).
- u4: treatment from 10-03 23:00 (local 10-04 01:00+02:00, still inside the window); purchase on 10-04
  is outside exp_a's window.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from tests.frames import EXPERIMENT_COLUMNS, bronze, silver_events, silver_experiments, silver_order_lines
from transforms.experiments import (
    EXPOSURES_SCHEMA,
    experiment_exposures,
    experiment_rules,
    exposed_user_outcomes,
    exposure_events,
    to_silver_experiments,
    typed_experiments,
    variant_summary,
)
from transforms.latest import latest_per_key
from transforms.rules import RULE, failing, flag_first_failure, passing

EXP_A = {
    "experiment_id": "exp_a",
    "name": "Checkout",
    "variants": ["control", "treatment"],
    "allocation": {"control": 0.5, "treatment": 0.5},
    "start_date": "2026-10-02",
    "end_date": "2026-10-03",
}
EXP_B = {
    "experiment_id": "exp_b",
    "name": "Layout",
    "variants": ["control", "grid"],
    "allocation": {"control": 0.8, "grid": 0.2},
    "start_date": "2026-10-02",
    "end_date": "2026-10-04",
}


def test_catalogue_rules_and_latest_copy(spark: SparkSession) -> None:
    records = [
        EXP_A,
        {**EXP_A, "experiment_id": " "},
        {**EXP_A, "experiment_id": "bad_start", "start_date": "2026/10/02"},
        {**EXP_A, "experiment_id": "bad_end", "end_date": "soon"},
        {**EXP_A, "experiment_id": "empty", "variants": []},
        {**EXP_A, "experiment_id": "not_a_list", "variants": "control"},
        {**EXP_A, "experiment_id": "keys", "allocation": {"control": 0.5, "treat": 0.5}},
        {**EXP_A, "experiment_id": "text_share", "allocation": '{"control": "0.5", "treatment": 0.5}'},
        {**EXP_A, "experiment_id": "negative", "allocation": {"control": 1.5, "treatment": -0.5}},
        {**EXP_A, "experiment_id": "twice", "variants": ["control", "control"], "allocation": {"control": 1}},
        # A later file renames exp_a: the latest ingested copy wins.
        {**EXP_A, "name": "One-click checkout", "_ingest_file": "landing/file-2"},
        EXP_B,
    ]
    flagged = flag_first_failure(typed_experiments(bronze(spark, EXPERIMENT_COLUMNS, records)), experiment_rules())
    reasons = spark.createDataFrame(
        [
            (None, "missing_experiment_id"),
            ("bad_start", "unparseable_start_date"),
            ("bad_end", "unparseable_end_date"),
            ("empty", "no_variants"),
            ("not_a_list", "no_variants"),
            ("keys", "allocation_mismatch"),
            ("text_share", "allocation_mismatch"),
            ("negative", "allocation_mismatch"),
            ("twice", "allocation_mismatch"),
        ],
        "experiment_id string, _rule string",
    )
    assertDataFrameEqual(failing(flagged).select("experiment_id", RULE), reasons)
    silver = latest_per_key(to_silver_experiments(passing(flagged)), ["experiment_id"])
    expected = spark.createDataFrame(
        [
            (
                "exp_a",
                "One-click checkout",
                ["control", "treatment"],
                {"control": 0.5, "treatment": 0.5},
                dt.date(2026, 10, 2),
                dt.date(2026, 10, 3),
            ),
            (
                "exp_b",
                "Layout",
                ["control", "grid"],
                {"control": 0.8, "grid": 0.2},
                dt.date(2026, 10, 2),
                dt.date(2026, 10, 4),
            ),
        ],
        "experiment_id string, name string, variants array<string>, allocation map<string,double>, "
        "start_date date, end_date date",
    )
    # Maps compare as sorted entries: their key order is not part of the value.
    sorted_allocation = F.array_sort(F.map_entries("allocation")).alias("allocation")
    assertDataFrameEqual(
        silver.select("experiment_id", "name", "variants", sorted_allocation, "start_date", "end_date"),
        expected.withColumn("allocation", sorted_allocation),
    )


@pytest.fixture(scope="module")
def world(spark: SparkSession) -> dict[str, DataFrame]:
    def event(
        event_id: str,
        ts: str,
        user: str,
        event_type: str = "page_view",
        order_id: str | None = None,
        experiments: dict[str, str] | None = None,
    ) -> dict[str, object]:
        return {
            "event_id": event_id,
            "event_ts": ts,
            "user_id": user,
            "session_id": f"s-{user}",
            "event_type": event_type,
            "order_id": order_id,
            "experiments": experiments or {},
            "product_id": "p1" if order_id else None,
        }

    events = silver_events(
        spark,
        [
            event("e01", "2026-10-01T23:30:00-02:00", "u1", experiments={"exp_a": "treatment"}),
            event("e02", "2026-10-02T08:00:00Z", "u1", experiments={"exp_a": "control", "exp_b": "grid"}),
            event("e03", "2026-10-02T09:00:00Z", "u1", "purchase", "o1"),
            event("e04", "2026-10-02T09:00:02Z", "u1", "purchase", "o1"),
            event("e05", "2026-10-03T00:30:00+02:00", "u2", experiments={"exp_a": "control"}),
            event("e06", "2026-10-02T20:00:00Z", "u2", "purchase", "o2"),
            event("e07", "2026-10-04T10:00:00Z", "u2", "purchase", "o3"),
            event("e08", "2026-10-01T12:00:00Z", "u3", experiments={"exp_a": "control"}),
            event("e09", "2026-10-03T10:00:00Z", "u3", experiments={"exp_a": "control"}),
            event("e10", "2026-10-03T11:00:00Z", "u3", "purchase", "o4"),
            event("e11", "2026-10-04T01:00:00+02:00", "u4", experiments={"exp_a": "treatment"}),
            event("e12", "2026-10-04T00:30:00+00:00", "u4", "purchase", "o5"),
            event("e13", "2026-10-05T00:00:00Z", "u4", experiments={"exp_a": "control"}),
        ],
    )
    order_lines = silver_order_lines(
        spark,
        [
            {
                "order_id": "o1",
                "line_no": "1",
                "order_ts": "2026-10-02 09:00:00",
                "customer_id": "u1",
                "product_id": "p1",
                "quantity": "2",
                "unit_price": "10.00",
            },
            {
                "order_id": "o1",
                "line_no": "2",
                "order_ts": "2026-10-02 09:00:00",
                "customer_id": "u1",
                "product_id": "p2",
                "quantity": "1",
                "unit_price": "5.00",
                "discount": "0.1",
            },
            {
                "order_id": "o1",
                "line_no": "3",
                "order_ts": "2026-10-02 09:00:00",
                "customer_id": "u1",
                "product_id": "p3",
                "quantity": "1",
                "unit_price": "100.00",
                "status": "returned",
            },
            {
                "order_id": "o2",
                "order_ts": "2026-10-02 20:00:00",
                "customer_id": "u2",
                "product_id": "p1",
                "unit_price": "50.00",
            },
            {
                "order_id": "o3",
                "order_ts": "2026-10-04 10:00:00",
                "customer_id": "u2",
                "product_id": "p1",
                "unit_price": "30.00",
            },
            {
                "order_id": "o4",
                "line_no": "1",
                "order_ts": "2026-10-03T13:00:00+02:00",
                "customer_id": "u3",
                "product_id": "p1",
                "quantity": "3",
                "unit_price": "7.00",
            },
            {
                "order_id": "o4",
                "line_no": "2",
                "order_ts": "2026-10-03T13:00:00+02:00",
                "customer_id": "u3",
                "product_id": "p2",
                "unit_price": "99.00",
                "status": "cancelled",
            },
            {
                "order_id": "o4",
                "line_no": "3",
                "order_ts": "2026-10-04T00:10:00Z",
                "customer_id": "u3",
                "product_id": "p2",
                "unit_price": "1000.00",
            },
            {
                "order_id": "o5",
                "order_ts": "2026-10-04 00:30:00",
                "customer_id": "u4",
                "product_id": "p1",
                "unit_price": "40.00",
            },
        ],
    )
    return {"events": events, "experiments": silver_experiments(spark, [EXP_A, EXP_B]), "order_lines": order_lines}


def test_first_exposure_wins(spark: SparkSession, world: dict[str, DataFrame]) -> None:
    actual = experiment_exposures(world["events"], world["experiments"])
    at = dt.datetime
    expected = spark.createDataFrame(
        [
            ("u1", "exp_a", "treatment", at(2026, 10, 2, 1, 30), dt.date(2026, 10, 2), 2),
            ("u1", "exp_b", "grid", at(2026, 10, 2, 8, 0), dt.date(2026, 10, 2), 1),
            ("u2", "exp_a", "control", at(2026, 10, 2, 22, 30), dt.date(2026, 10, 2), 1),
            ("u3", "exp_a", "control", at(2026, 10, 3, 10, 0), dt.date(2026, 10, 3), 1),
            ("u4", "exp_a", "treatment", at(2026, 10, 3, 23, 0), dt.date(2026, 10, 3), 1),
        ],
        EXPOSURES_SCHEMA,
    )
    assertDataFrameEqual(actual, expected)
    # Eight in-window exposure events (e01, e02 twice, e05, e09, e11) collapse to five rows.
    assert exposure_events(world["events"], world["experiments"]).count() == 6


def test_outcomes_per_exposed_user(spark: SparkSession, world: dict[str, DataFrame]) -> None:
    exposures = experiment_exposures(world["events"], world["experiments"])
    actual = exposed_user_outcomes(exposures, world["experiments"], world["events"], world["order_lines"])
    expected = spark.createDataFrame(
        [
            ("exp_a", "treatment", "u1", True, Decimal("24.5")),
            ("exp_b", "grid", "u1", True, Decimal("24.5")),
            ("exp_a", "control", "u2", False, Decimal(0)),
            ("exp_a", "control", "u3", True, Decimal(21)),
            ("exp_a", "treatment", "u4", False, Decimal(0)),
        ],
        "experiment_id string, variant string, user_id string, converted boolean, revenue decimal(38,8)",
    )
    assertDataFrameEqual(actual, expected)


def test_variant_summary(spark: SparkSession, world: dict[str, DataFrame]) -> None:
    exposures = experiment_exposures(world["events"], world["experiments"])
    outcomes = exposed_user_outcomes(exposures, world["experiments"], world["events"], world["order_lines"])
    actual = variant_summary(outcomes, world["experiments"])
    schema = T.StructType(
        [
            T.StructField("experiment_id", T.StringType()),
            T.StructField("variant_index", T.IntegerType()),
            T.StructField("variant", T.StringType()),
            T.StructField("allocation_share", T.DoubleType()),
            T.StructField("users", T.LongType()),
            T.StructField("converters", T.LongType()),
            T.StructField("conversion_rate", T.DoubleType()),
            T.StructField("revenue", T.DecimalType(38, 6)),
            T.StructField("revenue_per_user", T.DecimalType(38, 6)),
            T.StructField("revenue_mean", T.DoubleType()),
            T.StructField("revenue_std", T.DoubleType()),
        ]
    )
    expected = spark.createDataFrame(
        [
            ("exp_a", 0, "control", 0.5, 2, 1, 0.5, Decimal(21), Decimal("10.5"), 10.5, statistics.stdev([0, 21])),
            (
                "exp_a",
                1,
                "treatment",
                0.5,
                2,
                1,
                0.5,
                Decimal("24.5"),
                Decimal("12.25"),
                12.25,
                statistics.stdev([24.5, 0]),
            ),
            # Nobody saw exp_b's control: the row exists, its ratios are null.
            ("exp_b", 0, "control", 0.8, 0, 0, None, Decimal(0), None, None, None),
            ("exp_b", 1, "grid", 0.2, 1, 1, 1.0, Decimal("24.5"), Decimal("24.5"), 24.5, None),
        ],
        schema,
    )
    assertDataFrameEqual(actual, expected, checkRowOrder=True)
    assert math.isclose(statistics.stdev([0, 21]), 21 / math.sqrt(2))
