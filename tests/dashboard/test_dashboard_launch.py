"""The launcher: settings travel to the child as LAKEHOUSE_* variables; the server answers or fails loudly."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

from dashboard import launch as launcher
from lakehouse.settings import Settings


def test_settings_env_round_trips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    original = Settings(
        _env_file=None,
        root="relative/lh",
        landing=str(tmp_path / "landing"),  # type: ignore[call-arg]
        dashboard_cache_seconds=7,
        spark_ui=True,
        s3_access_key=SecretStr("key"),
    )
    env = launcher.settings_env(original)
    assert env["LAKEHOUSE_ROOT"] == str(Path("relative/lh").resolve())
    assert env["LAKEHOUSE_S3_ACCESS_KEY"] == "key"
    assert "LAKEHOUSE_S3_SECRET_KEY" not in env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = Settings(_env_file=None)  # type: ignore[call-arg]
    assert child.model_dump() == original.model_copy(update={"root": env["LAKEHOUSE_ROOT"]}).model_dump()


def test_launch_serves_the_app_and_stops(gold_root: Path, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, root=str(gold_root), landing=str(tmp_path))  # type: ignore[call-arg]
    port = launcher.free_port()
    with (tmp_path / "streamlit.log").open("wb") as log:
        process = launcher.launch(settings, port, log=log)
        try:
            with urllib.request.urlopen(f"{launcher.url(port)}/_stcore/health", timeout=5) as response:
                assert response.read() == b"ok"
        finally:
            launcher.stop(process)
    assert process.poll() is not None


def test_launch_on_a_busy_port_raises(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, root=str(tmp_path / "lh"), landing=str(tmp_path))  # type: ignore[call-arg]
    with socket.socket() as busy:
        busy.bind((launcher.HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        with (tmp_path / "streamlit.log").open("wb") as log, pytest.raises(launcher.DashboardStartError):
            launcher.launch(settings, port, log=log)
    assert f"Port {port} is not available" in (tmp_path / "streamlit.log").read_text()
