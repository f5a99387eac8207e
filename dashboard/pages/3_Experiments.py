"""Experiments: per-variant users, conversion, lift with its 95% CI and p-value, SRM check, verdict.

Reads gold.experiment_results (statistics as METRICS.md defines them; this page
only presents them). Experiment windows are fixed by the experiments themselves,
so the sidebar's date range does not apply here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import SRM_ALPHA, experiment_verdict

TABLE = "gold.experiment_results"
REQUIRED = ("experiment_id", "variant", "users", "conversion_rate")


def variant_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as people read them: percentages, lift as 'x pp [low, high]'."""

    def pp(value: object) -> str:
        return "" if pd.isna(value) else f"{float(value) * 100:+.2f} pp"

    table = pd.DataFrame({
        "variant": rows["variant"].astype(str),
        "users": rows["users"].map(ui.count),
        "converters": rows["converters"].map(ui.count) if "converters" in rows.columns else "",
        "conversion": rows["conversion_rate"].map(ui.pct),
        "revenue / user": rows["revenue_per_user"].map(ui.money) if "revenue_per_user" in rows.columns else "",
        "lift": rows["abs_lift"].map(pp) if "abs_lift" in rows.columns else "",
        "95% CI": [
            "" if pd.isna(low) else f"[{pp(low)}, {pp(high)}]"
            for low, high in zip(rows.get("ci_low", pd.Series(index=rows.index)),
                                 rows.get("ci_high", pd.Series(index=rows.index)), strict=False)
        ],
        "relative lift": rows["rel_lift"].map(lambda v: "" if pd.isna(v) else f"{v:+.1%}")
        if "rel_lift" in rows.columns else "",
        "p-value": rows["p_value"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}") if "p_value" in rows.columns else "",
        "significant": rows["significant"].map(lambda v: "" if pd.isna(v) else ("yes" if v else "no"))
        if "significant" in rows.columns else "",
    })
    return table


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

    st.caption("The first variant is the control. Lift is the difference in conversion rate vs the control; "
               f"SRM is flagged when the chi-square p-value of users vs the planned split is below {SRM_ALPHA}.")
    order = [c for c in ("experiment_id", "variant_index") if c in results.columns]
    for experiment_id, rows in results.sort_values(order).groupby("experiment_id", sort=True):
        verdict = experiment_verdict(str(experiment_id), rows.reset_index(drop=True))
        st.subheader(f"Experiment {experiment_id}")
        if verdict.srm:
            st.warning(f"Sample ratio mismatch: users per variant differ from the planned allocation "
                       f"(SRM p-value {verdict.srm_p_value:.2g} < {SRM_ALPHA}). The results below are not "
                       "trustworthy until assignment or logging is fixed.", icon=":material/warning:")
        cards = st.columns(min(len(rows), 4) + 1)
        cards[0].metric("Users", ui.count(rows["users"].sum()), border=True)
        for column, (_, row) in zip(cards[1:], rows.iterrows(), strict=False):
            lift = row.get("abs_lift")
            column.metric(f"{row['variant']} conversion", ui.pct(row["conversion_rate"]),
                          None if pd.isna(lift) else f"{float(lift) * 100:+.2f} pp vs {verdict.control}",
                          border=True)
        show = {"winner": st.success, "loser": st.warning, "srm": st.error}.get(verdict.tone, st.info)
        show(f"**Verdict:** {verdict.headline}", icon=":material/gavel:")
        for line in verdict.lines:
            st.markdown(f"- {line}")
        st.dataframe(variant_table(rows), hide_index=True)
        left, right = st.columns(2)
        left.plotly_chart(charts.conversion_bars(rows), key=f"conversion_{experiment_id}")
        if {"abs_lift", "ci_low", "ci_high"} <= set(rows.columns) and rows["abs_lift"].notna().any():
            right.plotly_chart(charts.lift_forest(rows, verdict.control), key=f"lift_{experiment_id}")
