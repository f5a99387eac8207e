"""Pure DataFrame -> numbers/words functions behind the pages (no Streamlit, no I/O).

Kept apart from the page scripts so the arithmetic a reader trusts (period totals,
re-derived ratios, experiment verdicts) is unit-tested without running an app.
Ratios over a period are always recomputed from summed counts, never averaged:
the mean of daily conversion rates is not the period's conversion rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

FUNNEL_KEYS = ("step", "step_name")
MISSING = "\N{EN DASH}"  # shown for a null number
SRM_ALPHA = 0.01
SIGNIFICANCE = 0.05


def _num(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def in_range(frame: pd.DataFrame, column: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows whose ``column`` (date, timestamp or ISO string) falls in [start, end]."""
    if frame.empty or column not in frame.columns:
        return frame.iloc[0:0]
    dates = pd.to_datetime(frame[column], errors="coerce", utc=True).dt.date
    return frame[(dates >= start) & (dates <= end)]


# ---------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class KpiSummary:
    """One period's headline numbers, derived from gold.daily_kpis rows."""

    days: int
    revenue: float | None
    orders: float | None
    aov: float | None
    avg_active_users: float | None
    sessions: float | None
    session_conversion: float | None
    new_customers: float | None


def kpi_summary(daily: pd.DataFrame) -> KpiSummary:
    """Totals over the rows given; AOV and conversion from summed counts (sessions x daily rate)."""
    if daily.empty:
        return KpiSummary(0, None, None, None, None, None, None, None)

    def numbers(column: str) -> pd.Series:
        return pd.to_numeric(daily[column], errors="coerce").fillna(0)

    def total(column: str) -> float | None:
        return float(numbers(column).sum()) if column in daily.columns else None

    revenue, orders, sessions = total("revenue"), total("orders"), total("sessions")
    converted: float | None = None
    if "session_conversion_rate" in daily.columns and "sessions" in daily.columns:
        # rate x sessions gives back each day's converting sessions (rate is null only when sessions = 0)
        converted = float((numbers("session_conversion_rate") * numbers("sessions")).round().sum())
    users = daily["active_users"].astype("float64").mean() if "active_users" in daily.columns else None
    return KpiSummary(
        days=len(daily),
        revenue=revenue,
        orders=orders,
        aov=_ratio(revenue, orders),
        avg_active_users=_num(users),
        sessions=sessions,
        session_conversion=_ratio(converted, sessions),
        new_customers=total("new_customers"),
    )


# ---------------------------------------------------------------------------- funnels


def funnel_totals(funnel: pd.DataFrame, by: Sequence[str] = ("device",)) -> pd.DataFrame:
    """Sessions reached per step summed over dates, with step and overall conversion re-derived.

    Columns: *by, step, step_name, sessions_reached, step_conversion, overall_conversion.
    """
    keys = [c for c in (*by, *FUNNEL_KEYS) if c in funnel.columns]
    if funnel.empty or "sessions_reached" not in funnel.columns or "step" not in keys:
        return pd.DataFrame(columns=[*by, *FUNNEL_KEYS, "sessions_reached", "step_conversion", "overall_conversion"])
    totals = funnel.groupby(keys, dropna=False, as_index=False)["sessions_reached"].sum()
    totals = totals.sort_values([*[c for c in by if c in totals.columns], "step"]).reset_index(drop=True)
    group = [c for c in by if c in totals.columns]
    reached = totals["sessions_reached"].astype("float64")
    if group:
        previous = totals.groupby(group)["sessions_reached"].shift(1)
        first = totals.groupby(group)["sessions_reached"].transform("first")
    else:
        previous = totals["sessions_reached"].shift(1)
        first = pd.Series(totals["sessions_reached"].iloc[0], index=totals.index)
    totals["step_conversion"] = (reached / previous.astype("float64")).where(previous > 0)
    totals["overall_conversion"] = (reached / first.astype("float64")).where(first > 0)
    return totals


def pick_devices(funnel: pd.DataFrame, devices: Sequence[str]) -> pd.DataFrame:
    """The funnel of the chosen devices: the published 'all' rollup when none is chosen, else their sum."""
    if funnel.empty or "device" not in funnel.columns:
        return funnel
    if not devices:
        rollup = funnel[funnel["device"] == "all"]
        return rollup if not rollup.empty else funnel
    return funnel[funnel["device"].isin(devices)]


# ---------------------------------------------------------------------------- experiments


