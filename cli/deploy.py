"""``lakehouse deploy``: register the scheduled deployments on a Prefect server and serve them.

Serving needs a real server: Prefect's ephemeral mode has no scheduler, so deployments made
against it would never run. The command therefore refuses to start without
``PREFECT_API_URL`` (or with a server that does not answer) and says how to fix that in one line.

Before serving it creates one tag concurrency limit of 1 per Delta table (``table:<id>``), the
guard that keeps two flow runs from writing the same table at once (see ``flows/medallion.py``).
Creating a limit that exists updates it, so ``deploy`` can be re-run freely.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from cli import common
from lakehouse.settings import Settings, SettingsError

TABLE_WRITE_LIMIT = 1
# Our top-level packages: the names a folder in the working directory must not take (see below).
PACKAGES = ("lakehouse", "flows", "ingestion", "bronze", "silver", "gold", "transforms", "expectations", "dashboard")


def shadowing_folders(cwd: Path) -> list[str]:
    """Folders of ``cwd`` that would shadow one of our packages inside a flow run.

    Prefect imports a deployment's flow with the working directory first on ``sys.path``, and an
    editable install's finder comes after the path entries, so a plain folder there named like
    one of our packages (a lakehouse root called ``lakehouse/``, a ``gold/`` export) becomes a
    namespace package that hides the real one: every run would crash with an ImportError.
    The repo root itself is fine: its folders *are* the packages.
    """
    clashes = []
    for name in PACKAGES:
        folder = cwd / name
        spec = importlib.util.find_spec(name)
        real = Path(spec.origin).parent.resolve() if spec and spec.origin else None
        if folder.is_dir() and folder.resolve() != real:
            clashes.append(name)
    return clashes


class DeployError(RuntimeError):
    """The Prefect server or the working directory is unusable for serving."""


def prefect_api_url() -> str:
    """The server ``PREFECT_API_URL`` names (env, ``.env`` or Prefect profile); DeployError if none."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise DeployError(
            "PREFECT_API_URL is not set: `lakehouse deploy` needs a Prefect server; start one with "
            "`lakehouse up --only prefect` and export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    return str(url)


def check_server(url: str) -> None:
    """Fail fast with the URL in the message rather than inside the runner's retry loop."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        raise DeployError(
            f"the Prefect server at {url} does not answer ({type(error).__name__}); "
            "start it with `lakehouse up --only prefect` or fix PREFECT_API_URL"
        )


def ensure_table_limits(settings: Settings) -> list[str]:
    """Create (or reset) a concurrency limit of 1 on ``table:<id>`` for every Delta table; returns the tags."""
    from prefect.client.orchestration import get_client

    from flows.medallion import table_tag
    from lakehouse.catalog import load_catalog
    from lakehouse.maintenance import lakehouse_tables

    tags = [table_tag(table_id) for table_id in lakehouse_tables(load_catalog(settings))]
    with get_client(sync_client=True) as client:
        for tag in tags:
            client.create_concurrency_limit(tag=tag, concurrency_limit=TABLE_WRITE_LIMIT)
    return tags


def register(app: typer.Typer) -> None:
    """Add ``deploy`` to ``app``."""

    @app.command("deploy")
    def deploy_command(
        limit: int = typer.Option(
            2, min=1, help="Flow runs executed at once by this process (each starts its own Spark driver)."
        ),
    ) -> None:
        """Register the scheduled deployments on the Prefect server and run them until Ctrl+C."""
        from flows.deployments import build_deployments, deployment_names

        try:
            clashes = shadowing_folders(Path.cwd())
            if clashes:
                raise DeployError(
                    f"the current folder holds {', '.join(f'{c}/' for c in clashes)}, which would hide the "
                    "package of that name from flow runs; run `lakehouse deploy` from the repo root or an empty folder"
                )
            url = prefect_api_url()
            settings = common.load()  # a bad setting fails here, not in every scheduled run
            check_server(url)
            tags = ensure_table_limits(settings)
            deployments = build_deployments()
        except (DeployError, SettingsError) as exc:
            raise common.fail(exc) from exc
        typer.echo(f"Prefect server {url}: concurrency limit {TABLE_WRITE_LIMIT} on {len(tags)} table:<id> tags")
        for name, cron in deployment_names().items():
            typer.echo(f"  {name:<40} {cron or 'on demand'}")
        typer.echo(f"lakehouse root {settings.root}, landing {settings.landing}; serving (Ctrl+C to stop) ...")
        from prefect import serve

        serve(*deployments, limit=limit, print_starting_message=False)
