"""Entry script of the dashboard (``streamlit run dashboard/app.py``): the navigation and the Overview page.

Overview shows the headline KPIs of the selected period, their change against the
period of equal length just before, and daily trends; it reads ``gold.daily_kpis``
only. The other pages are scripts in ``dashboard/pages/``, registered below with
``st.navigation`` so the sidebar shows proper titles (the implicit ``pages/`` menu
would label this page "app"); each page script also runs on its own.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.summaries import in_range, kpi_summary

TABLE = "gold.daily_kpis"


def overview() -> None:
    """The Overview page body."""
    ctx = ui.setup("Overview", ":material/monitoring:")
    with ui.guard():
        previous_start, previous_end = ctx.previous
        # one read covers both periods; they are split in memory
        daily = data.load_table(ctx.settings, TABLE, start=previous_start, end=ctx.end)
        if daily.empty and not data.exists(ctx.settings, TABLE):
            ui.empty_state(ctx.settings, [TABLE])
            st.stop()
        current = in_range(daily, "date", ctx.start, ctx.end).sort_values("date")
        before = in_range(daily, "date", previous_start, previous_end)
        if current.empty:
            ui.no_rows(ctx.start, ctx.end)
            st.stop()

        now, then = kpi_summary(current), kpi_summary(before)
        st.caption(
            f"{ctx.start:%Y-%m-%d} to {ctx.end:%Y-%m-%d} ({ctx.days} days, {now.days} with data); changes vs "
            f"{previous_start:%Y-%m-%d} to {previous_end:%Y-%m-%d}"
            + ("" if then.days else " (no data in that period)")
            + ". Gold KPIs are not split by device."
        )
        cards = st.columns(5)
        ui.metric(
            cards[0],
            "Revenue",
            now.revenue,
            "money",
            delta=ui.change(now.revenue, then.revenue),
            help="Sum of sale line revenue by order date (cancelled and returned lines excluded).",
        )
        ui.metric(
            cards[1],
            "Orders",
            now.orders,
            delta=ui.change(now.orders, then.orders),
            help="Orders with at least one sale line, summed over the days.",
        )
        ui.metric(
            cards[2],
            "AOV",
            now.aov,
            "money",
            delta=ui.change(now.aov, then.aov),
            help="Average order value: period revenue / period orders.",
        )
        ui.metric(
            cards[3],
            "Avg daily users",
            now.avg_active_users,
            "decimal",
            delta=ui.change(now.avg_active_users, then.avg_active_users),
            help="Mean of the daily distinct active users (distinct users over a period are not in gold).",
        )
        cards[4].metric(
            "Session conversion",
            ui.pct(now.session_conversion),
            ui.change_pp(now.session_conversion, then.session_conversion),
            border=True,
            help="Sessions with a purchase / sessions, over the whole period.",
        )

        left, right = st.columns(2)
        left.plotly_chart(
            charts.dual_axis(
                current,
                "date",
                "revenue",
                "orders",
                "Revenue and orders per day",
                "Revenue",
                "Orders",
                line_format=",.0f",
            ),
            key="revenue",
        )
        right.plotly_chart(
            charts.dual_axis(
                current,
                "date",
                "sessions",
                "session_conversion_rate",
                "Sessions and session conversion",
                "Sessions",
                "Conversion",
                line_format=".2%",
            ),
            key="sessions",
        )
        left.plotly_chart(
            charts.lines(
                current,
                "date",
                {"active_users": "Active users", "new_customers": "New customers"},
                "Active users and new customers",
            ),
            key="users",
        )
        right.plotly_chart(charts.lines(current, "date", {"aov": "AOV"}, "Average order value per day"), key="aov")

        with st.expander("Daily rows"):
            ui.table(current)


PAGES = [
    st.Page(overview, title="Overview", icon=":material/monitoring:", default=True),
    st.Page(
        "pages/1_Products_and_categories.py",
        title="Products & categories",
        icon=":material/inventory_2:",
        url_path="products",
    ),
    st.Page("pages/2_Funnels.py", title="Funnels", icon=":material/filter_alt:", url_path="funnels"),
    st.Page("pages/3_Experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
    st.Page("pages/4_Cohorts.py", title="Cohorts", icon=":material/group:", url_path="cohorts"),
    st.Page("pages/5_Data_health.py", title="Data health", icon=":material/health_and_safety:", url_path="data-health"),
    st.Page("pages/6_Lineage.py", title="Lineage", icon=":material/account_tree:", url_path="lineage"),
]

st.navigation(PAGES).run()
