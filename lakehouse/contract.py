"""The landing columns of the data contract (METRICS.md): one list per record kind, named once.

The built-in sources (``lakehouse/sources.toml``) declare these columns, the Kafka extract
parses a message into the event columns, and silver keeps these raw columns in a quarantined
row's ``_record``. The DuckDB reference in ``benchmarks/`` keeps its own copy on purpose: it
shares no code with the pipeline it checks.
"""

from __future__ import annotations

EVENT_COLUMNS = (
    "event_id",
    "event_ts",
    "user_id",
    "session_id",
    "event_type",
    "product_id",
    "order_id",
    "device",
    "country",
    "experiments",
    "properties",
)
ORDER_COLUMNS = (
    "order_id",
    "line_no",
    "order_ts",
    "customer_id",
    "product_id",
    "quantity",
    "unit_price",
    "discount",
    "status",
    "country",
)
