"""Gold: KPIs, experiment results, funnels and fact tables, read by the dashboard."""