@dataclass(frozen=True)
class Verdict:
    """What an experiment's rows say, in words: a headline, per-variant sentences and an SRM flag."""

    experiment_id: str
    control: str
    srm: bool
    srm_p_value: float | None
    tone: str  # "srm", "winner", "loser" or "none": how loudly the page shows the headline
    headline: str
    lines: tuple[str, ...]


def _pp(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.2f} pp"


def _p(value: float | None) -> str:
    if value is None:
        return f"p = {MISSING}"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def control_row(rows: pd.DataFrame) -> pd.Series:
    """The control: flagged ``is_control``, else the lowest ``variant_index``, else the row without a lift.

    METRICS.md makes the first declared variant the control and leaves its lift columns null;
    the table states it directly in ``is_control``/``variant_index``, the null lift is the last resort.
    """
    if "is_control" in rows.columns and rows["is_control"].fillna(False).astype(bool).any():
        return rows[rows["is_control"].fillna(False).astype(bool)].iloc[0]
    if "variant_index" in rows.columns and rows["variant_index"].notna().any():
        return rows.loc[rows["variant_index"].idxmin()]
    if "abs_lift" in rows.columns:
        controls = rows[rows["abs_lift"].isna()]
        if not controls.empty:
            return controls.iloc[0]
    return rows.iloc[0]


def experiment_verdict(experiment_id: str, rows: pd.DataFrame) -> Verdict:
    """Plain-words reading of one experiment's variant rows (see METRICS.md for the statistics)."""
    control = control_row(rows)
    control_name = str(control.get("variant"))
    srm_p = _num(rows["srm_p_value"].min()) if "srm_p_value" in rows.columns else None
    srm = srm_p is not None and srm_p < SRM_ALPHA
    lines: list[str] = []
    winners: list[str] = []
    losers: list[str] = []
    for _, row in rows.iterrows():
        name = str(row.get("variant"))
        if name == control_name:
            continue
        lift, low, high = _num(row.get("abs_lift")), _num(row.get("ci_low")), _num(row.get("ci_high"))
        p_value = _num(row.get("p_value"))
        significant = (
            bool(row.get("significant"))
            if row.get("significant") is not None
            else (p_value is not None and p_value < SIGNIFICANCE)
        )
        rates = f"{_rate(row.get('conversion_rate'))} vs {_rate(control.get('conversion_rate'))}"
        interval = f"95% CI {_pp(low)} to {_pp(high)}"
        if significant and lift is not None and lift > 0:
            winners.append(name)
            lines.append(
                f"**{name}** converts better than **{control_name}**: {rates} ({_pp(lift)}, {interval}, {_p(p_value)})."
            )
        elif significant and lift is not None and lift < 0:
            losers.append(name)
            lines.append(
                f"**{name}** converts worse than **{control_name}**: {rates} ({_pp(lift)}, {interval}, {_p(p_value)})."
            )
        else:
            lines.append(
                f"No significant difference between **{name}** and **{control_name}**: {rates} "
                f"({_pp(lift)}, {interval} includes zero, {_p(p_value)})."
            )
    tone = "srm" if srm else "winner" if winners else "loser" if losers and len(losers) == len(lines) else "none"
    if srm:
        headline = (
            f"Don't act on this test yet: the traffic split differs from the planned allocation "
            f"(sample ratio mismatch, {_p(srm_p)}). Fix assignment or logging first."
        )
    elif winners:
        headline = f"{', '.join(winners)} beat{'s' if len(winners) == 1 else ''} {_the_control(control_name)}."
    elif losers and len(losers) == len(lines):
        headline = f"Keep {_the_control(control_name)}: every variant converts worse."
    elif lines:
        headline = "No winner yet: no variant differs significantly from the control."
    else:
        headline = "Only the control has data."
    return Verdict(experiment_id, control_name, srm, srm_p, tone, headline, tuple(lines))


def _the_control(name: str) -> str:
    """'the control (A)', or just 'the control' when the variant is called that."""
    return "the control" if name.strip().lower() == "control" else f"the control ({name})"


def _rate(value: object) -> str:
    number = _num(value)
    return MISSING if number is None else f"{number * 100:.2f}%"


# ---------------------------------------------------------------------------- experiment decisions

# How a metric's numbers are written. gold.experiment_metrics carries no unit, so these names are
# the only metric knowledge here (display only): a rate in % and its differences in percentage
# points, money with two decimals; any other metric is a plain number with three decimals.
RATE_METRICS = frozenset({"conversion"})
MONEY_METRICS = frozenset({"revenue_per_user", "aov"})
ROLE_ORDER = ("goal", "secondary", "guardrail")
# gold.experiment_metrics verdict prefix -> how loudly the page shows it (as Verdict.tone)
DECISION_TONES = (("withheld", "srm"), ("do not ship", "loser"), ("ship", "winner"))


