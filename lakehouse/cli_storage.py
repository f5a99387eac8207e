"""``lakehouse upload``: push a local landing folder into the object-storage landing zone.

Kept out of the main CLI module so the ``minio`` SDK only loads for this command; the main
CLI calls :func:`register` on its Typer app.
"""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from lakehouse.settings import Settings, SettingsError, load_settings

# Where `lakehouse generate` writes by default: the local landing folder of the embedded profile.
DEFAULT_SOURCE = Path(str(Settings.model_fields["landing"].default))


def _fail(exc: Exception) -> typer.Exit:
    """One red line on stderr and exit 1, like the rest of the CLI."""
    if isinstance(exc, ValidationError):  # a validator's SettingsError arrives wrapped by pydantic
        exc = SettingsError(exc.errors()[0]["msg"].removeprefix("Value error, "))
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    typer.secho(f"error: {first}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``upload`` to ``app``."""

    @app.command("upload")
    def upload_command(
        source: Path = typer.Option(
            DEFAULT_SOURCE,
            "--from",
            help="Local landing folder to upload (what `lakehouse generate --landing DIR` wrote).",
        ),
    ) -> None:
        """Upload local landing files into LAKEHOUSE_LANDING (s3a://bucket/prefix); unchanged files are skipped."""
        from ingestion.landing import LandingError
        from ingestion.upload import upload_landing

        try:
            settings = load_settings()
            summary = upload_landing(settings, source)
        except (LandingError, SettingsError, ValidationError) as exc:
            raise _fail(exc) from exc
        target = f"s3://{summary.bucket}/{summary.prefix}".rstrip("/")
        created = " (bucket created)" if summary.bucket_created else ""
        typer.echo(
            f"uploaded {len(summary.uploaded)} files ({summary.bytes_uploaded / 1e6:.1f} MB) to {target}{created}; "
            f"{len(summary.unchanged)} already there unchanged"
        )
