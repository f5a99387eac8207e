"""Experiments: per-variant users, conversion, lift with its 95% CI and p-value, SRM check, verdict.

Reads gold.experiment_results (statistics as METRICS.md defines them; this page
only presents them) and, for names and windows, silver.experiments. Experiment
windows are fixed by the experiments themselves, so the sidebar's date range does
not apply here.

Below that, per experiment, the decision the pipeline took (gold.experiment_metrics: the
verdict line, every metric with its CUPED, multiplicity-adjusted and always-valid statistics, the
guardrails) and the sequential path of each goal metric (gold.experiment_sequential). A
lakehouse built before those tables existed shows the rest of the page and a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, data, summaries, ui
from dashboard.summaries import SRM_ALPHA, experiment_verdict

TABLE = "gold.experiment_results"
DECLARATIONS = "silver.experiments"  # names and windows, when present
REQUIRED = ("experiment_id", "variant", "users", "conversion_rate")
DECISIONS = "gold.experiment_metrics"  # one row per (experiment, treatment variant, metric)
SEQUENTIAL = "gold.experiment_sequential"  # one row per (experiment, variant, mean metric, date)
DECISION_REQUIRED = ("experiment_id", "variant", "metric", "verdict")
NOT_BUILT = (
    f"The decision tables (`{DECISIONS}`, `{SEQUENTIAL}`) are not built yet in this lakehouse: "
    "verdicts with multiple-testing correction, CUPED and sequential boundaries appear after the next "
    "`lakehouse run`."
)


def variant_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as people read them: counts with separators, percentages, lift as 'x pp [low, high]'."""

    def formatted(column: str, fmt: Callable[[Any], str]) -> pd.Series:
        if column not in rows.columns:
            return pd.Series(ui.MISSING, index=rows.index)
        return rows[column].map(lambda v: ui.MISSING if pd.isna(v) else fmt(v))

    def pp(value: Any) -> str:
        return f"{float(value) * 100:+.2f} pp"

    def bound(column: str) -> pd.Series:
        return pd.to_numeric(rows[column], errors="coerce") if column in rows.columns else pd.Series(None, rows.index)

    interval = [
        ui.MISSING if pd.isna(low) or pd.isna(high) else f"[{pp(low)}, {pp(high)}]"
        for low, high in zip(bound("ci_low"), bound("ci_high"), strict=True)
    ]
    return pd.DataFrame(
        {
            "variant": rows["variant"].astype(str),
            "users": formatted("users", ui.count),
            "converters": formatted("converters", ui.count),
            "conversion": formatted("conversion_rate", ui.pct),
            "lift": formatted("abs_lift", pp),
            "95% CI": interval,
            "relative lift": formatted("rel_lift", lambda v: f"{v:+.1%}"),
            "p-value": formatted("p_value", lambda v: f"{v:.4f}"),
            "significant": formatted("significant", lambda v: "yes" if v else "no"),
            "revenue / user": formatted("revenue_per_user", ui.money),
            "revenue p-value": formatted("revenue_p_value", lambda v: f"{v:.4f}"),
        }
    )


def describe(experiments: pd.DataFrame, experiment_id: str) -> str:
    """'Name, 2026-10-01 to 2026-10-14' from silver.experiments, or '' when it is not there."""
    if experiments.empty or "experiment_id" not in experiments.columns:
        return ""
    match = experiments[experiments["experiment_id"].astype(str) == experiment_id]
    if match.empty:
        return ""
    row = match.iloc[0]
    name = row.get("name")
    window = (
        f"{row['start_date']} to {row['end_date']}"
        if pd.notna(row.get("start_date")) and pd.notna(row.get("end_date"))
        else ""
    )
    return ", ".join(part for part in (name if isinstance(name, str) else "", window) if part)


def decision(experiment_id: str, rows: pd.DataFrame, paths: pd.DataFrame | None, control: str) -> None:
    """The pipeline's decision for one experiment: verdict, guardrails, metric table, CUPED, sequential charts.

    ``paths`` is the experiment's gold.experiment_sequential rows, None when that table is not built.
    """
    st.markdown("##### Decision")
    if rows.empty:
        st.caption(f"`{DECISIONS}` has no rows for this experiment.")
        return
    found = summaries.decision_verdict(rows)
    if found is not None:
        line, tone = found
        show = {"winner": st.success, "loser": st.warning, "srm": st.error}.get(tone, st.info)
        show(f"**Decision:** {line}", icon=":material/rule:")
    for guardrail in summaries.guardrail_status(rows):
        icon = {True: ":material/check_circle:", False: ":material/cancel:"}.get(guardrail.ok, ":material/help:")
        colour = {True: "green", False: "red"}.get(guardrail.ok, "gray")
        st.markdown(f":{colour}[{icon}] Guardrail {guardrail.text}")
    ui.table(summaries.decision_table(rows))
    notes = summaries.cuped_notes(rows)
    st.caption(
        "Adjusted p: corrected for multiple comparisons over the goal and secondary metrics x variants "
        "(guardrails are judged on their margin instead). "
        "Always-valid p and the confidence sequence stay valid however often the test is looked at."
        + (f" CUPED: {'; '.join(notes)}." if notes else "")
    )
    if paths is None:
        st.caption(f"Sequential boundaries: `{SEQUENTIAL}` is not built yet.")
        return
    goals = rows.loc[rows["role"] == "goal", "metric"].astype(str) if "role" in rows.columns else pd.Series(dtype=str)
    charted = [
        (metric, str(variant), path)
        for metric in dict.fromkeys(goals)
        if {"metric", "variant", "date"} <= set(paths.columns)
        for variant, path in paths[paths["metric"].astype(str) == metric].groupby("variant", sort=True)
    ]
    if not charted:
        st.caption(f"Sequential boundaries: `{SEQUENTIAL}` has no looks at this experiment's goal metric.")
        return
    columns = st.columns(2) if len(charted) > 1 else [st]
    for n, (metric, variant, path) in enumerate(charted):
        scale, unit = summaries.metric_scale(metric)
        title = f"Sequential boundary: {metric}, {variant} vs {control}" + (f" ({unit})" if unit else "")
        columns[n % len(columns)].plotly_chart(
            charts.sequential_boundary(path, title, scale, unit), key=f"sequential_{experiment_id}_{metric}_{variant}"
        )


