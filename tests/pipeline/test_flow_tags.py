"""Per-table concurrency tags go on the flow's tasks only where `lakehouse deploy` can limit them."""

from __future__ import annotations

from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.medallion import server_limits_apply


def test_tasks_are_tagged_against_a_server_only() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert server_limits_apply() is True
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert server_limits_apply() is False  # ephemeral mode: no limit can exist, the lease guards the root
