"""Plotly figures for the pages: one function per chart, DataFrame in, Figure out.

Charts live apart from the page scripts so every page shares the same look (margins,
colours, hover formats) and a chart can be built in a test without a running app.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.summaries import dag_positions

LAYER_COLOURS = {"bronze": "#b0723a", "silver": "#8c9aa6", "gold": "#d4a017", "ops": "#5b8def", "quarantine": "#d9534f"}
ACCENT = "#1f77b4"
SECOND = "#ff7f0e"
ALERT = "#d62728"


def _figure(
    traces: Sequence[go.Bar | go.Scatter | go.Pie | go.Funnel | go.Heatmap],
    title: str,
    height: int = 340,
    **layout: Any,
) -> go.Figure:
    """One Figure built in a single constructor call, in the shared look (margins, title, legend, hover).

    Plotly validates every ``update_layout``/``update_yaxes``/``add_trace`` call separately, and
    ``make_subplots`` builds a whole grid; building traces and layout first and handing them to
    ``go.Figure`` once makes a chart about five times cheaper to build (page time, not looks).
    """
    base: dict[str, Any] = {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
    }
    return go.Figure(data=list(traces), layout={**base, **layout})


def dual_axis(
    frame: pd.DataFrame,
    x: str,
    bar: str,
    line: str,
    title: str,
    bar_label: str,
    line_label: str,
    line_format: str = ",.2f",
) -> go.Figure:
    """Bars for a volume (revenue, sessions) and a line for a second measure on its own (right) axis."""
    return _figure(
        [
            go.Bar(x=frame[x], y=frame[bar], name=bar_label, marker_color=ACCENT, opacity=0.8),
            go.Scatter(
                x=frame[x],
                y=frame[line],
                name=line_label,
                mode="lines+markers",
                line={"color": SECOND},
                hovertemplate=f"%{{y:{line_format}}}",
                yaxis="y2",
            ),
        ],
        title,
        # the axes make_subplots(secondary_y=True) lays out, declared directly
        xaxis={"anchor": "y", "domain": [0.0, 0.94]},
        yaxis={"anchor": "x", "domain": [0.0, 1.0], "title": {"text": bar_label}, "rangemode": "tozero"},
        yaxis2={
            "anchor": "x",
            "overlaying": "y",
            "side": "right",
            "title": {"text": line_label},
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": ".1%" if line_format.endswith("%") else ",.0f",
        },
    )


def lines(frame: pd.DataFrame, x: str, columns: Mapping[str, str], title: str) -> go.Figure:
    """Several measures over time as lines (column -> label)."""
    return _figure(
        [
            go.Scatter(x=frame[x], y=frame[column], name=label, mode="lines+markers")
            for column, label in columns.items()
            if column in frame.columns
        ],
        title,
    )


def top_products(frame: pd.DataFrame, title: str = "Top products by revenue") -> go.Figure:
    """Horizontal bars, biggest on top, shaded from blue (no spike) to red (most spike days), spike count as text.

    A shade rather than a flag: in busy periods most top sellers spike at least once,
    and an all-red chart would highlight nothing.
    """
    frame = frame.iloc[::-1]
    labels = [
        f"{name} ({pid})" if isinstance(name, str) and name else str(pid)
        for pid, name in zip(frame["product_id"], frame["name"], strict=False)
    ]
    spikes = frame["spike_days"].fillna(0).astype(float)
    bars = go.Bar(
        x=frame["revenue"],
        y=labels,
        orientation="h",
        marker={
            "color": spikes,
            "colorscale": [[0, ACCENT], [1, ALERT]],
            "cmin": 0,
            "cmax": max(1.0, float(spikes.max())),
        },
        text=[f"{int(n)} spike day{'s' if n != 1 else ''}" if n else "" for n in spikes],
        textposition="outside",
        customdata=frame[["units_sold", "spike_days"]].fillna(0).to_numpy(),
        hovertemplate="%{y}<br>revenue %{x:,.2f}<br>units %{customdata[0]:,.0f}"
        "<br>spike days %{customdata[1]:.0f}<extra></extra>",
    )
    return _figure([bars], title, height=max(300, 28 * len(frame) + 80), hovermode="closest")


def category_stack(frame: pd.DataFrame, measure: str = "revenue") -> go.Figure:
    """Daily revenue stacked by category."""
    return _figure(
        [
            go.Bar(x=part["date"], y=part[measure], name=str(category))
            for category, part in frame.sort_values("date").groupby("category")
        ],
        f"Daily {measure} by category",
        barmode="stack",
    )


def category_share(totals: pd.DataFrame, measure: str = "revenue") -> go.Figure:
    return _figure(
        [go.Pie(labels=totals["category"], values=totals[measure], hole=0.45, sort=True)],
        f"{measure.capitalize()} share by category",
        hovermode="closest",
    )


def spikes(daily: pd.DataFrame, product_ids: Sequence[str]) -> go.Figure:
    """Daily units of products that spiked; spike days marked with red diamonds (one marker trace for all)."""
    chosen = daily[daily["product_id"].isin(product_ids)].sort_values("date")
    by_product = dict(iter(chosen.groupby("product_id", sort=False)))
    lines = [
        go.Scatter(x=part["date"], y=part["units_sold"], name=str(pid), mode="lines+markers")
        for pid in product_ids
        if (part := by_product.get(pid)) is not None
    ]
    hits = chosen[chosen["sales_spike"].fillna(False).astype(bool)]
    marks = go.Scatter(
        x=hits["date"],
        y=hits["units_sold"],
        mode="markers",
        showlegend=False,
        name="spike",
        text=hits["product_id"].astype(str),
        hovertemplate="%{text} spike: %{y}<extra></extra>",
        marker={"symbol": "diamond", "size": 13, "color": ALERT, "line": {"width": 1, "color": "white"}},
    )
    return _figure([*lines, marks], "Units sold of products with sales spikes (spike days in red)")


def days_of_cover(frame: pd.DataFrame, limit: int = 20) -> go.Figure:
    """Products with the least cover first; products at or below their reorder point in the alert colour."""
    part = frame.dropna(subset=["days_of_cover"]).head(limit).iloc[::-1]
    below = (part["on_hand"] <= part["reorder_point"]) if "reorder_point" in part.columns else False
    colours = [ALERT if b else ACCENT for b in (below if isinstance(below, pd.Series) else [False] * len(part))]
    bars = go.Bar(
        x=part["days_of_cover"],
        y=part["product_id"].astype(str),
        orientation="h",
        marker_color=colours,
        customdata=part[["on_hand", "avg_daily_units"]].to_numpy(),
        hovertemplate="%{y}: %{x:.1f} days<br>on hand %{customdata[0]:,.0f}"
        "<br>avg daily units %{customdata[1]:.2f}<extra></extra>",
    )
    return _figure(
        [bars],
        "Days of cover (lowest first; red = at or below reorder point)",
        height=max(300, 24 * len(part) + 80),
        hovermode="closest",
    )


def funnel(totals: pd.DataFrame, title: str) -> go.Figure:
    labels = totals["step_name"] if "step_name" in totals.columns else totals["step"].astype(str)
    return _figure(
        [go.Funnel(y=labels, x=totals["sessions_reached"], textinfo="value+percent initial")],
        title,
        hovermode="closest",
    )


def step_conversion(totals: pd.DataFrame, group: str, title: str) -> go.Figure:
    """Step conversion per step, one bar series per device or variant."""
    later = totals[totals["step_conversion"].notna()]
    labels_column = "step_name" if "step_name" in later.columns else "step"
    return _figure(
        [
            go.Bar(
                x=part[labels_column].astype(str), y=part["step_conversion"], name=str(name), hovertemplate="%{y:.1%}"
            )
            for name, part in later.groupby(group, sort=True)
        ],
        title,
        barmode="group",
        yaxis={"tickformat": ".0%"},
    )


def lift_forest(rows: pd.DataFrame, control: str) -> go.Figure:
    """Absolute lift in conversion vs the control with its 95% CI, per variant; zero marked."""
    treated = rows[rows["variant"].astype(str) != control]
    lift = treated["abs_lift"].astype(float) * 100
    points = go.Scatter(
        x=lift,
        y=treated["variant"].astype(str),
        mode="markers",
        marker={"size": 12, "color": [ALERT if bool(s) else ACCENT for s in treated.get("significant", [])]},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": treated["ci_high"].astype(float) * 100 - lift,
            "arrayminus": lift - treated["ci_low"].astype(float) * 100,
        },
        hovertemplate="%{y}: %{x:+.2f} pp<extra></extra>",
    )
    # the vertical zero line add_vline draws: x in data units, y across the whole plot
    zero = {
        "type": "line",
        "x0": 0,
        "x1": 0,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"dash": "dash", "color": "grey"},
    }
    return _figure(
        [points],
        f"Lift in conversion vs {control} (pp, 95% CI)",
        height=120 + 60 * max(1, len(treated)),
        hovermode="closest",
        xaxis={"title": {"text": "percentage points"}},
        shapes=[zero],
    )


def sequential_boundary(path: pd.DataFrame, title: str, scale: float = 1.0, unit: str = "") -> go.Figure:
    """One variant's cumulative estimate per look (date), inside its always-valid confidence sequence
    (light band, valid at every look) and the fixed-horizon 95% CI (darker band, valid at one planned
    look only); zero marked. Values are multiplied by ``scale`` (a rate x100 in percentage points).
    """
    path = path.sort_values("date")

    def values(column: str) -> pd.Series:
        if column not in path.columns:
            return pd.Series(float("nan"), index=path.index)
        numbers = pd.to_numeric(path[column], errors="coerce")
        return numbers.astype("float64").replace([float("inf"), float("-inf")], float("nan")) * scale

    suffix = f" {unit}" if unit else ""
    number = "+.2f" if unit else "+,.3f"
    x = path["date"]

    def band(low: str, high: str, name: str, colour: str) -> list[go.Scatter]:
        upper, lower = values(high), values(low)
        return [
            go.Scatter(x=x, y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
            go.Scatter(
                x=x,
                y=lower,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=colour,
                name=name,
                customdata=upper,
                hovertemplate=f"%{{y:{number}}} to %{{customdata:{number}}}{suffix}",
            ),
        ]

    users = pd.to_numeric(path["users"], errors="coerce") if "users" in path.columns else pd.Series(0, path.index)
    estimate = go.Scatter(
        x=x,
        y=values("estimate"),
        name="cumulative estimate",
        mode="lines+markers",
        line={"color": ACCENT},
        customdata=users.fillna(0).to_numpy(),
        hovertemplate=f"%{{y:{number}}}{suffix} (%{{customdata:,.0f}} users)",
    )
    # the horizontal zero line add_hline draws: y in data units, x across the whole plot
    zero = {
        "type": "line",
        "y0": 0,
        "y1": 0,
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "line": {"dash": "dash", "color": "grey"},
    }
    return _figure(
        [
            *band("cs_low", "cs_high", "always-valid 95% confidence sequence", "rgba(31, 119, 180, 0.12)"),
            *band("ci_low", "ci_high", "fixed-horizon 95% CI", "rgba(31, 119, 180, 0.30)"),
            estimate,
        ],
        title,
        yaxis={"title": {"text": f"difference{suffix}"}, "zeroline": False},
        shapes=[zero],
    )


def conversion_bars(rows: pd.DataFrame, title: str = "Conversion rate by variant") -> go.Figure:
    bars = go.Bar(
        x=rows["variant"].astype(str),
        y=rows["conversion_rate"],
        marker_color=ACCENT,
        text=["" if pd.isna(v) else f"{v:.2%}" for v in rows["conversion_rate"].astype(float)],
        textposition="outside",
        hovertemplate="%{x}: %{y:.2%}<extra></extra>",
    )
    return _figure([bars], title, height=300, yaxis={"tickformat": ".1%"})


def retention_heatmap(matrix: pd.DataFrame, sizes: pd.Series) -> go.Figure:
    """Cohorts down, months since first purchase across; cell text is the retention percentage."""
    labels = [f"{cohort} (n={int(size)})" if pd.notna(size) else cohort for cohort, size in sizes.items()]
    values = matrix.to_numpy(dtype=float)
    text = [[("" if pd.isna(v) else f"{v:.0%}") for v in row] for row in values]
    cells = go.Heatmap(
        z=values,
        x=[f"M{int(c)}" for c in matrix.columns],
        y=labels,
        colorscale="Blues",
        zmin=0,
        zmax=1,
        text=text,
        texttemplate="%{text}",
        hovertemplate="%{y}, %{x}: %{z:.1%}<extra></extra>",
        colorbar={"tickformat": ".0%"},
    )
    return _figure(
        [cells],
        "Retention by cohort (share of the cohort buying again in month k)",
        height=max(300, 40 * len(labels) + 120),
        hovermode="closest",
        yaxis={"autorange": "reversed"},
    )


def freshness(info: pd.DataFrame) -> go.Figure:
    """Hours since each table's last Delta commit."""
    part = info.sort_values("age_hours")
    bars = go.Bar(
        x=part["age_hours"],
        y=part["table"],
        orientation="h",
        marker_color=[LAYER_COLOURS.get(t.split(".")[0], ACCENT) for t in part["table"]],
        hovertemplate="%{y}: %{x:.1f} h<extra></extra>",
    )
    return _figure([bars], "Hours since the last commit", height=max(260, 24 * len(part) + 90), hovermode="closest")


