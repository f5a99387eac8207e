"""Every silver quarantine rule: a row that breaks exactly that rule, and a row at its edge that passes.

Each case is a valid base record of its source with a few fields changed. The expected rule
and reason are written out here, from METRICS.md's silver rules and the declared reasons, so a
rule whose condition, name, reason or position changes fails its own case. Besides the reported
(first) rule, each case states the full set of rules the row breaks, so a "fails" row is known
to fail that rule alone (or, for the rows built to break two, which one wins).

All rows of one source are flagged in one frame and collected once (``outcomes``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.contract import EVENT_COLUMNS, ORDER_COLUMNS
from tests.frames import EXPERIMENT_COLUMNS, INGESTED_AT, PRODUCT_COLUMNS, STOCK_COLUMNS, bronze
from transforms.events import event_rules, typed_events
from transforms.experiments import experiment_rules, typed_experiments
from transforms.orders import order_line_rules, typed_order_lines
from transforms.products import product_rules, typed_products
from transforms.rules import INVALID_UTF8_PREFIX, REASON, RULE, RowRule, flag_first_failure
from transforms.stock import stock_rules, typed_stock


@dataclass(frozen=True)
class Source:
    columns: Sequence[str]
    base: dict[str, Any]
    typed: Callable[[DataFrame], DataFrame]
    rules: Callable[[], list[RowRule]]


SOURCES: dict[str, Source] = {
    "events": Source(
        EVENT_COLUMNS,
        {
            "event_id": "e1",
            "event_ts": "2026-10-01T10:00:00Z",
            "user_id": "u1",
            "session_id": "s1",
            "event_type": "product_view",
            "product_id": "p1",
            "order_id": None,
            "device": "mobile",
            "country": "US",
            "experiments": {"exp": "a"},
            "properties": {},
        },
        typed_events,
        lambda: event_rules(24),
    ),
    "order_lines": Source(
        ORDER_COLUMNS,
        {
            "order_id": "o1",
            "line_no": "1",
            "order_ts": "2026-10-01 10:00:00",
            "customer_id": "u1",
            "product_id": "p1",
            "quantity": "2",
            "unit_price": "10.00",
            "discount": "",
            "status": "paid",
            "country": "US",
        },
        typed_order_lines,
        order_line_rules,
    ),
    "products": Source(
        PRODUCT_COLUMNS,
        {"product_id": "p1", "name": "Lamp", "category": "home", "brand": "Acme", "list_price": "10.50", "cost": "4"},
        typed_products,
        product_rules,
    ),
    "stock": Source(
        STOCK_COLUMNS,
        {
            "snapshot_date": "2026-10-01",
            "product_id": "p1",
            "warehouse": "north",
            "on_hand": "41",
            "reorder_point": "10",
        },
        typed_stock,
        stock_rules,
    ),
    "experiments": Source(
        EXPERIMENT_COLUMNS,
        {
            "experiment_id": "exp_a",
            "name": "Checkout",
            "variants": ["control", "treatment"],
            "allocation": {"control": 0.5, "treatment": 0.5},
            "start_date": "2026-10-02",
            "end_date": "2026-10-03",
        },
        typed_experiments,
        experiment_rules,
    ),
}


@dataclass(frozen=True)
class Case:
    """One row: the base record of ``source`` with ``changes``, and what the rules must say of it."""

    source: str
    label: str
    about: str  # the rule the case is written for
    changes: dict[str, Any]
    rule: str | None = None  # the reported (first) rule; None: the row passes
    reason: str | None = None
    broken: frozenset[str] = field(default=frozenset())  # every rule the row breaks

    @property
    def id(self) -> str:
        return f"{self.source}-{self.label}"


def fails(
    source: str, rule: str, reason: str, changes: dict[str, Any], label: str = "", also: Sequence[str] = ()
) -> Case:
    """A row that breaks ``rule`` (and only it, unless ``also`` names rules declared after it)."""
    return Case(source, f"{rule}-fails{label}", rule, changes, rule, reason, frozenset({rule, *also}))


def passes(source: str, rule: str, changes: dict[str, Any], label: str = "") -> Case:
    """A row at the edge of ``rule`` that breaks no rule at all."""
    return Case(source, f"{rule}-edge-passes{label}", rule, changes)


def first_of_many(
    source: str, label: str, changes: dict[str, Any], rule: str, reason: str, others: Sequence[str]
) -> Case:
    """A row that breaks ``rule`` and ``others``, all declared after it: ``rule`` is reported."""
    return Case(source, label, rule, changes, rule, reason, frozenset({rule, *others}))


def not_scalar(name: str) -> str:
    return f"{name} is a JSON object or array; identifiers are non-empty strings or numbers"


EVENT_TYPES_REASON = (
    "event_type is not one of page_view, product_view, add_to_cart, remove_from_cart, begin_checkout, purchase, search"
)

RULE_CASES: list[Case] = [
    # --- events (METRICS.md: no event_id, no user_id, unparseable event_ts, unknown event_type, > 1 day late)
    fails(
        "events",
        "invalid_utf8",
        "line is not valid UTF-8; its raw bytes are kept base64-encoded in _corrupt_record",
        {"_corrupt_record": INVALID_UTF8_PREFIX + "eyJ1c2VyX2lkIjogImNhZukifQo="},
        also=["malformed_json"],  # any corrupt record is malformed too; invalid_utf8 is declared first
    ),
    # A line with valid non-ASCII UTF-8 is an ordinary row.
    passes("events", "invalid_utf8", {"user_id": "café", "country": "Curaçao"}),
    fails(
        "events", "malformed_json", "line is not a valid JSON object", {"_corrupt_record": '{"event_id": "e1", "user'}
    ),
    # Free-form properties may be any JSON, nested included.
    passes("events", "malformed_json", {"properties": {"a": {"b": [1, 2]}}}),
    fails("events", "event_id_not_scalar", not_scalar("event_id"), {"event_id": '{"id": 5}'}),
    passes("events", "event_id_not_scalar", {"event_id": "[A1]"}),  # bracketed, but not JSON: a string id
    fails("events", "user_id_not_scalar", not_scalar("user_id"), {"user_id": ' {"id": 5} '}),
    passes("events", "user_id_not_scalar", {"user_id": "5"}),  # a number is an identifier
    fails("events", "session_id_not_scalar", not_scalar("session_id"), {"session_id": '["s1"]'}),
    passes("events", "session_id_not_scalar", {"session_id": "{s1}"}),
    fails("events", "product_id_not_scalar", not_scalar("product_id"), {"product_id": "[]"}),
    passes("events", "product_id_not_scalar", {"product_id": "[p1"}),
    fails("events", "order_id_not_scalar", not_scalar("order_id"), {"order_id": '{"o": 1}'}),
    passes("events", "order_id_not_scalar", {"order_id": "{o1}"}),
    fails("events", "missing_event_id", "event_id is missing or empty", {"event_id": "   "}),
    passes("events", "missing_event_id", {"event_id": "0"}),
    fails("events", "missing_user_id", "user_id is missing or empty", {"user_id": None}),
    passes("events", "missing_user_id", {"user_id": " u1 "}),
    fails(
        "events",
        "unparseable_event_ts",
        "event_ts is missing or not an ISO-8601 timestamp",
        {"event_ts": "2026-10-01T10"},  # an hour without minutes is no ISO-8601 time
    ),
    fails(
        "events",
        "unparseable_event_ts",
        "event_ts is missing or not an ISO-8601 timestamp",
        {"event_ts": "2026-02-30T10:00:00Z"},  # the right shape, but no such day
        label="-no-such-day",
    ),
    passes("events", "unparseable_event_ts", {"event_ts": "2026-10-01"}),  # a date alone is midnight UTC
    fails("events", "unknown_event_type", EVENT_TYPES_REASON, {"event_type": "teleport"}),
    fails("events", "unknown_event_type", EVENT_TYPES_REASON, {"event_type": None}, label="-null"),
    passes("events", "unknown_event_type", {"event_type": " PURCHASE "}),  # case-insensitive, trimmed
    fails(
        "events",
        "event_ts_in_future",
        "event_ts is more than 24 h after ingestion time",
        {"event_ts": "2026-11-02T00:00:00.000001Z"},  # one microsecond over 24 h after INGESTED_AT
    ),
    passes("events", "event_ts_in_future", {"event_ts": "2026-11-02T01:00:00+01:00"}),  # exactly 24 h
    # --- order lines (METRICS.md: no order_id, unparseable order_ts, non-numeric quantity or price,
    # quantity <= 0, unit_price < 0, discount outside 0..1; a malformed CSV row)
    fails(
        "order_lines",
        "malformed_csv_row",
        "row's field count differs from the header",
        {"_corrupt_record": "o1,1,2026-10-01 10:00:00,u1,p1,2,10.00,,paid,US,extra"},
    ),
    passes("order_lines", "malformed_csv_row", {"customer_id": "", "status": ""}),  # a guest line, no status
    fails("order_lines", "missing_order_id", "order_id is missing or empty", {"order_id": ""}),
    passes("order_lines", "missing_order_id", {"order_id": "0"}),
    fails("order_lines", "missing_line_no", "line_no is missing or empty", {"line_no": " "}),
    passes("order_lines", "missing_line_no", {"line_no": "0"}),
    fails(
        "order_lines",
        "unparseable_order_ts",
        "order_ts is missing or not an ISO-8601 timestamp",
        {"order_ts": "2026-10-01T25:00:00Z"},
    ),
    passes("order_lines", "unparseable_order_ts", {"order_ts": "2026-10-01T23:59:59.999999+0530"}),
    fails("order_lines", "non_numeric_quantity", "quantity is missing or not a number", {"quantity": "two"}),
    passes("order_lines", "non_numeric_quantity", {"quantity": " .5 "}),
    fails("order_lines", "non_numeric_unit_price", "unit_price is missing or not a number", {"unit_price": "$10"}),
    passes("order_lines", "non_numeric_unit_price", {"unit_price": "+10."}),
    fails("order_lines", "non_positive_quantity", "quantity is zero or negative", {"quantity": "0"}),
    # A refund written as a negative quantity is not a sale line: quarantined too.
    fails("order_lines", "non_positive_quantity", "quantity is zero or negative", {"quantity": "-1"}, "-refund"),
    passes("order_lines", "non_positive_quantity", {"quantity": "0.0001"}),
    fails("order_lines", "negative_unit_price", "unit_price is negative", {"unit_price": "-0.01"}),
    passes("order_lines", "negative_unit_price", {"unit_price": "0"}),  # a free item
    fails(
        "order_lines",
        "line_amount_out_of_range",
        "quantity x unit_price is 10^22 or more",
        {"quantity": "1000000000", "unit_price": "10000000000000"},
    ),
    passes("order_lines", "line_amount_out_of_range", {"quantity": "99999999", "unit_price": "99999999999999.9999"}),
    fails(
        "order_lines",
        "discount_out_of_range",
        "discount is not a number between 0 and 1",
        {"discount": "1.0001"},
    ),
    fails(
        "order_lines",
        "discount_out_of_range",
        "discount is not a number between 0 and 1",
        {"discount": "-0.1"},
        "-negative",
    ),
    fails(
        "order_lines",
        "discount_out_of_range",
        "discount is not a number between 0 and 1",
        {"discount": "10%"},
        "-not-a-number",
    ),
    passes("order_lines", "discount_out_of_range", {"discount": "1"}),  # 100 % off is still in range
    passes("order_lines", "discount_out_of_range", {"discount": " "}, "-blank-is-0"),
    # --- products
    fails(
        "products",
        "unreadable_record",
        "the workbook or its products sheet could not be read",
        {"_corrupt_record": "File is not a zip file"},
    ),
    passes("products", "unreadable_record", {"name": None, "category": None, "brand": None, "cost": None}),
    fails("products", "missing_product_id", "product_id is missing or empty", {"product_id": "  "}),
    passes("products", "missing_product_id", {"product_id": "0"}),
    fails("products", "non_numeric_list_price", "list_price is missing or not a number", {"list_price": "1,000"}),
    passes("products", "non_numeric_list_price", {"list_price": "0"}),
    # --- stock
    fails(
        "stock",
        "unreadable_record",
        "the workbook or its stock sheet could not be read",
        {"_corrupt_record": "File is not a zip file"},
    ),
    passes("stock", "unreadable_record", {"reorder_point": None}),
    fails(
        "stock",
        "unparseable_snapshot_date",
        "snapshot_date is missing or not an ISO-8601 date",
        {"snapshot_date": "2026-10-1"},
    ),
    passes("stock", "unparseable_snapshot_date", {"snapshot_date": "2026-10-01 00:00:00"}),
    fails("stock", "missing_product_id", "product_id is missing or empty", {"product_id": ""}),
    passes("stock", "missing_product_id", {"product_id": "0"}),
    fails("stock", "missing_warehouse", "warehouse is missing or empty", {"warehouse": None}),
    passes("stock", "missing_warehouse", {"warehouse": " north "}),
    fails("stock", "non_numeric_on_hand", "on_hand is missing or not a whole number", {"on_hand": "41.5"}),
    passes("stock", "non_numeric_on_hand", {"on_hand": "0.0"}),  # a spreadsheet float that is whole
    # --- experiments
    fails(
        "experiments",
        "unreadable_record",
        "the experiments document is not valid JSON objects",
        {"_corrupt_record": '[{"experiment_id": "exp_a",'},
    ),
    passes("experiments", "unreadable_record", {"name": None}),
    fails("experiments", "missing_experiment_id", "experiment_id is missing or empty", {"experiment_id": " "}),
    passes("experiments", "missing_experiment_id", {"experiment_id": "0"}),
    fails(
        "experiments",
        "unparseable_start_date",
        "start_date is missing or not an ISO-8601 date",
        {"start_date": "2026-10-32"},
    ),
    passes("experiments", "unparseable_start_date", {"start_date": "2026-10-02T00:00:00Z"}),
    fails(
        "experiments",
        "unparseable_end_date",
        "end_date is missing or not an ISO-8601 date",
        {"end_date": None},
    ),
    passes("experiments", "unparseable_end_date", {"end_date": "2026-10-02"}),  # a one-day window
    fails(
        "experiments",
        "no_variants",
        "variants is missing, not a JSON list of names, or empty",
        {"variants": [], "allocation": {}},
        also=["allocation_mismatch"],  # an empty allocation sums to 0; no_variants is declared first
    ),
    passes("experiments", "no_variants", {"variants": ["control"], "allocation": {"control": 1}}),
    fails(
        "experiments",
        "allocation_mismatch",
        "allocation keys do not match the variants, or a share is missing, negative or all are 0",
        {"allocation": {"control": 0, "treatment": 0}},
    ),
    fails(
        "experiments",
        "allocation_mismatch",
        "allocation keys do not match the variants, or a share is missing, negative or all are 0",
        {"allocation": {"control": None, "treatment": 1}},
        "-null-share",
    ),
    passes("experiments", "allocation_mismatch", {"allocation": {"control": 0, "treatment": 1}}),  # one share 0
]

# Rows that break several rules: the one declared first is reported.
FIRST_DECLARED_CASES: list[Case] = [
    first_of_many(
        "events",
        "json-before-fields",
        # As Spark reads a line that is no JSON: the text kept, every field null.
        {**dict.fromkeys(EVENT_COLUMNS), "_corrupt_record": "not json at all"},
        "malformed_json",
        "line is not a valid JSON object",
        ["missing_event_id", "missing_user_id", "unparseable_event_ts", "unknown_event_type"],
    ),
    first_of_many(
        "events",
        "event-id-before-user-id",
        {"event_id": "", "user_id": ""},
        "missing_event_id",
        "event_id is missing or empty",
        ["missing_user_id"],
    ),
    first_of_many(
        "order_lines",
        "order-id-before-quantity",
        {"order_id": None, "quantity": "-3"},
        "missing_order_id",
        "order_id is missing or empty",
        ["non_positive_quantity"],
    ),
    first_of_many(
        "order_lines",
        "quantity-before-discount",
        {"quantity": "0", "discount": "2"},
        "non_positive_quantity",
        "quantity is zero or negative",
        ["discount_out_of_range"],
    ),
    first_of_many(
        "products",
        "product-id-before-price",
        {"product_id": "", "list_price": "n/a"},
        "missing_product_id",
        "product_id is missing or empty",
        ["non_numeric_list_price"],
    ),
    first_of_many(
        "stock",
        "date-before-product-id",
        {"snapshot_date": "01/10/2026", "product_id": " "},
        "unparseable_snapshot_date",
        "snapshot_date is missing or not an ISO-8601 date",
        ["missing_product_id"],
    ),
    first_of_many(
        "experiments",
        "id-before-start",
        {"experiment_id": "", "start_date": "tomorrow"},
        "missing_experiment_id",
        "experiment_id is missing or empty",
        ["unparseable_start_date"],
    ),
]

ALL_CASES = [*RULE_CASES, *FIRST_DECLARED_CASES]

Outcome = tuple[str | None, str | None, frozenset[str]]


def _flag(spark: SparkSession, name: str, cases: list[Case]) -> dict[str, Outcome]:
    """(reported rule, reason, every rule broken) per case id, from one flagged frame of ``name``'s rows."""
    source = SOURCES[name]
    records = [{**source.base, **case.changes, "_ingest_file": case.id} for case in cases]
    rules = source.rules()
    broken = F.array_compact(F.array(*[F.when(F.coalesce(r.fails, F.lit(False)), F.lit(r.name)) for r in rules]))
    flagged = flag_first_failure(source.typed(bronze(spark, source.columns, records)), rules)
    rows = flagged.select("_ingest_file", RULE, REASON, broken.alias("broken")).collect()
    return {r["_ingest_file"]: (r[RULE], r[REASON], frozenset(r["broken"])) for r in rows}


