"""Lineage: the table DAG as the tables' own Delta commits record it, with each table's version and rows.

Every build the runner writes carries, in its commit metadata, the version of each input it
read (``{"inputs": {"silver.events": 3, ...}}``), so the graph is read from the Delta logs with
delta-rs (see ``data.lineage``), without pyspark or Great Expectations. The graph is what was
built, with the input versions each table was built from, rather than what is declared: a
declared table the pipeline never wrote does not appear until its first build.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui

ctx = ui.setup("Lineage", ":material/account_tree:")


def _versions(inputs: dict[str, int | None]) -> str:
    return ", ".join(f"{t} v{v}" if v is not None else t for t, v in sorted(inputs.items()))


with ui.guard():
    graph = data.lineage(ctx.settings)
    if not graph.tables:
        ui.empty_state(ctx.settings, [f"{layer}.*" for layer in data.LINEAGE_LAYERS])
        st.stop()

    infos = graph.tables
    edges = graph.edges
    nodes = {t: t.split(".", 1)[0] for t in infos}
    hover = {
        t: f"<b>{t}</b>"
        + (
            f"<br>Delta version {i.version}, {ui.count(i.rows)} rows"
            + (f"<br>built from {_versions(i.inputs)}" if i.inputs else "")
            if i
            else "<br>not in the lakehouse"
        )
        for t, i in infos.items()
    }
    built = [i for i in infos.values() if i]
    gold = [i for i in built if i.table_id.startswith("gold.")]
    st.caption(
        "Drawn from the inputs each table's latest build recorded in its Delta commit. "
        "Arrows point from an input to the table built from it."
    )
    cards = st.columns(4)
    ui.metric(cards[0], "Tables", len(nodes), help="Built tables and the inputs they name.")
    ui.metric(cards[1], "Tables built", len(built))
    ui.metric(cards[2], "Dependencies", len(edges))
    ui.metric(
        cards[3],
        "Gold rows",
        sum(i.rows or 0 for i in gold),
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
    ui.table(
        pd.DataFrame(
            [
                {
                    "table": t,
                    "layer": layer,
                    "inputs": ", ".join(s for s, d in edges if d == t) or None,
                    "built_from": (_versions(infos[t].inputs or {}) or None) if infos[t] else None,
                    "delta_version": infos[t].version if infos[t] else None,
                    "rows": infos[t].rows if infos[t] else None,
                }
                for t, layer in nodes.items()
            ]
        ),
        column_config={
            "built_from": st.column_config.TextColumn("built from", help="Input versions of the last build")
        },
    )
