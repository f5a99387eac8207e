"""A small lakehouse with known numbers, written with delta-rs (test-only: the pipeline writes with Spark).

The schemas follow the gold contract (METRICS.md) and the ops/quarantine tables the
runner writes. Numbers are chosen so the dashboard's headline values can be worked
out by hand; ``EXPECTED`` holds them as the pages must display them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import CommitProperties, write_deltalake

from transforms.experiment_report import METRIC_NUMBERS, SEQUENTIAL_NUMBERS

DAYS = 20
FIRST_DAY = dt.date(2026, 10, 1)
DATES = [FIRST_DAY + dt.timedelta(days=i) for i in range(DAYS)]
LAST_DAY = DATES[-1]
RUN_OLD, RUN_NEW = "20261020T010000-aaaaaa", "20261021T010000-bbbbbb"
NOW = dt.datetime(2026, 10, 21, 1, 0, tzinfo=dt.UTC)

MONEY = pa.decimal128(38, 6)
UNITS = pa.decimal128(38, 4)

# What the pages must show for this fixture (worked out by hand in the comments). KPI tiles show
# numbers of 1,000 and more compactly (21.9k); the exact value is in the tile's tooltip ("*_exact").
EXPECTED = {
    # daily revenue 1000.25 + 10 i, i = 0..19: 20 x 1000.25 + 10 x 190
    "revenue": "21.9k",
    "revenue_exact": "21,905.00",
    "orders": "400",
    # 21905 / 400 = 54.7625
    "aov": "54.76",
    # mean of 100 + i
    "active_users": "109.5",
    # converting sessions 10 + i of 200 a day: 390 / 4000
    "conversion": "9.75%",
    # last 7 days (i = 13..19) vs the 7 before (i = 6..12)
    "revenue_last7": "8.1k",
    "revenue_last7_exact": "8,121.75",
    "revenue_change_last7": "+6.4%",
    "conversion_last7": "13.00%",
    "conversion_change_last7": "+3.50 pp",
    # P3 sells one 500.00 unit every other day: 10 x 500
    "top_product_revenue": "5.0k",
    "top_product_revenue_exact": "5,000.00",
    "top_product": "Espresso machine",
    "units_on_hand": "130",
    # funnel 'all' rollup, product_view step, 20 days x 220
    "funnel_first_step": "4.4k",
    "funnel_first_step_exact": "4,400",
    # 320 / 4400
    "funnel_overall": "7.27%",
    "experiment_users": "2.0k",
    "experiment_users_exact": "2,000",
    # gold.experiment_metrics (see experiment_metrics below). Holm over checkout_button's four tested
    # metrics: conversion p 0.0353 is the smallest, x 4 = 0.141, so there is no decision
    "decision": (
        "no decision: no goal metric significant at adjusted p<0.05; closest: B on conversion (+3 pp, adjusted p=0.14)"
    ),
    "decision_srm": "withheld: sample ratio mismatch (p=1.5e-19)",
    # B vs A: 0.13 - 0.10 = +3.00 pp, unpooled se 0.014251 -> 95% CI 0.03 -/+ 0.027932
    "conversion_difference": "+3.00 pp [+0.21, +5.79]",
    # CUPED variance reduction 0.36: se x sqrt(0.64) = 0.011401 -> 0.03 -/+ 0.022346
    "conversion_cuped": "+3.00 pp [+0.77, +5.23]",
    "conversion_adjusted_p": "0.1411",
    # 1 - sqrt(1 - 0.36) = 0.20
    "cuped_note": "CI 20% narrower on conversion",
    "cohort_customers": "150",
    "newest_cohort": "60",
    "quarantined_rows": "5",
    "failed_checks": "1",
}


def _write(
    root: Path, table_id: str, table: pa.Table, metadata: dict[str, object] | None = None, mode: str = "overwrite"
) -> None:
    layer, name = table_id.split(".", 1)
    properties = CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)}) if metadata else None
    write_deltalake(str(root / layer / name), table, mode=mode, commit_properties=properties)  # type: ignore[arg-type]


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def daily_kpis() -> pa.Table:
    revenue = [Decimal("1000.25") + 10 * i for i in range(DAYS)]
    orders = [20] * DAYS
    schema = pa.schema(
        [
            ("date", pa.date32()),
            ("revenue", MONEY),
            ("orders", pa.int64()),
            ("aov", MONEY),
            ("units", UNITS),
            ("active_users", pa.int64()),
            ("sessions", pa.int64()),
            ("session_conversion_rate", pa.float64()),
            ("new_customers", pa.int64()),
        ]
    )
    return pa.table(
        {
            "date": DATES,
            "revenue": [_money(r) for r in revenue],
            "orders": orders,
            "aov": [_money(r / o) for r, o in zip(revenue, orders, strict=True)],
            "units": [Decimal(30 + i) for i in range(DAYS)],
            "active_users": [100 + i for i in range(DAYS)],
            "sessions": [200] * DAYS,
            "session_conversion_rate": [(10 + i) / 200 for i in range(DAYS)],
            "new_customers": [5] * DAYS,
        },
        schema=schema,
    )


PRODUCTS = {  # id -> (name, category, price)
    "P1": ("Coffee beans", "coffee", Decimal("20")),
    "P2": ("Green tea", "tea", Decimal("30")),
    "P3": ("Espresso machine", "equipment", Decimal("500")),
    "P4": ("Milk frother", "equipment", Decimal("45")),
}
SPIKE_DAY = 15  # P2 sells 10 instead of 2 on 2026-10-16


def _units(product: str, i: int) -> int:
    if product == "P1":
        return 5
    if product == "P2":
        return 10 if i == SPIKE_DAY else 2
    if product == "P3":
        return 1 if i % 2 == 0 else 0
    return 0


def product_rows() -> list[dict[str, object]]:
    rows = []
    for i, day in enumerate(DATES):
        for product, (_, _, price) in PRODUCTS.items():
            units = _units(product, i)
            views = {"P1": 50, "P2": 20, "P3": 30, "P4": 15}[product]
            rows.append(
                {
                    "product_id": product,
                    "date": day,
                    "views": views,
                    "add_to_carts": views // 5,
                    "units_sold": Decimal(units),
                    "revenue": _money(price * units),
                    "view_to_purchase_rate": units / views,
                    "sales_spike": product == "P2" and i == SPIKE_DAY,
                }
            )
    return rows


def product_daily() -> pa.Table:
    schema = pa.schema(
        [
            ("product_id", pa.string()),
            ("date", pa.date32()),
            ("views", pa.int64()),
            ("add_to_carts", pa.int64()),
            ("units_sold", UNITS),
            ("revenue", MONEY),
            ("view_to_purchase_rate", pa.float64()),
            ("sales_spike", pa.bool_()),
        ]
    )
    return pa.Table.from_pylist(product_rows(), schema=schema)


def category_daily() -> pa.Table:
    totals: dict[tuple[str, dt.date], list[Decimal]] = {}
    for row in product_rows():
        category = PRODUCTS[str(row["product_id"])][1]
        bucket = totals.setdefault((category, row["date"]), [Decimal(0), Decimal(0)])  # type: ignore[index]
        bucket[0] += row["revenue"]  # type: ignore[operator]
        bucket[1] += row["units_sold"]  # type: ignore[operator]
    schema = pa.schema([("category", pa.string()), ("date", pa.date32()), ("revenue", MONEY), ("units", UNITS)])
    return pa.Table.from_pylist(
        [{"category": c, "date": d, "revenue": r, "units": u} for (c, d), (r, u) in sorted(totals.items())],
        schema=schema,
    )


def silver_products() -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "product_id": pid,
                "name": name,
                "category": category,
                "brand": "Acme",
                "list_price": price,
                "cost": price / 2,
            }
            for pid, (name, category, price) in PRODUCTS.items()
        ],
        schema=pa.schema(
            [
                ("product_id", pa.string()),
                ("name", pa.string()),
                ("category", pa.string()),
                ("brand", pa.string()),
                ("list_price", pa.decimal128(18, 4)),
                ("cost", pa.decimal128(18, 4)),
            ]
        ),
    )


# latest snapshot (2026-10-20) per product: (warehouse, on_hand, reorder_point)
STOCK_LATEST = {
    "P1": [("W1", 70, 10), ("W2", 0, 10)],
    "P2": [("W1", 11, 15)],
    "P3": [("W1", 5, 2), ("W2", 4, 2)],
    "P4": [("W1", 40, 5)],
}


def silver_stock() -> pa.Table:
    rows = []
    for pid, places in STOCK_LATEST.items():
        for warehouse, on_hand, reorder in places:
            rows.append(
                {
                    "snapshot_date": LAST_DAY,
                    "product_id": pid,
                    "warehouse": warehouse,
                    "on_hand": on_hand,
                    "reorder_point": reorder,
                }
            )
            # an older snapshot with other numbers that must not be used
            rows.append(
                {
                    "snapshot_date": LAST_DAY - dt.timedelta(days=1),
                    "product_id": pid,
                    "warehouse": warehouse,
                    "on_hand": on_hand + 1000,
                    "reorder_point": reorder,
                }
            )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("snapshot_date", pa.date32()),
                ("product_id", pa.string()),
                ("warehouse", pa.string()),
                ("on_hand", pa.int64()),
                ("reorder_point", pa.int64()),
            ]
        ),
    )


FUNNEL_STEPS = ((1, "product_view"), (2, "add_to_cart"), (3, "begin_checkout"), (4, "purchase"))
FUNNEL_DEVICES = {"desktop": (100, 40, 20, 10), "mobile": (120, 36, 12, 6)}


def funnel_daily() -> pa.Table:
    rows = []
    for day in DATES:
        reached_all = [sum(v[k] for v in FUNNEL_DEVICES.values()) for k in range(4)]
        for device, reached in (*FUNNEL_DEVICES.items(), ("all", tuple(reached_all))):
            for k, (step, name) in enumerate(FUNNEL_STEPS):
                rows.append(
                    {
                        "session_date": day,
                        "device": device,
                        "step": step,
                        "step_name": name,
                        "sessions_reached": reached[k],
                        "step_conversion": None if k == 0 else reached[k] / reached[k - 1],
                        "overall_conversion": reached[k] / reached[0],
                    }
                )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("session_date", pa.date32()),
                ("device", pa.string()),
                ("step", pa.int32()),
                ("step_name", pa.string()),
                ("sessions_reached", pa.int64()),
                ("step_conversion", pa.float64()),
                ("overall_conversion", pa.float64()),
            ]
        ),
    )


def _normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _variant_rows(experiment: str, variants: list[tuple[str, int, int]], srm_p: float) -> list[dict[str, object]]:
    """Rows with the METRICS.md statistics (unpooled CI, pooled z-test) for (variant, users, converters)."""
    _, users_c, conv_c = variants[0]
    rate_c = conv_c / users_c
    rows = []
    for index, (name, users, converters) in enumerate(variants):
        rate = converters / users
        row: dict[str, object] = {
            "experiment_id": experiment,
            "variant": name,
            "variant_index": index,
            "is_control": index == 0,
            "allocation_share": 1 / len(variants),
            "users": users,
            "converters": converters,
            "conversion_rate": rate,
            "revenue": _money(converters * 50),
            "revenue_per_user": _money(rate * 50),
            "srm_p_value": srm_p,
            "abs_lift": None,
            "rel_lift": None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "significant": None,
            "revenue_p_value": None,
        }
        if index:
            lift = rate - rate_c
            se = math.sqrt(rate * (1 - rate) / users + rate_c * (1 - rate_c) / users_c)
            pooled = (converters + conv_c) / (users + users_c)
            z = lift / math.sqrt(pooled * (1 - pooled) * (1 / users + 1 / users_c))
            p_value = _normal_p(z)
            row.update(
                abs_lift=lift,
                rel_lift=lift / rate_c,
                ci_low=lift - 1.959964 * se,
                ci_high=lift + 1.959964 * se,
                p_value=p_value,
                significant=p_value < 0.05,
                revenue_p_value=0.2,
            )
        rows.append(row)
    return rows


def experiment_results() -> pa.Table:
    rows = _variant_rows("checkout_button", [("A", 1000, 100), ("B", 1000, 130)], srm_p=0.9) + _variant_rows(
        "free_shipping", [("control", 1200, 60), ("treatment", 800, 44)], srm_p=1.5e-19
    )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("experiment_id", pa.string()),
                ("variant", pa.string()),
                ("variant_index", pa.int32()),
                ("is_control", pa.bool_()),
                ("allocation_share", pa.float64()),
                ("users", pa.int64()),
                ("converters", pa.int64()),
                ("conversion_rate", pa.float64()),
                ("revenue", MONEY),
                ("revenue_per_user", MONEY),
                ("srm_p_value", pa.float64()),
                ("abs_lift", pa.float64()),
                ("rel_lift", pa.float64()),
                ("ci_low", pa.float64()),
                ("ci_high", pa.float64()),
                ("p_value", pa.float64()),
                ("significant", pa.bool_()),
                ("revenue_p_value", pa.float64()),
            ]
        ),
    )


Z95 = 1.959964
MDE_Z = Z95 + 0.841621  # 80% power at alpha 0.05, two-sided
CS_WIDTH = 1.6  # the confidence sequence is this much wider than the fixed-horizon CI at a look
AVP_FACTOR = 3.0  # the fixture's always-valid p-value at the last look: 3 x the fixed-horizon one
GUARDRAIL_MARGIN = 0.25


def _rate_se(rate_c: float, users_c: int, rate: float, users: int) -> float:
    return math.sqrt(rate * (1 - rate) / users + rate_c * (1 - rate_c) / users_c)


# experiment -> (control, variant, control users, users, SRM p-value, metrics), metric =
# (name, role, kind, control value, value, se of the difference, CUPED variance reduction or None).
# Same experiments, variants, users, rates and revenue per user as experiment_results.
DecidedMetric = tuple[str, str, str, float, float, float, float | None]
DECISIONS: dict[str, tuple[str, str, int, int, float, list[DecidedMetric]]] = {
    "checkout_button": (
        "A",
        "B",
        1000,
        1000,
        0.9,
        [
            ("conversion", "goal", "mean", 0.10, 0.13, _rate_se(0.10, 1000, 0.13, 1000), 0.36),
            ("revenue_per_user", "secondary", "mean", 5.0, 6.5, 0.8, 0.19),
            ("orders_per_user", "secondary", "mean", 0.11, 0.14, 0.016, 0.0975),
            ("aov", "secondary", "ratio", 45.45, 46.43, 2.5, None),
            # CI [-0.068, +0.168]: its low end stays above -0.25, the guardrail holds
            ("page_views_per_session", "guardrail", "ratio", 4.20, 4.25, 0.06, None),
        ],
    ),
    "free_shipping": (
        "control",
        "treatment",
        1200,
        800,
        1.5e-19,
        [
            ("conversion", "goal", "mean", 0.05, 0.055, _rate_se(0.05, 1200, 0.055, 800), 0.19),
            ("revenue_per_user", "secondary", "mean", 2.5, 2.75, 0.55, 0.1),
            ("orders_per_user", "secondary", "mean", 0.05, 0.055, 0.0105, 0.05),
            ("aov", "secondary", "ratio", 50.0, 50.0, 3.0, None),
            # CI [-0.318, -0.082]: its low end is below -0.25, the guardrail is breached
            ("page_views_per_session", "guardrail", "ratio", 4.30, 4.10, 0.06, None),
        ],
    ),
}


def _holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values, positions kept."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _looks(difference: float, se: float, always_valid_p: float) -> list[dict[str, object]]:
    """A daily look per fixture date: the estimate settles on ``difference`` as users accumulate.

    At look k of DAYS the se is se x sqrt(DAYS / k); the confidence sequence is the running
    intersection of estimate -/+ CS_WIDTH x Z95 x se, the always-valid p the running minimum. The
    first look has none yet (null, as the pipeline writes before a look it can test).
    """
    looks: list[dict[str, object]] = []
    low, high, p_min = -math.inf, math.inf, 1.0
    for k, day in enumerate(DATES, start=1):
        se_k = se * math.sqrt(DAYS / k)
        estimate = difference + 0.3 * se_k * (-1) ** k * (DAYS - k) / DAYS
        look: dict[str, object] = {
            "date": day,
            "fraction": k / DAYS,
            "estimate": estimate,
            "ci_low": estimate - Z95 * se_k,
            "ci_high": estimate + Z95 * se_k,
            "cs_low": None,
            "cs_high": None,
            "always_valid_p_value": None,
        }
        if k > 1:
            low = max(low, estimate - CS_WIDTH * Z95 * se_k)
            high = min(high, estimate + CS_WIDTH * Z95 * se_k)
            p_min = min(p_min, 1.0, always_valid_p * DAYS / k)
            look.update(cs_low=low, cs_high=high, always_valid_p_value=p_min)
        looks.append(look)
    return looks


def _decisions() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(gold.experiment_metrics rows, gold.experiment_sequential rows) from DECISIONS."""
    metric_rows: list[dict[str, object]] = []
    sequential_rows: list[dict[str, object]] = []
    for experiment, (_control, variant, users_c, users, srm_p, metrics) in DECISIONS.items():
        rows = []
        for name, role, kind, control_value, value, se, reduction in metrics:
            difference = value - control_value
            p_value = _normal_p(difference / se)
            row: dict[str, object] = {
                "experiment_id": experiment,
                "variant": variant,
                "metric": name,
                "role": role,
                "kind": kind,
                "higher_is_better": True,
                "control_users": users_c,
                "users": users,
                "control_value": control_value,
                "value": value,
                "difference": difference,
                "rel_lift": difference / control_value,
                "ci_low": difference - Z95 * se,
                "ci_high": difference + Z95 * se,
                "p_value": p_value,
                "adjusted_p_value": None,
                "cuped_difference": None,
                "cuped_ci_low": None,
                "cuped_ci_high": None,
                "cuped_p_value": None,
                "variance_reduction": reduction,
                "always_valid_p_value": None,
                "cs_low": None,
                "cs_high": None,
                "mde": None,
                "margin": GUARDRAIL_MARGIN if role == "guardrail" else None,
                "guardrail_ok": difference - Z95 * se >= -GUARDRAIL_MARGIN if role == "guardrail" else None,
                "srm_p_value": srm_p,
            }
            if kind == "mean":  # CUPED, the sequential test and the MDE are for mean metrics only
                cuped_se = se * math.sqrt(1 - (reduction or 0.0))
                looks = _looks(difference, se, min(1.0, AVP_FACTOR * p_value))
                row.update(
                    cuped_difference=difference,
                    cuped_ci_low=difference - Z95 * cuped_se,
                    cuped_ci_high=difference + Z95 * cuped_se,
                    cuped_p_value=_normal_p(difference / cuped_se),
                    always_valid_p_value=looks[-1]["always_valid_p_value"],
                    cs_low=looks[-1]["cs_low"],
                    cs_high=looks[-1]["cs_high"],
                    mde=MDE_Z * se,
                )
                sequential_rows += [
                    {
                        "experiment_id": experiment,
                        "variant": variant,
                        "metric": name,
                        "users": round((users_c + users) * float(look.pop("fraction"))),  # type: ignore[arg-type]
                        **look,
                    }
                    for look in looks
                ]
            rows.append(row)
        tested = [r for r in rows if r["role"] != "guardrail"]
        for row, adjusted in zip(tested, _holm([float(r["p_value"]) for r in tested]), strict=True):  # type: ignore[arg-type]
            row["adjusted_p_value"] = adjusted
        if srm_p < 0.001:
            verdict = f"withheld: sample ratio mismatch (p={srm_p:.2g})"
        else:  # the fixture's experiments without SRM have no significant goal
            goal = next(r for r in rows if r["role"] == "goal")
            verdict = (
                "no decision: no goal metric significant at adjusted p<0.05; closest: "
                f"{variant} on {goal['metric']} ({float(goal['difference']) * 100:+.3g} pp, "  # type: ignore[arg-type]
                f"adjusted p={float(goal['adjusted_p_value']):.2g})"  # type: ignore[arg-type]
            )
        metric_rows += [{**row, "verdict": verdict} for row in rows]
    return metric_rows, sequential_rows