@pytest.fixture(scope="module")
def outcomes(spark: SparkSession) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    for name in SOURCES:
        found.update(_flag(spark, name, [case for case in ALL_CASES if case.source == name]))
    return found


def test_late_event_edge_is_a_day_after_ingestion() -> None:
    assert INGESTED_AT.isoformat() == "2026-11-01T00:00:00"  # the event_ts_in_future cases are written from it


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in ALL_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_declared_rule_has_a_failing_and_a_passing_case(spark: SparkSession, name: str) -> None:
    declared = [rule.name for rule in SOURCES[name].rules()]
    assert len(declared) == len(set(declared)), "rule names must be unique within a table"
    failing = {case.about for case in RULE_CASES if case.source == name and case.rule}
    edges = {case.about for case in RULE_CASES if case.source == name and not case.rule}
    assert failing == set(declared)
    assert edges == set(declared)


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda case: case.id)
def test_rule(outcomes: dict[str, Outcome], case: Case) -> None:
    rule, reason, broken = outcomes[case.id]
    assert (rule, reason) == (case.rule, case.reason)
    assert broken == case.broken


@pytest.mark.parametrize("case", FIRST_DECLARED_CASES, ids=lambda case: case.id)
def test_first_declared_rule_is_reported(outcomes: dict[str, Outcome], case: Case) -> None:
    rule, reason, broken = outcomes[case.id]
    assert broken == case.broken
    assert (rule, reason) == (case.rule, case.reason)
