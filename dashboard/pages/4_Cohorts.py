"""Cohorts: monthly retention of customers by the month of their first purchase.

Reads gold.retention_cohorts. Every cohort is shown whatever the sidebar's date
range, because a retention curve needs the months after the cohort's start.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import month_label, retention_matrix

TABLE = "gold.retention_cohorts"
REQUIRED = ("cohort_month", "month_offset")

ctx = ui.setup("Cohorts", ":material/group:")

with ui.guard():
    cohorts = data.load_table(ctx.settings, TABLE)
    if cohorts.empty:
        if data.exists(ctx.settings, TABLE):
            st.info("gold.retention_cohorts has no rows yet: no customer has a sale.")
        else:
            ui.empty_state(ctx.settings, [TABLE])
        st.stop()
    missing = [c for c in REQUIRED if c not in cohorts.columns]
    if "retention_rate" not in cohorts.columns and not {"active_customers", "cohort_size"} <= set(cohorts.columns):
        missing.append("retention_rate")
    if missing:
        ui.missing_columns(TABLE, missing, list(cohorts.columns))
        st.stop()

    matrix, sizes = retention_matrix(cohorts)
    latest = month_label(cohorts["cohort_month"].max())
    st.caption("Cohort = month of a customer's first sale; month k = share of the cohort with a sale k months later.")
    cards = st.columns(4)
    ui.metric(cards[0], "Cohorts", len(matrix))
    ui.metric(cards[1], "Customers", sizes.sum(), help="Sum of cohort sizes.")
    ui.metric(cards[2], f"Newest cohort ({latest})", sizes.get(latest))
    month_one = matrix[1].dropna() if 1 in matrix.columns else matrix.iloc[:0, 0]
    weighted = (
        (month_one * sizes.reindex(month_one.index)).sum() / sizes.reindex(month_one.index).sum()
        if len(month_one)
        else None
    )
    cards[3].metric(
        "Month-1 retention",
        ui.pct(weighted, 1),
        border=True,
        help="Cohort-size weighted, over cohorts old enough to have a month 1.",
    )
    st.plotly_chart(charts.retention_heatmap(matrix, sizes), key="heatmap")
    with st.expander("Cohort rows"):
        ui.table(cohorts)
