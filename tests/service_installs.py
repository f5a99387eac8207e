"""Build the local services' binaries in the background while the first tests run.

The MinIO server is built from source (``go install``, two to three minutes on a clean machine)
and the Kafka broker's jars are resolved by Maven; both happen once per machine, on first use.
Their first user used to wait for them in its setup, a third of the way into the suite. Once
the tests are collected, the installs the selected tests need start in one background thread,
so the downloads overlap the Spark tests that run first; a fixture then asks :func:`install`,
which waits for that background install and returns what it installed (or raises its error, as
installing in the fixture itself would have).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from devtools import services
from lakehouse.settings import Settings

# The fixtures whose tests need each install (tests/services/conftest.py, tests/quality/test_data_docs_s3.py).
NEEDED_BY: dict[str, tuple[str, ...]] = {"minio": ("minio_server", "minio"), "kafka": ("kafka_broker",)}
# The MinIO build runs under `nice`: it takes the cores the tests leave idle, not theirs.
INSTALLS: dict[str, Callable[[Settings], Path]] = {
    "minio": partial(services.install_minio, low_priority=True),
    "kafka": services.install_kafka,
}

_pending: dict[str, Future[Path]] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    fixtures = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    wanted = [name for name, users in NEEDED_BY.items() if fixtures.intersection(users)]
    if not wanted:
        return
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # the default cache, as the fixtures use
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="service-install")
    for name in wanted:  # one after the other: two builds at once would only compete for the cores
        _pending[name] = pool.submit(INSTALLS[name], settings)
    pool.shutdown(wait=False)


def install(name: str, settings: Settings) -> Path:
    """``name`` installed for ``settings``: after the background install, if one was started (its error raises here).

    The install functions return at once when their binary or jars are already in place.
    """
    future = _pending.get(name)
    if future is not None:
        future.result()
    return INSTALLS[name](settings)
