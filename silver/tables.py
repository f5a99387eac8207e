"""Silver table declarations: one ``TableDef`` per table, importable without Spark or Great Expectations.

A table cleaned from bronze (:func:`cleaned`) is MERGEd on its keys with a quarantine; its build
(``silver.<table>:build``, see ``silver.cleaning``) reads the declared inputs and de-duplicates on
the declared keys, so neither is written anywhere else. Builds, suites and schemas are named by
reference and imported when the runner needs them (``lakehouse.catalog.resolve``).
"""

from __future__ import annotations

from typing import Any

from lakehouse.catalog import TableDef, bound
from lakehouse.settings import Settings
from transforms.conditions import EVENT_MERGE_CONDITION, LATER_INGESTED_WINS, ORDER_LINE_MERGE_CONDITION


def cleaned(
    name: str,
    *,
    inputs: tuple[str, ...],
    keys: tuple[str, ...],
    grain: str,
    description: str,
    merge_condition: str = LATER_INGESTED_WINS,
    rule_args: dict[str, Any] | None = None,
    **declared: Any,
) -> TableDef:
    """A silver table cleaned from bronze ``inputs``: MERGEd on ``keys``, with a quarantine.

    Its build receives each input's new rows, and the keys, inputs and ``rule_args`` (settings
    its quarantine rules take) bound here.
    """
    return TableDef(
        layer="silver",
        name=name,
        grain=grain,
        build=bound(f"silver.{name}:build", keys=keys, bronze_inputs=inputs, **(rule_args or {})),
        receives="new",
        inputs=inputs,
        keys=keys,
        write="merge",
        merge_condition=merge_condition,
        suite=f"expectations.silver_{name}:suite",
        quarantine=True,
        description=description,
        **declared,
    )


def declare(settings: Settings) -> list[TableDef]:
    kafka = settings.kafka_enabled
    # Products before order lines: the order lines' referential check reads this run's catalogue.
    return [
        cleaned(
            "events",
            inputs=("bronze.events", "bronze.clickstream") if kafka else ("bronze.events",),
            keys=("event_id",),
            grain="One row per event_id.",
            merge_condition=EVENT_MERGE_CONDITION,
            rule_args={"late_tolerance_hours": settings.late_event_tolerance_hours},
            schema="silver.events:SCHEMA",
            # Gold reads what changed since its last build (dates, sessions, customers it reached).
            change_feed=True,
            date_column="event_date",
            description="Typed clickstream events (landing files"
            + (" and Kafka" if kafka else "")
            + "); duplicates collapse to the first by event_ts, then ingestion order.",
        ),
        cleaned(
            "products",
            inputs=("bronze.products",),
            keys=("product_id",),
            grain="One row per product_id.",
            schema="silver.products:SCHEMA",
            description="Product attributes with list_price and cost as decimals; the latest ingested row wins.",
        ),
        cleaned(
            "stock",
            inputs=("bronze.stock",),
            keys=("snapshot_date", "product_id", "warehouse"),
            grain="One row per (snapshot_date, product_id, warehouse).",
            schema="silver.stock:SCHEMA",
            # The dashboard's date filter; a MERGEd table, so the runner replaces no dates by it.
            date_column="snapshot_date",
            description="Inventory snapshots, on_hand and reorder_point as whole numbers; the latest ingested wins.",
        ),
        cleaned(
            "order_lines",
            inputs=("bronze.orders",),
            keys=("order_id", "line_no"),
            grain="One row per (order_id, line_no).",
            after=("silver.products",),  # the referential check reads this run's catalogue
            merge_condition=ORDER_LINE_MERGE_CONDITION,
            # Gold reads what changed since its last build (dates, sessions, customers it reached).
            change_feed=True,
            date_column="order_date",
            description="Typed order lines with line_revenue and is_sale; the latest ingested version wins.",
        ),
        cleaned(
            "experiments",
            inputs=("bronze.experiments",),
            keys=("experiment_id",),
            grain="One row per experiment_id.",
            schema="silver.experiments:SCHEMA",
            description="The experiment catalogue: variants array, allocation map and UTC date window.",
        ),
        TableDef(
            layer="silver",
            name="experiment_exposures",
            grain="One row per (user_id, experiment_id).",
            build="silver.experiment_exposures:build",
            receives="pinned",
            inputs=("silver.events", "silver.experiments"),
            keys=("user_id", "experiment_id"),
            write="overwrite",
            schema="transforms.experiments:EXPOSURES_SCHEMA",
            suite="expectations.silver_experiment_exposures:suite",
            description="Users exposed to each experiment within its window, in the variant of their first exposure.",
        ),
    ]