ctx = ui.setup("Experiments", ":material/science:")

with ui.guard():
    results = data.load_table(ctx.settings, TABLE)
    if results.empty:
        if data.exists(ctx.settings, TABLE):
            st.info("gold.experiment_results has no rows: no experiment had exposures in its window.")
        else:
            ui.empty_state(ctx.settings, [TABLE])
        st.stop()
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        ui.missing_columns(TABLE, missing, list(results.columns))
        st.stop()

    st.caption(
        "The first variant is the control. Lift is the difference in conversion rate vs the control; "
        f"SRM is flagged when the chi-square p-value of users vs the planned split is below {SRM_ALPHA}."
    )
    declared = data.load_table(ctx.settings, DECLARATIONS, columns=("experiment_id", "name", "start_date", "end_date"))
    decisions = data.load_table(ctx.settings, DECISIONS)
    absent = [c for c in DECISION_REQUIRED if c not in decisions.columns]
    if decisions.empty:
        exists = data.exists(ctx.settings, DECISIONS)
        st.info(f"`{DECISIONS}` has no rows yet." if exists else NOT_BUILT, icon=":material/info:")
    elif absent:
        ui.missing_columns(DECISIONS, absent, list(decisions.columns))
    has_decisions = not decisions.empty and not absent
    sequential = data.load_table(ctx.settings, SEQUENTIAL) if has_decisions else data.EMPTY.copy()
    sequential_built = has_decisions and (not sequential.empty or data.exists(ctx.settings, SEQUENTIAL))
    order = [c for c in ("experiment_id", "variant_index") if c in results.columns]
    for experiment_id, rows in results.sort_values(order).groupby("experiment_id", sort=True):
        verdict = experiment_verdict(str(experiment_id), rows.reset_index(drop=True))
        st.subheader(f"Experiment {experiment_id}")
        about = describe(declared, str(experiment_id))
        if about:
            st.caption(about)
        if verdict.srm:
            st.warning(
                f"Sample ratio mismatch: users per variant differ from the planned allocation "
                f"(SRM p-value {verdict.srm_p_value:.2g} < {SRM_ALPHA}). The results below are not "
                "trustworthy until assignment or logging is fixed.",
                icon=":material/warning:",
            )
        cards = st.columns(min(len(rows), 4) + 1)
        ui.metric(cards[0], "Users", rows["users"].sum())
        for column, (_, row) in zip(cards[1:], rows.iterrows(), strict=False):
            lift = row.get("abs_lift")
            column.metric(
                f"{row['variant']} conversion",
                ui.pct(row["conversion_rate"]),
                None if pd.isna(lift) else f"{float(lift) * 100:+.2f} pp vs {verdict.control}",
                border=True,
            )
        show = {"winner": st.success, "loser": st.warning, "srm": st.error}.get(verdict.tone, st.info)
        # With the decision tables built, the verdict that counts is theirs (corrected for multiple
        # comparisons, guardrails checked); this one reads conversion alone.
        label = "Conversion alone (one uncorrected test)" if has_decisions else "Verdict"
        show(f"**{label}:** {verdict.headline}", icon=":material/gavel:")
        for line in verdict.lines:
            st.markdown(f"- {line}")
        ui.table(variant_table(rows))
        left, right = st.columns(2)
        left.plotly_chart(charts.conversion_bars(rows), key=f"conversion_{experiment_id}")
        if {"abs_lift", "ci_low", "ci_high"} <= set(rows.columns) and rows["abs_lift"].notna().any():
            right.plotly_chart(charts.lift_forest(rows, verdict.control), key=f"lift_{experiment_id}")
        if has_decisions:
            mine = decisions["experiment_id"].astype(str) == str(experiment_id)
            paths = None
            if sequential_built:
                paths = (
                    sequential[sequential["experiment_id"].astype(str) == str(experiment_id)]
                    if "experiment_id" in sequential.columns
                    else sequential
                )
            decision(str(experiment_id), decisions[mine], paths, verdict.control)