def metric_scale(metric: str) -> tuple[float, str]:
    """(multiplier, unit) a difference of ``metric`` is plotted in: a rate x100 in 'pp', else as is."""
    return (100.0, "pp") if metric in RATE_METRICS else (1.0, "")


def metric_value(metric: str, value: object) -> str:
    """A level of the metric: '13.00%' for a rate, '6.50' for money, '0.140' otherwise."""
    number = _num(value)
    if number is None:
        return MISSING
    if metric in RATE_METRICS:
        return f"{number * 100:.2f}%"
    return f"{number:,.2f}" if metric in MONEY_METRICS else f"{number:,.3f}"


def metric_difference(metric: str, value: object, signed: bool = True, unit: bool = True) -> str:
    """A difference of the metric: '+3.00 pp' for a rate, '+1.50' for money, '+0.030' otherwise."""
    number = _num(value)
    if number is None:
        return MISSING
    sign = "+" if signed else ""
    if metric in RATE_METRICS:
        return f"{number * 100:{sign}.2f}" + (" pp" if unit else "")
    return f"{number:{sign},.2f}" if metric in MONEY_METRICS else f"{number:{sign},.3f}"


def metric_interval(metric: str, estimate: object, low: object, high: object) -> str:
    """'+3.00 pp [+0.21, +5.79]': the difference and its interval (the unit once); a dash without it."""
    if _num(estimate) is None:
        return MISSING
    shown = metric_difference(metric, estimate)
    if _num(low) is None or _num(high) is None:
        return shown
    return f"{shown} [{metric_difference(metric, low, unit=False)}, {metric_difference(metric, high, unit=False)}]"


def p_text(value: object) -> str:
    """A p-value with four decimals, '<0.0001' below that (the table's p=2e-05 does not read as 0)."""
    number = _num(value)
    if number is None:
        return MISSING
    return "<0.0001" if number < 0.0001 else f"{number:.4f}"


def _by_role(rows: pd.DataFrame) -> pd.DataFrame:
    """Goal, then secondary, then guardrail metrics; the table's own order within a role."""
    if "role" not in rows.columns:
        return rows
    rank = rows["role"].map({role: n for n, role in enumerate(ROLE_ORDER)}).fillna(len(ROLE_ORDER))
    return rows.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank")


def decision_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One experiment's gold.experiment_metrics rows as people read them (every cell text, dashes for nulls)."""
    rows = _by_role(rows)
    columns = [
        "metric",
        "role",
        "variant",
        "control value",
        "variant value",
        "difference (95% CI)",
        "CUPED difference (95% CI)",
        "p-value",
        "adjusted p",
        "always-valid p",
        "MDE",
        "guardrail",
    ]
    table = []
    for _, row in rows.iterrows():
        metric = str(row.get("metric"))
        ok = row.get("guardrail_ok")
        guardrail = MISSING if ok is None or pd.isna(ok) else "holds" if bool(ok) else "breached"
        table.append(
            [
                metric,
                MISSING if pd.isna(row.get("role")) else str(row.get("role")),
                str(row.get("variant")),
                metric_value(metric, row.get("control_value")),
                metric_value(metric, row.get("value")),
                metric_interval(metric, row.get("difference"), row.get("ci_low"), row.get("ci_high")),
                metric_interval(metric, row.get("cuped_difference"), row.get("cuped_ci_low"), row.get("cuped_ci_high")),
                p_text(row.get("p_value")),
                p_text(row.get("adjusted_p_value")),
                p_text(row.get("always_valid_p_value")),
                metric_difference(metric, row.get("mde"), signed=False),
                guardrail,
            ]
        )
    return pd.DataFrame(table, columns=columns)


def decision_verdict(rows: pd.DataFrame) -> tuple[str, str] | None:
    """(verdict line, tone) of one experiment's rows; None when the table gives no verdict.

    The line is the pipeline's own (it already weighs SRM, guardrails and the correction);
    the tone only picks the box colour from its first words.
    """
    if "verdict" not in rows.columns:
        return None
    lines = [str(v) for v in rows["verdict"].dropna() if str(v).strip()]
    if not lines:
        return None
    line = lines[0]
    tone = next((tone for prefix, tone in DECISION_TONES if line.lower().startswith(prefix)), "none")
    return line, tone


