"""Experiments: per-variant users, conversion, lift with its 95% CI and p-value, SRM check, verdict.

Reads gold.experiment_results (statistics as METRICS.md defines them; this page
only presents them) and, for names and windows, silver.experiments. Experiment
windows are fixed by the experiments themselves, so the sidebar's date range does
not apply here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import SRM_ALPHA, experiment_verdict

TABLE = "gold.experiment_results"
DECLARATIONS = "silver.experiments"  # names and windows, when present
REQUIRED = ("experiment_id", "variant", "users", "conversion_rate")


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
        show(f"**Verdict:** {verdict.headline}", icon=":material/gavel:")
        for line in verdict.lines:
            st.markdown(f"- {line}")
        ui.table(variant_table(rows))
        left, right = st.columns(2)
        left.plotly_chart(charts.conversion_bars(rows), key=f"conversion_{experiment_id}")
        if {"abs_lift", "ci_low", "ci_high"} <= set(rows.columns) and rows["abs_lift"].notna().any():
            right.plotly_chart(charts.lift_forest(rows, verdict.control), key=f"lift_{experiment_id}")
