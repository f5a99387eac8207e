"""``lakehouse upload``: push a local landing folder into the object-storage landing zone.

Kept out of the main CLI module so the ``minio`` SDK only loads for this command; the main
CLI calls :func:`register` on its Typer app.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli import common
from lakehouse.settings import Settings, SettingsError

# Where `lakehouse generate` writes by default: the local landing folder of the embedded profile.
DEFAULT_SOURCE = Path(str(Settings.model_fields["landing"].default))


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
            settings = common.load()
            summary = upload_landing(settings, source)
        except (LandingError, SettingsError) as exc:
            raise common.fail(exc) from exc
        target = f"s3://{summary.bucket}/{summary.prefix}".rstrip("/")
        created = " (bucket created)" if summary.bucket_created else ""
        typer.echo(
            f"uploaded {len(summary.uploaded)} files ({summary.bytes_uploaded / 1e6:.1f} MB) to {target}{created}; "
            f"{len(summary.unchanged)} already there unchanged"
        )