def cuped_notes(rows: pd.DataFrame) -> list[str]:
    """'CI 20% narrower on conversion' per metric with a CUPED variance reduction.

    A variance reduction r shrinks the standard error, hence the CI, by 1 - sqrt(1 - r). The
    reduction is one per experiment and metric; a variant is named only where variants differ.
    """
    if not {"metric", "variance_reduction"} <= set(rows.columns):
        return []
    notes = []
    rows = _by_role(rows)
    for metric, part in rows.groupby("metric", sort=False):
        found = [
            (str(variant), min(max(reduction, 0.0), 1.0))
            for variant, value in zip(part.get("variant", part["metric"]), part["variance_reduction"], strict=True)
            if (reduction := _num(value)) is not None
        ]
        distinct = {round(r, 6) for _, r in found}
        for variant, reduction in found if len(distinct) > 1 else found[:1]:
            named = f" ({variant})" if len(distinct) > 1 else ""
            notes.append(f"CI {1 - math.sqrt(1 - reduction):.0%} narrower on {metric}{named}")
    return notes


@dataclass(frozen=True)
class GuardrailStatus:
    """One guardrail of one variant: holds (True), breached (False) or not evaluated (None), in words."""

    metric: str
    variant: str
    ok: bool | None
    text: str


def guardrail_status(rows: pd.DataFrame) -> list[GuardrailStatus]:
    """Each guardrail row: its status and the CI bound that decided it against the margin."""
    if "role" not in rows.columns:
        return []
    found = []
    for _, row in rows[rows["role"] == "guardrail"].iterrows():
        metric, variant = str(row.get("metric")), str(row.get("variant"))
        ok_value = row.get("guardrail_ok")
        ok = None if ok_value is None or pd.isna(ok_value) else bool(ok_value)
        state = "not evaluated" if ok is None else "holds" if ok else "breached"
        higher = row.get("higher_is_better")
        higher = True if higher is None or pd.isna(higher) else bool(higher)
        interval = metric_interval(metric, row.get("difference"), row.get("ci_low"), row.get("ci_high"))
        margin = _num(row.get("margin"))
        limit = (
            ""
            if margin is None
            else f"; may not {'fall' if higher else 'rise'} by more than "
            f"{metric_difference(metric, abs(margin), signed=False)}"
        )
        text = f"**{metric}**, {variant}: {state} (difference and 95% CI {interval}{limit})"
        found.append(GuardrailStatus(metric, variant, ok, text))
    return found


# ---------------------------------------------------------------------------- cohorts


def month_label(value: object) -> str:
    """'2026-10' for a date, timestamp or string cohort month."""
    if isinstance(value, str):
        return value[:7]
    try:
        return pd.Timestamp(value).strftime("%Y-%m")
    except (TypeError, ValueError):
        return str(value)


