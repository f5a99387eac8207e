"""Funnels: product view -> add to cart -> checkout -> purchase, by device and by experiment variant.

Reads gold.funnel_daily (the sidebar's device filter applies here). Counts are
summed over the selected dates and the conversions re-derived from the sums.
Variant funnels show when the funnel table carries a ``variant`` column; without
one, the experiments' purchase conversion per variant stands in.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import funnel_totals, pick_devices

FUNNEL, EXPERIMENTS = "gold.funnel_daily", "gold.experiment_results"
REQUIRED = ("step", "sessions_reached")

ctx = ui.setup("Funnels", ":material/filter_alt:")

with ui.guard():
    frame = data.load_table(ctx.settings, FUNNEL, ctx.start, ctx.end, ctx.devices or ())
    if frame.empty and not data.exists(ctx.settings, FUNNEL):
        ui.empty_state(ctx.settings, [FUNNEL])
        st.stop()
    if frame.empty:
        ui.no_rows(ctx.start, ctx.end)
        st.stop()
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        ui.missing_columns(FUNNEL, missing, list(frame.columns))
        st.stop()

    chosen = pick_devices(frame, ctx.devices)
    overall = funnel_totals(chosen, by=())
    who = ", ".join(ctx.devices) if ctx.devices else "all devices"
    st.caption(
        f"{ctx.start:%Y-%m-%d} to {ctx.end:%Y-%m-%d}, {who}. A session reaches a step when it has "
        "the events of all earlier steps in time order."
    )

    cards = st.columns(len(overall) + 1)
    for column, (_, step) in zip(cards, overall.iterrows(), strict=False):
        label = str(step.get("step_name", step["step"]))
        rate = step["step_conversion"]
        ui.metric(
            column,
            f"Sessions: {label}",
            step["sessions_reached"],
            delta=None if pd.isna(rate) else f"{rate:.1%}",
            delta_color="off",
            delta_arrow="off",
            delta_description=None if pd.isna(rate) else "of previous step",
        )
    if not overall.empty:
        cards[-1].metric(
            "Overall conversion",
            ui.pct(overall["overall_conversion"].iloc[-1]),
            border=True,
            help="Sessions reaching the last step / sessions reaching the first.",
        )

    left, right = st.columns(2)
    left.plotly_chart(charts.funnel(overall, f"Funnel, {who}"), key="funnel")
    if "device" in frame.columns:
        per_device = funnel_totals(frame[frame["device"] != "all"], by=("device",))
        if not per_device.empty:
            right.plotly_chart(
                charts.step_conversion(per_device, "device", "Step conversion by device"), key="by_device"
            )
            with st.expander("Funnel by device"):
                ui.table(per_device)

    st.subheader("By experiment variant")
    if "variant" in frame.columns:
        by = tuple(c for c in ("experiment_id", "variant") if c in frame.columns)
        per_variant = funnel_totals(chosen, by=by)
        for experiment, rows in per_variant.groupby("experiment_id") if "experiment_id" in by else [("", per_variant)]:
            st.plotly_chart(
                charts.step_conversion(rows, "variant", f"Step conversion by variant {experiment}"),
                key=f"variant_{experiment}",
            )
    else:
        experiments = data.load_table(ctx.settings, EXPERIMENTS)
        if experiments.empty or not {"variant", "conversion_rate"} <= set(experiments.columns):
            st.info(
                "No funnel by variant: gold.funnel_daily has no `variant` column and there are no "
                "experiment results yet."
            )
        else:
            st.caption(
                "gold.funnel_daily is not split by variant; this is each variant's purchase conversion "
                "(converters / exposed users) from gold.experiment_results."
            )
            for experiment, rows in experiments.groupby("experiment_id"):
                st.plotly_chart(
                    charts.conversion_bars(rows, f"{experiment}: conversion rate by variant"),
                    key=f"experiment_{experiment}",
                )
