"""Start the dashboard as a Streamlit server in a child process.

The CLI (``lakehouse dashboard``), ``python -m dashboard`` and the browser test all
start it through :func:`launch`, so the server flags live in one place. Streamlit
runs in its own process because its server owns the event loop and its script
runner; the child learns the settings through ``LAKEHOUSE_*`` environment
variables, the same way every other entry point reads them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from pydantic import SecretStr

from lakehouse.settings import Settings, is_object_path

APP = Path(__file__).resolve().parent / "app.py"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60.0


class DashboardStartError(RuntimeError):
    """The Streamlit server exited or did not answer its health check in time."""


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the LAKEHOUSE_* variables that make the child resolve the same object.

    Local paths are made absolute so the child does not depend on the caller's working directory.
    """
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Path):
            text = str(value.resolve())
        else:
            text = str(value)
        if name in ("root", "landing") and not is_object_path(text):
            text = str(Path(text).resolve())
        env[f"LAKEHOUSE_{name.upper()}"] = text
    return env


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def wait_until_healthy(process: subprocess.Popen, port: int, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Poll Streamlit's health endpoint until it answers 'ok'; fail fast if the process dies."""
    deadline = time.monotonic() + timeout
    health = f"{url(port)}/_stcore/health"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DashboardStartError(
                f"the dashboard exited with code {process.returncode} before serving {health} "
                f"(is port {port} already taken? set LAKEHOUSE_DASHBOARD_PORT or pass --port)"
            )
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise DashboardStartError(f"the dashboard did not answer {health} within {timeout:.0f} s")


def launch(
    settings: Settings,
    port: int | None = None,
    wait: bool = True,
    *,
    log: IO[str] | IO[bytes] | None = None,
) -> subprocess.Popen:
    """Start ``streamlit run dashboard/app.py`` headless on 127.0.0.1 and return the process.

    ``port`` defaults to ``settings.dashboard_port``; ``wait`` blocks until the health
    check answers (raising :class:`DashboardStartError` otherwise, after stopping the
    child). Output goes to ``log`` when given, else to this process's stdout/stderr.
    The caller owns the process: ``terminate()`` it when done.
    """
    port = port or settings.dashboard_port
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = {**os.environ, **settings_env(settings)}
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    if wait:
        try:
            wait_until_healthy(process, port)
        except DashboardStartError:
            stop(process)
            raise
    return process


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate the server, killing it if it does not exit within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


# the name the lead's CLI may call it by
run = launch
