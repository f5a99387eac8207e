"""What every ``lakehouse`` command shares: the settings helper and the one error and exit-code policy.

The main module (:mod:`cli.main`) and the optional sub-command modules (``cli.kafka``,
``cli.quality``, ``cli.deploy``...) all import this module and nothing of each other, except
that the main module registers the sub-commands: so there is no import cycle between them, and
an error looks and exits the same whichever command met it. Exit codes are
:class:`cli.exit_codes.ExitCode`.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from cli.exit_codes import ExitCode
from lakehouse.settings import Settings, SettingsError, load_settings


class State:
    """Process-wide options of the command line, set by the main callback (``--debug``)."""

    debug = False


def settings_error(exc: ValidationError) -> SettingsError:
    """One readable line for a settings validation error, naming the setting when pydantic knows it.

    A validator's own :class:`SettingsError` arrives wrapped by pydantic with a ``Value error, ``
    prefix; the user needs the sentence, not the wrapper.
    """
    first = exc.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    location = ".".join(map(str, first["loc"]))
    return SettingsError(f"invalid setting {location}: {message}" if location else message)


def load(**overrides: object) -> Settings:
    """The settings every command uses: environment and ``LAKEHOUSE_ENV_FILE``, plus the non-None overrides.

    Raises :class:`SettingsError` (never pydantic's ``ValidationError``), so a command catches one type.
    """
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise settings_error(exc) from exc


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code an error ends the process with: a failed gate and a held lease have their own.

    The classes are looked up in ``sys.modules`` instead of imported: an exception of a module
    that was never imported cannot have been raised, and importing the quality gate (pyspark)
    just to answer "no" would slow down every failing command that never touches Spark.
    """
    quality = sys.modules.get("lakehouse.quality")
    if quality is not None and isinstance(exc, quality.GateFailed):
        return ExitCode.GATE_FAILED
    lease = sys.modules.get("lakehouse.lease")
    if lease is not None and isinstance(exc, lease.LeaseHeld):
        return ExitCode.LEASE_HELD
    return ExitCode.ERROR


def error_exit(message: str, code: ExitCode = ExitCode.ERROR) -> typer.Exit:
    """Print ``error: <message>`` in red on stderr and return the Exit to raise: the CLI's one error format."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def fail(exc: BaseException) -> typer.Exit:
    """The Exit for an error a command caught: one line (its message's first), the code of :func:`exit_code_for`.

    With ``--debug`` the exception propagates instead, so the traceback shows.
    """
    if State.debug:
        raise exc
    if isinstance(exc, ValidationError):
        exc = settings_error(exc)
    text = str(exc).strip()
    return error_exit(text.splitlines()[0] if text else type(exc).__name__, exit_code_for(exc))


def handled_errors(*extra: type[BaseException]) -> tuple[type[BaseException], ...]:
    """The errors a pipeline command reports as one line (plus ``extra``); anything else keeps its traceback.

    Imported on call: the ingestion and catalog modules load Spark-side dependencies the
    commands that never fail this way should not pay for.
    """
    from ingestion.kafka import KafkaSourceError
    from ingestion.landing import LandingError
    from ingestion.sources import SourceError
    from lakehouse.catalog import CatalogError
    from lakehouse.quality import GateFailed

    return (
        GateFailed,
        SettingsError,
        SourceError,
        LandingError,
        CatalogError,
        KafkaSourceError,
        FileNotFoundError,
        RuntimeError,
        *extra,
    )