def retention_matrix(cohorts: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Cohort month x month offset retention rates, plus each cohort's size (for the row labels)."""
    frame = cohorts.copy()
    frame["cohort"] = frame["cohort_month"].map(month_label)
    frame["month_offset"] = frame["month_offset"].astype("int64")
    if "retention_rate" not in frame.columns:
        frame["retention_rate"] = frame["active_customers"] / frame["cohort_size"]
    matrix = frame.pivot_table(index="cohort", columns="month_offset", values="retention_rate", aggfunc="first")
    matrix = matrix.sort_index().reindex(columns=sorted(matrix.columns))
    sizes = frame.groupby("cohort")["cohort_size"].max() if "cohort_size" in frame.columns else pd.Series(dtype=float)
    return matrix, sizes.reindex(matrix.index)


# ---------------------------------------------------------------------------- data health


def latest_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest pipeline_runs row per table (by started_at)."""
    if runs.empty or "table" not in runs.columns:
        return runs
    order = "started_at" if "started_at" in runs.columns else runs.columns[0]
    latest = runs.sort_values(order).groupby("table", as_index=False).tail(1)
    return latest.sort_values("table").reset_index(drop=True)


def check_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Checks of each table's latest validation: passed, failed, failed critical."""
    columns = ["table", "checked_at", "passed", "failed", "failed_critical"]
    if results.empty or not {"table", "success"} <= set(results.columns):
        return pd.DataFrame(columns=columns)
    latest = _latest_validation(results)
    failed = ~latest["success"].astype(bool)
    critical = failed & (latest.get("severity", pd.Series("critical", index=latest.index)) == "critical")
    summary = (
        latest.assign(passed=~failed, failed=failed, failed_critical=critical)
        .groupby("table", as_index=False)
        .agg(
            checked_at=("checked_at", "max") if "checked_at" in latest.columns else ("table", "size"),
            passed=("passed", "sum"),
            failed=("failed", "sum"),
            failed_critical=("failed_critical", "sum"),
        )
    )
    return summary[columns].sort_values("table").reset_index(drop=True)


def failed_checks(results: pd.DataFrame) -> pd.DataFrame:
    """The failing rows of each table's latest validation."""
    if results.empty or "success" not in results.columns:
        return results
    latest = _latest_validation(results)
    return latest[~latest["success"].astype(bool)].reset_index(drop=True)


def _latest_validation(results: pd.DataFrame) -> pd.DataFrame:
    if "checked_at" not in results.columns:
        return results
    # Monitors are recorded after the gate checks of the same run: take the newest of each kind.
    kind = results["expectation"].astype(str).str.startswith("monitor_") if "expectation" in results else False
    newest = results.groupby([results["table"], kind])["checked_at"].transform("max")
    return results[results["checked_at"] == newest]


def quarantine_counts(frames: Iterable[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Quarantined rows per table and rule/reason."""
    parts = []
    for table_id, frame in frames:
        if frame.empty:
            continue
        keys = [c for c in ("_rule", "_reason") if c in frame.columns] or list(frame.columns[:1])
        counts = frame.groupby(keys, dropna=False).size().reset_index(name="rows")
        counts.insert(0, "table", table_id)
        parts.append(counts)
    if not parts:
        return pd.DataFrame(columns=["table", "_rule", "_reason", "rows"])
    return pd.concat(parts, ignore_index=True).sort_values(["table", "rows"], ascending=[True, False])


def _seconds_since(moment: dt.datetime, now: dt.datetime | None) -> float:
    return max(0.0, ((now or dt.datetime.now(dt.UTC)) - moment).total_seconds())


def age_text(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'3 h 12 min ago'-style freshness of a commit."""
    if moment is None:
        return MISSING
    seconds = _seconds_since(moment, now)
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min ago"
    return f"{seconds / 86400:.1f} days ago"


def age_short(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The same age in at most six characters ('45 s', '12 min', '3.2 h', '1.5 d', '1.1 y'): a KPI tile's value.

    A tile is about a fifth of a 1400-px page: '1 min ago' is already cut there, '3 h 12 min ago' more so.
    """
    if moment is None:
        return MISSING
    seconds = _seconds_since(moment, now)
    if seconds < 3600:
        return f"{int(seconds)} s" if seconds < 60 else f"{int(seconds // 60)} min"
    days = seconds / 86400
    if days < 1:
        return f"{seconds / 3600:.1f} h"
    return f"{days:.1f} d" if days < 99.95 else f"{days / 365:.1f} y"


# ---------------------------------------------------------------------------- lineage


LAYER_ORDER = ("bronze", "silver", "gold")
INTRA_LAYER_SHIFT = 0.3


def dag_positions(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """x by layer, y spread within a layer and ordered by the mean height of each node's inputs.

    Ordering by the inputs' heights (a one-pass barycentre heuristic) keeps most
    edges from crossing without a graph-layout dependency. A table built from another
    table of its own layer sits a little to the right, so that edge stays visible.
    """
    by_layer: dict[str, list[str]] = {}
    for node in nodes:
        by_layer.setdefault(_layer(node), []).append(node)
    layers = [layer for layer in LAYER_ORDER if layer in by_layer] + sorted(set(by_layer) - set(LAYER_ORDER))
    inputs: dict[str, list[str]] = {}
    for source, target in edges:
        inputs.setdefault(target, []).append(source)

    def depth(node: str, seen: frozenset[str] = frozenset()) -> int:
        same = [s for s in inputs.get(node, []) if _layer(s) == _layer(node) and s not in seen]
        return 1 + max(depth(s, seen | {node}) for s in same) if same else 0

    positions: dict[str, tuple[float, float]] = {}
    for x, layer in enumerate(layers):
        members = by_layer[layer]

        def height(node: str) -> tuple[float, str]:
            ys = [positions[s][1] for s in inputs.get(node, []) if s in positions]
            return (-(sum(ys) / len(ys)) if ys else 0.0, node)

        ordered = sorted(members, key=height) if x else sorted(members)
        count = len(ordered)
        for index, node in enumerate(ordered):
            positions[node] = (x + INTRA_LAYER_SHIFT * min(depth(node), 2), (count - 1) / 2 - index)
    return positions


def _layer(table_id: str) -> str:
    return table_id.split(".", 1)[0]