def lineage(nodes: Mapping[str, str], edges: Sequence[tuple[str, str]], hover: Mapping[str, str]) -> go.Figure:
    """The table DAG: columns by layer, arrows from input to output, node hover with what each table is."""
    positions = dag_positions(list(nodes), edges)
    arrows = [
        {
            "x": positions[target][0],
            "y": positions[target][1],
            "ax": positions[source][0],
            "ay": positions[source][1],
            "xref": "x",
            "yref": "y",
            "axref": "x",
            "ayref": "y",
            "showarrow": True,
            "arrowhead": 3,
            "arrowsize": 1.2,
            "arrowwidth": 1.5,
            "arrowcolor": "#888",
            "standoff": 14,
            "startstandoff": 14,
        }
        for source, target in edges
        if source in positions and target in positions
    ]
    traces = []
    for layer in dict.fromkeys(nodes.values()):
        members = [n for n, lay in nodes.items() if lay == layer and n in positions]
        traces.append(
            go.Scatter(
                x=[positions[n][0] for n in members],
                y=[positions[n][1] for n in members],
                mode="markers+text",
                name=layer,
                text=[n.split(".", 1)[1] for n in members],
                textposition="top center",
                marker={"size": 26, "color": LAYER_COLOURS.get(layer, ACCENT), "line": {"width": 2, "color": "white"}},
                customdata=[hover.get(n, n) for n in members],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    layers = sorted({int(x) for x, _ in positions.values()})
    names = {int(positions[n][0]): lay for n, lay in nodes.items() if n in positions}
    height = max(320, 70 * max((sum(1 for p in positions.values() if int(p[0]) == x) for x in layers), default=1))
    return _figure(
        traces,
        "Table lineage (hover a table for its inputs and versions)",
        height=height + 80,
        hovermode="closest",
        showlegend=True,
        annotations=arrows,
        xaxis={
            "tickvals": layers,
            "ticktext": [names[x] for x in layers],
            "showgrid": False,
            "zeroline": False,
            "range": [-0.5, max((x for x, _ in positions.values()), default=0) + 0.5],
        },
        yaxis={"visible": False},
    )
