"""Products & categories: top sellers, category mix, sales spikes, and stock cover.

Reads gold.product_daily, gold.category_daily, silver.products (names) and
silver.stock. Each block renders on its own, so a missing table empties only its block.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

PRODUCTS, CATEGORIES, STOCK = "gold.product_daily", "gold.category_daily", "silver.stock"
COVER_WINDOW_DAYS = 7

ctx = ui.setup("Products & categories", ":material/inventory_2:")

with ui.guard():
    if not any(data.exists(ctx.settings, t) for t in (PRODUCTS, CATEGORIES, STOCK)):
        ui.empty_state(ctx.settings, [PRODUCTS, CATEGORIES, STOCK])
        st.stop()

    st.subheader("Top products")
    top = data.top_products(ctx.settings, ctx.start, ctx.end, limit=15)
    if not data.exists(ctx.settings, PRODUCTS):
        ui.empty_state(ctx.settings, [PRODUCTS])
    elif top.empty:
        ui.no_rows(ctx.start, ctx.end)
    else:
        best = top.iloc[0]
        best_name = ui.product_label(best["product_id"], best["name"])
        cards = st.columns(4)
        ui.metric(
            cards[0],
            "Top product revenue",
            best["revenue"],
            "money",
            delta=best_name,
            delta_color="off",
            delta_arrow="off",
            help="The best-selling product of the selected period.",
        )
        ui.metric(cards[1], "Revenue (top 15)", top["revenue"].sum(), "money")
        ui.metric(
            cards[2],
            "Products with a sales spike",
            int((top["spike_days"].fillna(0) > 0).sum()),
            help="Among the top 15: units sold > 1.5x the mean of the 7 previous dates.",
        )
        ui.metric(cards[3], "Units sold (top 15)", top["units_sold"].sum())
        st.plotly_chart(charts.top_products(top), key="top")
        ui.table(
            top,
            column_config={
                "revenue": st.column_config.NumberColumn("revenue", format="%.2f"),
                "units_sold": st.column_config.NumberColumn("units sold", format="%.0f"),
                "spike_days": st.column_config.NumberColumn("spike days", help="Dates flagged sales_spike"),
            },
        )

        daily = data.load_table(ctx.settings, PRODUCTS, ctx.start, ctx.end)
        if {"sales_spike", "units_sold", "product_id"} <= set(daily.columns):
            spiking = daily[daily["sales_spike"].fillna(False).astype(bool)]
            if spiking.empty:
                st.caption("No sales spikes in the selected period.")
            else:
                ranked = spiking.groupby("product_id")["units_sold"].max().sort_values(ascending=False)
                st.plotly_chart(charts.spikes(daily, list(ranked.index[:5])), key="spikes")
        else:
            ui.missing_columns(
                PRODUCTS, [c for c in ("sales_spike", "units_sold") if c not in daily.columns], list(daily.columns)
            )

    st.subheader("Categories")
    categories = data.load_table(ctx.settings, CATEGORIES, ctx.start, ctx.end)
    if categories.empty:
        if data.exists(ctx.settings, CATEGORIES):
            ui.no_rows(ctx.start, ctx.end)
        else:
            ui.empty_state(ctx.settings, [CATEGORIES])
    elif not {"category", "revenue", "date"} <= set(categories.columns):
        ui.missing_columns(CATEGORIES, ["category/revenue/date"], list(categories.columns))
    else:
        measures = ["revenue"] + (["units"] if "units" in categories.columns else [])
        totals = categories.groupby("category", as_index=False)[measures].sum().sort_values("revenue", ascending=False)
        left, right = st.columns([2, 1])
        left.plotly_chart(charts.category_stack(categories), key="categories")
        right.plotly_chart(charts.category_share(totals), key="share")
        ui.table(totals, column_config={"revenue": st.column_config.NumberColumn("revenue", format="%.2f")})

    st.subheader("Stock on hand")
    if not data.exists(ctx.settings, STOCK):
        ui.empty_state(ctx.settings, [STOCK])
    else:
        cover = data.stock_cover(ctx.settings, ctx.end, COVER_WINDOW_DAYS)
        if cover.empty:
            st.info("No stock snapshot to show.")
        else:
            snapshot = cover["snapshot_date"].max()
            low = cover[cover["on_hand"] <= cover["reorder_point"]] if "reorder_point" in cover.columns else cover[:0]
            st.caption(
                f"Latest snapshot on or before {ctx.end:%Y-%m-%d}: {snapshot}. Days of cover = on hand / average "
                f"daily units over the {COVER_WINDOW_DAYS} days ending {ctx.end:%Y-%m-%d} (days without sales "
                "count as 0; empty when nothing sold)."
            )
            cards = st.columns(3)
            ui.metric(cards[0], "Units on hand", cover["on_hand"].sum())
            ui.metric(cards[1], "At or below reorder point", len(low))
            ui.metric(cards[2], "Median days of cover", cover["days_of_cover"].median(), "decimal")
            if cover["days_of_cover"].notna().any():
                st.plotly_chart(charts.days_of_cover(cover), key="cover")
            ui.table(
                cover,
                column_config={
                    "days_of_cover": st.column_config.NumberColumn("days of cover", format="%.1f"),
                    "avg_daily_units": st.column_config.NumberColumn("avg daily units", format="%.2f"),
                },
            )