def experiment_metrics() -> pa.Table:
    """gold.experiment_metrics in the pipeline's schema (gold/experiment_metrics.py)."""
    return pa.Table.from_pylist(
        _decisions()[0],
        schema=pa.schema(
            [
                pa.field("experiment_id", pa.string(), nullable=False),
                pa.field("variant", pa.string(), nullable=False),
                pa.field("metric", pa.string(), nullable=False),
                pa.field("role", pa.string(), nullable=False),
                pa.field("kind", pa.string(), nullable=False),
                pa.field("higher_is_better", pa.bool_(), nullable=False),
                pa.field("control_users", pa.int64(), nullable=False),
                pa.field("users", pa.int64(), nullable=False),
                *[pa.field(name, pa.float64()) for name in METRIC_NUMBERS],
                pa.field("guardrail_ok", pa.bool_()),
                pa.field("srm_p_value", pa.float64()),
                pa.field("verdict", pa.string(), nullable=False),
            ]
        ),
    )


def experiment_sequential() -> pa.Table:
    """gold.experiment_sequential in the pipeline's schema (gold/experiment_sequential.py)."""
    return pa.Table.from_pylist(
        _decisions()[1],
        schema=pa.schema(
            [
                pa.field("experiment_id", pa.string(), nullable=False),
                pa.field("variant", pa.string(), nullable=False),
                pa.field("metric", pa.string(), nullable=False),
                pa.field("date", pa.date32(), nullable=False),
                pa.field("users", pa.int64(), nullable=False),
                *[pa.field(name, pa.float64()) for name in SEQUENTIAL_NUMBERS],
            ]
        ),
    )


