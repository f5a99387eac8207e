"""Data health: the last run of each table, quality checks, quarantine, freshness and Delta versions.

Reads ops.pipeline_runs, ops.quality_results and the quarantine tables; versions
and freshness come from each table's Delta log (no data scan). The list of tables
is the one the runner reports in ops.pipeline_runs; before any run, the silver and gold
tables of the declarations (``lakehouse.catalog``, which loads without pyspark).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import age_short, age_text, check_summary, failed_checks, latest_runs, quarantine_counts
from lakehouse.catalog import load_catalog
from lakehouse.storage import quarantine_id

RUNS, RESULTS = "ops.pipeline_runs", "ops.quality_results"
OPS_TABLES = (RUNS, RESULTS, "ops.ingest_log")

ctx = ui.setup("Data health", ":material/health_and_safety:")

with ui.guard():
    runs = data.load_table(ctx.settings, RUNS)
    results = data.load_table(ctx.settings, RESULTS)
    if runs.empty and results.empty and not data.exists(ctx.settings, RUNS):
        ui.empty_state(ctx.settings, [RUNS, RESULTS])
        st.stop()

    if "table" in runs.columns:
        built = sorted(runs["table"].dropna().unique())
    else:  # no run recorded yet: the declared silver and gold tables
        built = sorted(t.id for t in load_catalog(ctx.settings) if t.layer in ("silver", "gold"))
    silver = [t.split(".", 1)[1] for t in built if t.startswith("silver.")]
    quarantine_ids = [quarantine_id(name) for name in silver]
    quarantined = quarantine_counts(
        (q, data.load_table(ctx.settings, q, columns=("_rule", "_reason"))) for q in quarantine_ids
    )

    now = dt.datetime.now(dt.UTC)
    infos = [info for t in (*built, *quarantine_ids, *OPS_TABLES) if (info := data.table_info(ctx.settings, t))]
    versions = pd.DataFrame(
        [
            {
                "table": i.table_id,
                "delta_version": i.version,
                "rows": i.rows,
                "last_commit": i.last_commit,
                "age": age_text(i.last_commit, now),
                "operation": i.operation,
                "age_hours": (now - i.last_commit).total_seconds() / 3600 if i.last_commit else None,
            }
            for i in infos
        ]
    )
    latest = latest_runs(runs)
    checks = check_summary(results)
    stale = versions[versions["age_hours"] > ctx.settings.freshness_warn_hours] if not versions.empty else versions

    cards = st.columns(5)
    failed_runs = int((latest["status"] == "failed").sum()) if "status" in latest.columns else 0
    ui.metric(cards[0], "Tables", len(built), help="Tables the pipeline reported runs for.")
    ui.metric(cards[1], "Failed latest runs", failed_runs)
    ui.metric(
        cards[2],
        "Failed checks",
        checks["failed"].sum() if not checks.empty else 0,
        help="In each table's latest validation.",
    )
    ui.metric(cards[3], "Quarantined rows", quarantined["rows"].sum() if not quarantined.empty else 0)
    newest = max((i.last_commit for i in infos if i.last_commit), default=None)
    cards[4].metric(
        "Since last commit", age_short(newest, now), help=f"Last commit: {age_text(newest, now)}", border=True
    )
    if not stale.empty:
        st.warning(
            f"{len(stale)} table(s) not written for more than {ctx.settings.freshness_warn_hours:g} h: "
            + ", ".join(stale["table"])
        )

    st.subheader("Latest run per table")
    if latest.empty:
        st.info("ops.pipeline_runs has no runs yet.")
    else:
        if {"started_at", "finished_at"} <= set(latest.columns):
            latest = latest.assign(seconds=(latest["finished_at"] - latest["started_at"]).dt.total_seconds())
        shown = [
            c
            for c in (
                "table",
                "status",
                "rows_in",
                "rows_written",
                "quarantined",
                "deduplicated",
                "delta_version",
                "started_at",
                "seconds",
                "message",
                "run_id",
            )
            if c in latest.columns
        ]
        ui.table(latest[shown])

    st.subheader("Quality checks")
    if checks.empty:
        st.info("ops.quality_results has no checks yet.")
    else:
        ui.table(checks)
        failures = failed_checks(results)
        if failures.empty:
            st.success("Every check of the latest validations passed.")
        else:
            with st.expander(f"{len(failures)} failing check(s)", expanded=True):
                ui.table(failures)

    st.subheader("Quarantine")
    if quarantined.empty:
        st.info("No quarantined rows.")
    else:
        ui.table(quarantined)

    st.subheader("Freshness and Delta versions")
    if versions.empty:
        st.info("No tables found.")
    else:
        st.plotly_chart(charts.freshness(versions.dropna(subset=["age_hours"])), key="freshness")
        ui.table(versions.drop(columns=["age_hours"]))

    st.subheader("Data Docs")
    docs = data.data_docs_location(ctx.settings)
    if docs:
        st.markdown(f"Great Expectations Data Docs: `{docs}` (open it in a browser; offline it renders unstyled).")
    else:
        st.caption("No Data Docs folder found next to the lakehouse root (`data_docs`).")
