"""transforms.experiment_metrics: per-user experiment metrics and their additive daily sums.

A small world for exp_a (window 2026-10-02..10-03, UTC), truth derived by hand:

- u1, treatment, first exposed 10-02 10:00 (session s1). Before: a purchase on 09-28 (order p1,
  1 x 10) inside the 7 days before exposure, and one on 09-20 (order p0) outside them. After: a
  page view at 10:05 (s1), a purchase of order a1 (1 x 20) at 10:10 (s1), a page view on 10-03 (s2).
  -> converted 1, orders 1, revenue 20, page_views 3 (the exposure event is a page view),
     sessions 2; converted_pre 1, orders_pre 1, revenue_pre 10.
- u2, control, first exposed 10-02 09:00 (s3); a purchase on 10-04 is after the window.
  -> converted 0, orders 0, revenue 0, page_views 1, sessions 1, no pre-period activity.
- u3, control, first exposed 10-03 08:00 (s5). Before: a purchase on 10-02 07:00 (order p2,
  2 x 15 = 30). After: order a2 at 09:00, fired twice, one sale line 1 x 40 and a cancelled line.
  -> converted 1, orders 1, revenue 40, page_views 1, sessions 1; pre 1 / 1 / 30.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import DataFrame, SparkSession

from tests.frames import order_line, silver_events, silver_experiments, silver_order_lines
from tests.transforms.test_experiments import EXP_A  # the same window: 2026-10-02..10-03
from transforms.experiment_metrics import METRICS, USER_COLUMNS, daily_sums, metric, user_metrics
from transforms.experiments import experiment_exposures


def _event(
    event_id: str, ts: str, user: str, session: str, event_type: str = "page_view", order_id: str | None = None
) -> dict[str, object]:
    return {
        "event_id": event_id,
        "event_ts": ts,
        "user_id": user,
        "session_id": session,
        "event_type": event_type,
        "order_id": order_id,
        "product_id": "p1" if order_id else None,
    }


@pytest.fixture(scope="module")
def users(spark: SparkSession) -> DataFrame:
    exposed = {"experiments": {"exp_a": "treatment"}}
    control = {"experiments": {"exp_a": "control"}}
    events = silver_events(
        spark,
        [
            _event("e01", "2026-09-20T10:00:00Z", "u1", "s0", "purchase", "p0"),
            _event("e02", "2026-09-28T10:00:00Z", "u1", "s0", "purchase", "p1"),
            {**_event("e03", "2026-10-02T10:00:00Z", "u1", "s1"), **exposed},
            _event("e04", "2026-10-02T10:05:00Z", "u1", "s1"),
            _event("e05", "2026-10-02T10:10:00Z", "u1", "s1", "purchase", "a1"),
            _event("e06", "2026-10-03T12:00:00Z", "u1", "s2"),
            {**_event("e07", "2026-10-02T09:00:00Z", "u2", "s3"), **control},
            _event("e08", "2026-10-04T09:00:00Z", "u2", "s4", "purchase", "a3"),
            _event("e09", "2026-10-02T07:00:00Z", "u3", "s6", "purchase", "p2"),
            {**_event("e10", "2026-10-03T08:00:00Z", "u3", "s5"), **control},
            _event("e11", "2026-10-03T09:00:00Z", "u3", "s5", "purchase", "a2"),
            _event("e12", "2026-10-03T09:00:02Z", "u3", "s5", "purchase", "a2"),
        ],
    )
    lines = silver_order_lines(
        spark,
        [
            order_line("p0", "2026-09-20 10:00:00", "c", "1", "99.00", line_no="1"),
            order_line("p1", "2026-09-28 10:00:00", "c", "1", "10.00", line_no="1"),
            order_line("a1", "2026-10-02 10:10:00", "c", "1", "20.00", line_no="1"),
            order_line("a3", "2026-10-04 09:00:00", "c", "1", "55.00", line_no="1"),
            order_line("p2", "2026-10-02 07:00:00", "c", "2", "15.00", line_no="1"),
            order_line("a2", "2026-10-03 09:00:00", "c", "1", "40.00", line_no="1"),
            order_line("a2", "2026-10-03 09:00:00", "c", "1", "100.00", line_no="2", status="cancelled"),
        ],
    )
    experiments = silver_experiments(spark, [EXP_A])
    return user_metrics(experiment_exposures(events, experiments), experiments, events, lines).cache()


def test_user_metrics_after_and_before_exposure(users: DataFrame) -> None:
    got = {r.user_id: (r.variant, r.date, *(r[c] for c in USER_COLUMNS)) for r in users.orderBy("user_id").collect()}
    d = Decimal
    assert got == {
        # variant, date, converted, orders, revenue, page_views, sessions, converted_pre, orders_pre, revenue_pre
        "u1": ("treatment", dt.date(2026, 10, 2), d(1), d(1), d(20), d(3), d(2), d(1), d(1), d(10)),
        "u2": ("control", dt.date(2026, 10, 2), d(0), d(0), d(0), d(1), d(1), d(0), d(0), d(0)),
        "u3": ("control", dt.date(2026, 10, 3), d(1), d(1), d(40), d(1), d(1), d(1), d(1), d(30)),
    }


def test_daily_sums_per_metric_variant_and_date(users: DataFrame) -> None:
    rows = daily_sums(users).collect()
    assert len(rows) == 3 * len(METRICS)  # (treatment, 10-02), (control, 10-02), (control, 10-03)
    got = {(r.metric, r.variant, r.date): r for r in rows}

    def sums(name: str, variant: str, day: int) -> tuple[object, ...]:
        r = got[(name, variant, dt.date(2026, 10, day))]
        return (r.n, r.sum_y, r.sum_y2, r.sum_d, r.sum_d2, r.sum_yd, r.sum_x, r.sum_x2, r.sum_xy)

    assert sums("conversion", "treatment", 2) == (1, 1.0, 1.0, None, None, None, 1.0, 1.0, 1.0)
    assert sums("revenue_per_user", "treatment", 2) == (1, 20.0, 400.0, None, None, None, 10.0, 100.0, 200.0)
    assert sums("revenue_per_user", "control", 3) == (1, 40.0, 1600.0, None, None, None, 30.0, 900.0, 1200.0)
    assert sums("orders_per_user", "control", 2) == (1, 0.0, 0.0, None, None, None, 0.0, 0.0, 0.0)
    # Ratio metrics carry their denominator's sums and no covariate.
    assert sums("aov", "treatment", 2) == (1, 20.0, 400.0, 1.0, 1.0, 20.0, None, None, None)
    assert sums("page_views_per_session", "treatment", 2) == (1, 3.0, 9.0, 2.0, 4.0, 6.0, None, None, None)
    assert sums("page_views_per_session", "control", 2) == (1, 1.0, 1.0, 1.0, 1.0, 1.0, None, None, None)


def test_metrics_are_declared_once_with_a_role_each() -> None:
    assert [m.name for m in METRICS] == [
        "conversion",
        "revenue_per_user",
        "orders_per_user",
        "aov",
        "page_views_per_session",
    ]
    assert {m.role for m in METRICS} == {"goal", "secondary", "guardrail"}
    assert metric("aov").kind == "ratio" and metric("conversion").kind == "mean"
    assert all((m.role == "guardrail") == (m.margin is not None) for m in METRICS)
    with pytest.raises(KeyError, match="no experiment metric"):
        metric("nope")