COHORTS = {  # cohort month -> (size, active customers at offsets 0, 1, 2, ...)
    dt.date(2026, 8, 1): (40, [40, 12, 8]),
    dt.date(2026, 9, 1): (50, [50, 20]),
    dt.date(2026, 10, 1): (60, [60]),
}


def retention_cohorts() -> pa.Table:
    rows = [
        {
            "cohort_month": month,
            "month_offset": k,
            "activity_month": dt.date(month.year + (month.month + k - 1) // 12, (month.month + k - 1) % 12 + 1, 1),
            "cohort_size": size,
            "active_customers": active,
            "retention_rate": active / size,
        }
        for month, (size, actives) in COHORTS.items()
        for k, active in enumerate(actives)
    ]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("cohort_month", pa.date32()),
                ("month_offset", pa.int32()),
                ("activity_month", pa.date32()),
                ("cohort_size", pa.int64()),
                ("active_customers", pa.int64()),
                ("retention_rate", pa.float64()),
            ]
        ),
    )


def fct_user() -> pa.Table:
    first, last = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), dt.datetime(2026, 10, 20, 18, tzinfo=dt.UTC)
    return pa.Table.from_pylist(
        [
            {
                "user_id": f"u{i}",
                "first_seen": first,
                "last_seen": last,
                "sessions": 3,
                "events": 12,
                "orders": 1,
                "revenue": _money(100),
                "first_order_date": FIRST_DAY,
                "last_order_date": FIRST_DAY,
            }
            for i in range(3)
        ],
        schema=pa.schema(
            [
                ("user_id", pa.string()),
                ("first_seen", pa.timestamp("us", "UTC")),
                ("last_seen", pa.timestamp("us", "UTC")),
                ("sessions", pa.int64()),
                ("events", pa.int64()),
                ("orders", pa.int64()),
                ("revenue", MONEY),
                ("first_order_date", pa.date32()),
                ("last_order_date", pa.date32()),
            ]
        ),
    )


