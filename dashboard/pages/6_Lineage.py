"""Lineage: the table DAG as the catalog declares it, with each table's Delta version and rows.

The catalog imports the layer declaration modules, which import pyspark types and
Great Expectations (about 9 s on 2 cores), so it is loaded once per server process
(``st.cache_resource``). When it cannot be imported (a dashboard-only install), the
graph falls back to the inputs each table's last commit recorded.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from lakehouse.settings import Settings

FALLBACK_TABLES = (
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


@st.cache_resource(show_spinner="Loading the table catalog (first time only)…")
def catalog_graph(_settings: Settings, root: str) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """(table -> layer, edges, table -> description) from the declarations; ``root`` keys the cache."""
    from lakehouse.catalog import load_catalog

    catalog = load_catalog(_settings)
    nodes = {t.id: t.layer for t in catalog}
    about = {t.id: f"<b>{t.id}</b><br>{t.grain}<br>{t.description}" for t in catalog}
    return nodes, catalog.edges(), about


def commit_graph(settings: Settings) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """The same graph from the ``inputs`` the runner writes into each table's commit metadata."""
    runs = data.load_table(settings, "ops.pipeline_runs", columns=("table",))
    tables = sorted(runs["table"].dropna().unique()) if "table" in runs.columns else list(FALLBACK_TABLES)
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for table_id in tables:
        info = data.table_info(settings, table_id)
        if info is None:
            continue
        nodes[table_id] = table_id.split(".", 1)[0]
        for source in info.inputs:
            nodes.setdefault(source, source.split(".", 1)[0])
            edges.append((source, table_id))
    return nodes, edges, {n: f"<b>{n}</b>" for n in nodes}


ctx = ui.setup("Lineage", ":material/account_tree:")

with ui.guard():
    try:
        nodes, edges, about = catalog_graph(ctx.settings, ctx.settings.root)
        source = "the table catalog (`lakehouse.catalog`)"
    except Exception as exc:  # any import or declaration failure means: use the fallback
        st.warning(
            f"The table catalog could not be loaded ({type(exc).__name__}: {exc}); showing the lineage "
            "recorded in the tables' Delta commits instead."
        )
        nodes, edges, about = commit_graph(ctx.settings)
        source = "the inputs recorded in each table's last Delta commit"
    if not nodes:
        ui.empty_state(ctx.settings, ["ops.pipeline_runs"])
        st.stop()

    infos = {t: data.table_info(ctx.settings, t) for t in nodes}
    hover = {
        t: about.get(t, t) + (f"<br>Delta version {i.version}, {ui.count(i.rows)} rows" if i else "<br>not built yet")
        for t, i in infos.items()
    }
    built = [i for i in infos.values() if i]
    gold = [i for i in built if i.table_id.startswith("gold.")]
    st.caption(f"Drawn from {source}. Arrows point from an input to the table built from it.")
    cards = st.columns(4)
    cards[0].metric("Tables declared", ui.count(len(nodes)), border=True)
    cards[1].metric("Tables built", ui.count(len(built)), border=True)
    cards[2].metric("Dependencies", ui.count(len(edges)), border=True)
    cards[3].metric(
        "Gold rows",
        ui.count(sum(i.rows or 0 for i in gold)),
        border=True,
        help="Rows across the built gold tables, from the Delta logs.",
    )
    if gold:
        st.markdown(
            "Gold tables built: "
            + " · ".join(
                f"`{i.table_id}` v{i.version}, {ui.count(i.rows)} rows" for i in sorted(gold, key=lambda i: i.table_id)
            )
        )
    st.plotly_chart(charts.lineage(nodes, edges, hover), key="lineage")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "table": t,
                    "layer": layer,
                    "inputs": ", ".join(s for s, d in edges if d == t),
                    "delta_version": infos[t].version if infos[t] else None,
                    "rows": infos[t].rows if infos[t] else None,
                }
                for t, layer in nodes.items()
            ]
        ),
        hide_index=True,
    )
