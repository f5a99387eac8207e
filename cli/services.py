"""``lakehouse up | down | status``: the local services as three CLI commands.

Kept apart from the main CLI module so the service machinery (and its imports) only
loads for these commands; the main CLI calls :func:`register` on its Typer app.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from cli import common
from devtools import services
from devtools.services import ServiceError, ServiceStatus
from lakehouse.settings import SettingsError


def format_table(rows: Sequence[ServiceStatus]) -> str:
    """A plain fixed-width table: readable in a terminal and in CI logs alike."""
    header = ("SERVICE", "RUNNING", "PID", "URL", "DETAIL")
    cells = [(r.name, "yes" if r.running else "no", str(r.pid or "-"), r.url, r.detail) for r in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *cells]:
        lines.append("  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]]))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``up``, ``down`` and ``status`` to ``app``."""

    @app.command("up")
    def up_command(
        spark_cluster: bool = typer.Option(
            False, "--spark-cluster", help="Also start a Spark standalone master + 1 worker on 127.0.0.1:7077."
        ),
        only: str | None = typer.Option(
            None, "--only", help="Comma-separated subset of: " + ",".join(services.SERVICES) + "."
        ),
    ) -> None:
        """Install on first use and start MinIO, Kafka and the Prefect server on loopback."""
        names = [n.strip() for n in only.split(",") if n.strip()] if only else None
        try:
            settings = common.load()
            rows = services.up(settings, names, spark_cluster=spark_cluster)
        except (ServiceError, SettingsError) as exc:
            raise common.fail(exc) from exc
        typer.echo(format_table(rows))

    @app.command("down")
    def down_command() -> None:
        """Stop every service started by ``up``."""
        try:
            stopped = services.down(common.load())
        except (ServiceError, SettingsError) as exc:
            raise common.fail(exc) from exc
        typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")

    @app.command("status")
    def status_command() -> None:
        """Show which services run, their pids, URLs and health."""
        try:
            rows = services.status(common.load())
        except (ServiceError, SettingsError) as exc:
            raise common.fail(exc) from exc
        typer.echo(format_table(rows))
