"""A missing landing folder is an error, not a successful run with empty tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from ingestion.landing import LandingError, LocalLanding


def test_listing_a_missing_landing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(LandingError, match="does not exist"):
        LocalLanding(str(tmp_path / "nope")).list("**")
    (tmp_path / "empty").mkdir()
    assert LocalLanding(str(tmp_path / "empty")).list("**") == []  # empty: nothing landed yet


def test_run_on_a_missing_landing_folder_exits_1_with_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "lakehouse"))
    monkeypatch.setenv("LAKEHOUSE_LANDING", str(tmp_path / "typo"))
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "no.env"))
    result = CliRunner().invoke(app, ["run", "--no-prefect"])
    assert result.exit_code == 1, result.output
    assert "landing folder" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "lakehouse" / "bronze").exists()  # nothing was written
