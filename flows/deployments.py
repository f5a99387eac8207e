"""Prefect deployments of the lakehouse: which slice of the pipeline runs on which schedule.

Sources arrive at different rhythms, so they are ingested at different rhythms: clickstream
(Kafka extracts and landing event files) hourly, orders and the experiment catalogue daily,
inventory workbooks weekly. Silver and gold are rebuilt once a night from whatever bronze holds
by then, which keeps the expensive part of the pipeline to one run a day. Maintenance
(OPTIMIZE + VACUUM) runs weekly at a quiet hour. All times are UTC.

Every deployment is the same ``medallion_pipeline`` flow with different parameters (or the
``maintenance`` flow), so a schedule is data here and never code. A table a schedule names that
is not in the catalog (``bronze.clickstream`` before Kafka extracts are enabled) is skipped by
the flow with a warning. ``on-demand`` has no schedule: it is the "run everything now" button.

Entrypoints are module paths (``flows.medallion.medallion_pipeline``), so the runner that
executes a flow run finds it from any working directory of ``lakehouse deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

SCHEDULE_TIMEZONE = "UTC"
DEPLOYMENT_TAGS = ["lakehouse"]


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, which parameters, which cron (None: run on demand only)."""

    name: str
    flow: str  # "medallion_pipeline" or "maintenance"
    cron: str | None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "clickstream-hourly",
        "medallion_pipeline",
        "5 * * * *",
        {"layers": ["bronze"], "tables": ["bronze.clickstream", "bronze.events"]},
        "Hourly: extract the clickstream (Kafka offsets, landing event files) into bronze.",
    ),
    DeploymentSpec(
        "orders-daily",
        "medallion_pipeline",
        "30 1 * * *",
        {"layers": ["bronze"], "tables": ["bronze.orders", "bronze.experiments"]},
        "Daily: ingest order-line exports and the experiment catalogue into bronze.",
    ),
    DeploymentSpec(
        "inventory-weekly",
        "medallion_pipeline",
        "0 1 * * 1",
        {"layers": ["bronze"], "tables": ["bronze.products", "bronze.stock"]},
        "Weekly (Monday): ingest inventory workbooks (products, stock snapshots) into bronze.",
    ),
    DeploymentSpec(
        "silver-gold-nightly",
        "medallion_pipeline",
        "0 2 * * *",
        {"layers": ["silver", "gold"]},
        "Nightly: clean and conform bronze into silver, rebuild the affected gold partitions.",
    ),
    DeploymentSpec(
        "maintenance-weekly",
        "maintenance",
        "0 4 * * 0",
        {"retention_hours": 168},
        "Weekly (Sunday): OPTIMIZE and VACUUM (168 h retention) every Delta table.",
    ),
    DeploymentSpec(
        "on-demand",
        "medallion_pipeline",
        None,
        {},
        "No schedule: the whole pipeline (bronze, silver, gold), when triggered from the UI or API.",
    ),
)


def _flows() -> dict[str, Any]:
    from flows.maintenance import maintenance
    from flows.medallion import medallion_pipeline

    return {"medallion_pipeline": medallion_pipeline, "maintenance": maintenance}


def build_deployments(specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS) -> list[RunnerDeployment]:
    """The deployments ``lakehouse deploy`` serves, built from :data:`DEPLOYMENTS`."""
    flows = _flows()
    deployments = []
    for spec in specs:
        deployments.append(
            flows[spec.flow].to_deployment(
                name=spec.name,
                schedules=[Cron(spec.cron, timezone=SCHEDULE_TIMEZONE)] if spec.cron else None,
                parameters=spec.parameters,
                description=spec.description,
                tags=DEPLOYMENT_TAGS,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def deployment_names(specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS) -> dict[str, str | None]:
    """``"<flow>/<deployment>"`` -> cron, the names ``run_deployment`` and the UI use."""
    return {f"{spec.flow}/{spec.name}": spec.cron for spec in specs}
