"""The one error policy of the ``lakehouse`` command (``cli.common``), without Spark or services.

Every command, main or sub-command, turns a caught error into the same one red line and an exit
code of :class:`cli.exit_codes.ExitCode`; these tests pin that mapping in one place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from cli import common as cli_common
from cli.exit_codes import ExitCode
from lakehouse.settings import SettingsError


def _exit_of(exc: BaseException) -> tuple[int, str]:
    """Run a throwaway command that fails with ``exc`` the way real commands do; (exit code, stderr)."""
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        try:
            raise exc
        except BaseException as caught:
            raise cli_common.fail(caught) from caught

    app.command("noop")(lambda: None)  # a second command keeps Typer from collapsing the app
    result = CliRunner().invoke(app, ["boom"])
    return result.exit_code, result.stderr


def test_an_error_is_one_line_and_exit_1() -> None:
    code, stderr = _exit_of(RuntimeError("the landing zone is gone\nsecond line of detail"))
    assert code == ExitCode.ERROR
    assert stderr == "error: the landing zone is gone\n"


def test_a_failed_gate_exits_2() -> None:
    from lakehouse.quality import CheckResult, GateFailed

    failure = CheckResult("silver.events", "expect_column_values_to_not_be_null", "id", "critical", False, 3, None)
    code, stderr = _exit_of(GateFailed("silver.events", [failure]))
    assert code == ExitCode.GATE_FAILED == 2
    assert stderr.startswith("error: quality gate failed: silver.events")


def test_a_held_lease_exits_75() -> None:
    from lakehouse.lease import LeaseHeld, LeaseRecord

    holder = LeaseRecord("t", "etl-1", 4242, "run", 0.0, 0.0, 60.0, 60.0)
    code, stderr = _exit_of(LeaseHeld("/srv/lake", holder))
    assert code == ExitCode.LEASE_HELD == 75
    assert stderr.startswith("error: lakehouse /srv/lake is in use by run")


def test_a_bad_setting_names_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("LAKEHOUSE_LEASE_TTL_SECONDS", "not a number")
    with pytest.raises(SettingsError, match=r"^invalid setting lease_ttl_seconds: "):
        cli_common.load()


def test_the_experiment_correction_is_holm_or_bh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "absent.env"))
    assert cli_common.load().experiment_correction == "holm"
    monkeypatch.setenv("LAKEHOUSE_EXPERIMENT_CORRECTION", "bh")
    assert cli_common.load().experiment_correction == "bh"
    monkeypatch.setenv("LAKEHOUSE_EXPERIMENT_CORRECTION", "bonferroni")
    with pytest.raises(SettingsError, match=r"^invalid setting experiment_correction: "):
        cli_common.load()


def test_a_validation_error_is_reported_as_a_setting() -> None:
    from lakehouse.settings import Settings

    with pytest.raises(ValidationError) as caught:
        Settings(lease_ttl_seconds="not a number")
    code, stderr = _exit_of(caught.value)
    assert code == ExitCode.ERROR
    assert stderr.startswith("error: invalid setting lease_ttl_seconds: ")


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common.State, "debug", True)
    with pytest.raises(RuntimeError, match="boom"):
        cli_common.fail(RuntimeError("boom"))