def silver_experiments() -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "experiment_id": "checkout_button",
                "name": "Bigger checkout button",
                "start_date": FIRST_DAY,
                "end_date": LAST_DAY,
            },
            {
                "experiment_id": "free_shipping",
                "name": "Free shipping banner",
                "start_date": FIRST_DAY,
                "end_date": LAST_DAY,
            },
        ],
        schema=pa.schema(
            [
                ("experiment_id", pa.string()),
                ("name", pa.string()),
                ("start_date", pa.date32()),
                ("end_date", pa.date32()),
            ]
        ),
    )


def _at(hours_before_now: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_before_now)


RUN_TABLES = (
    "silver.events",
    "silver.order_lines",
    "gold.daily_kpis",
    "gold.product_daily",
    "gold.category_daily",
    "gold.fct_user",
    "gold.funnel_daily",
    "gold.experiment_results",
    "gold.retention_cohorts",
)


def pipeline_runs() -> pa.Table:
    rows = []
    for run, offset in ((RUN_OLD, 24.0), (RUN_NEW, 1.0)):
        for n, table in enumerate(RUN_TABLES):
            failed = run == RUN_NEW and table == "gold.fct_user"
            rows.append(
                {
                    "run_id": run,
                    "table": table,
                    "layer": table.split(".")[0],
                    "status": "failed" if failed else "written",
                    "rows_in": 100,
                    "rows_written": None if failed else 90,
                    "quarantined": 3 if table == "silver.events" else 2 if table == "silver.order_lines" else None,
                    "deduplicated": 5 if table.startswith("silver") else None,
                    "delta_version": 1,
                    "started_at": _at(offset - n * 0.01),
                    "finished_at": _at(offset - n * 0.01 - 0.005),
                    "message": "quality gate failed: gold.fct_user" if failed else None,
                }
            )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("run_id", pa.string()),
                ("table", pa.string()),
                ("layer", pa.string()),
                ("status", pa.string()),
                ("rows_in", pa.int64()),
                ("rows_written", pa.int64()),
                ("quarantined", pa.int64()),
                ("deduplicated", pa.int64()),
                ("delta_version", pa.int64()),
                ("started_at", pa.timestamp("us", "UTC")),
                ("finished_at", pa.timestamp("us", "UTC")),
                ("message", pa.string()),
            ]
        ),
    )


