"""Fixtures for the dashboard tests: a gold lakehouse written with delta-rs, and app runners.

The fixture lakehouse is built once per session (delta-rs writes take well under a
second); tests that need a lakehouse of their own build one under ``tmp_path``.
The app reads ``LAKEHOUSE_ROOT`` like every entry point does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard import gold_fixture


@pytest.fixture(scope="session")
def gold_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gold_fixture.build(tmp_path_factory.mktemp("dashboard") / "lakehouse")


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    root = tmp_path / "lakehouse"
    root.mkdir()
    return root


@pytest.fixture
def use_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the app (settings from LAKEHOUSE_* env vars) at a lakehouse root; no .env file is read."""

    def point(root: Path) -> Path:
        monkeypatch.setenv("LAKEHOUSE_ROOT", str(root))
        monkeypatch.setenv("LAKEHOUSE_LANDING", str(root.parent / "landing"))
        monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "no.env"))
        return root

    return point


@pytest.fixture
def fixture_app(use_root, gold_root: Path) -> Iterator[Path]:
    yield use_root(gold_root)
