"""``lakehouse quality``: what the checks of a run found, read back from the ops tables.

Kept out of the main CLI module like the other optional commands; it needs no Spark session
(ops and quarantine tables are read through delta-rs), so it answers in about a second.
Exit code 2 says a critical check failed in that run (the code ``lakehouse run`` exits with when
a gate stops it), so a script or CI step can gate on it; 1 is an error (no such run, bad settings).
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from cli import common
from cli.exit_codes import ExitCode
from lakehouse.settings import SettingsError

EXIT_CRITICAL_FAILED = ExitCode.GATE_FAILED


def register(app: typer.Typer) -> None:
    """Add ``quality`` to ``app``."""

    @app.command("quality")
    def quality_command(
        run: str | None = typer.Option(None, "--run", help="Run id (default: the latest run)."),
    ) -> None:
        """Print the checks and monitors of a run, its quarantine counts per rule and where Data Docs are.

        Exits 2 when a critical check failed in that run, 1 on an error.
        """
        from lakehouse import reports

        try:
            settings = common.load()
            report = reports.run_quality(settings, run)
        except (SettingsError, ValidationError, OSError) as exc:
            raise common.fail(exc) from exc
        if report is None:
            what = f"run {run}" if run else "any run"
            raise common.error_exit(f"no checks recorded for {what} in {settings.root}/ops")
        typer.echo(reports.format_text(report))
        if report.critical_failed:
            raise typer.Exit(EXIT_CRITICAL_FAILED)