def quality_results() -> pa.Table:
    checks = [
        # an old failure that a later validation of the same table superseded
        (RUN_OLD, "gold.daily_kpis", "expect_column_values_to_be_between", "revenue", "critical", False, 2, 24.0),
        (RUN_NEW, "gold.daily_kpis", "expect_column_values_to_be_between", "revenue", "critical", True, 0, 1.0),
        (RUN_NEW, "gold.daily_kpis", "expect_column_values_to_be_unique", "date", "critical", True, 0, 1.0),
        (RUN_NEW, "silver.events", "expect_column_values_to_be_unique", "event_id", "critical", True, 0, 1.5),
        (RUN_NEW, "silver.events", "expect_column_values_to_not_be_null", "user_id", "critical", True, 0, 1.5),
        (RUN_NEW, "silver.order_lines", "expect_column_values_to_not_be_null", "order_id", "critical", True, 0, 1.4),
        (RUN_NEW, "silver.order_lines", "expect_column_values_to_be_in_set", "status", "warn", False, 3, 1.4),
    ]
    return pa.Table.from_pylist(
        [
            {
                "run_id": run,
                "table": table,
                "expectation": expectation,
                "column": column,
                "severity": severity,
                "success": success,
                "unexpected_count": unexpected,
                "observed": None,
                "checked_at": _at(hours),
            }
            for run, table, expectation, column, severity, success, unexpected, hours in checks
        ],
        schema=pa.schema(
            [
                ("run_id", pa.string()),
                ("table", pa.string()),
                ("expectation", pa.string()),
                ("column", pa.string()),
                ("severity", pa.string()),
                ("success", pa.bool_()),
                ("unexpected_count", pa.int64()),
                ("observed", pa.string()),
                ("checked_at", pa.timestamp("us", "UTC")),
            ]
        ),
    )


def quarantine(rules: list[tuple[str, str]], source: str) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "_record": json.dumps({"n": n}),
                "_rule": rule,
                "_reason": reason,
                "_source": source,
                "_ingest_file": f"{source}/{source}_2026-10-02.jsonl",
                "_ingest_seq": n,
                "_ingest_ts": _at(2),
                "_ingest_batch_id": RUN_NEW,
                "_run_id": RUN_NEW,
                "_quarantined_at": _at(2),
            }
            for n, (rule, reason) in enumerate(rules)
        ],
        schema=pa.schema(
            [
                ("_record", pa.string()),
                ("_rule", pa.string()),
                ("_reason", pa.string()),
                ("_source", pa.string()),
                ("_ingest_file", pa.string()),
                ("_ingest_seq", pa.int64()),
                ("_ingest_ts", pa.timestamp("us", "UTC")),
                ("_ingest_batch_id", pa.string()),
                ("_run_id", pa.string()),
                ("_quarantined_at", pa.timestamp("us", "UTC")),
            ]
        ),
    )


def build(root: Path, with_docs: bool = True, with_decisions: bool = True) -> Path:
    """Write every table under ``root`` (the lakehouse root) and return it.

    ``with_decisions=False`` leaves out gold.experiment_metrics and gold.experiment_sequential,
    as in a lakehouse built before those tables existed.
    """
    kpis = daily_kpis()
    # two commits, so the Delta version shown is 1
    _write(root, "gold.daily_kpis", kpis.slice(0, 5), {"inputs": {"silver.events": 0, "silver.order_lines": 0}})
    _write(root, "gold.daily_kpis", kpis, {"inputs": {"silver.events": 1, "silver.order_lines": 1}})
    inputs = {"silver.events": 1, "silver.order_lines": 1}
    _write(root, "gold.product_daily", product_daily(), {"inputs": inputs})
    _write(root, "gold.category_daily", category_daily(), {"inputs": {"gold.product_daily": 0}})
    _write(root, "gold.funnel_daily", funnel_daily(), {"inputs": {"silver.events": 1}})
    _write(root, "gold.experiment_results", experiment_results(), {"inputs": inputs})
    if with_decisions:
        decided_from = {"gold.experiment_daily": 0, "silver.experiments": 0}
        _write(root, "gold.experiment_metrics", experiment_metrics(), {"inputs": decided_from})
        _write(root, "gold.experiment_sequential", experiment_sequential(), {"inputs": decided_from})
    _write(root, "gold.retention_cohorts", retention_cohorts(), {"inputs": {"silver.order_lines": 1}})
    _write(root, "gold.fct_user", fct_user(), {"inputs": inputs})
    _write(root, "silver.products", silver_products())
    _write(root, "silver.stock", silver_stock())
    _write(root, "silver.experiments", silver_experiments())
    _write(root, "ops.pipeline_runs", pipeline_runs())
    _write(root, "ops.quality_results", quality_results())
    _write(
        root,
        "quarantine.events",
        quarantine(
            [("missing_user_id", "user_id is missing or empty")] * 2
            + [("unknown_event_type", "event_type is not one of page_view, ...")],
            "events",
        ),
    )
    _write(
        root, "quarantine.order_lines", quarantine([("negative_unit_price", "unit_price is negative")] * 2, "orders")
    )
    if with_docs:
        docs = root.parent / "data_docs" / "local_site"
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "index.html").write_text("<html><body>Data Docs</body></html>", encoding="utf-8")
    return root
