"""Table ids -> locations: the one helper every module uses instead of splitting ids by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.storage import quarantine_id, split_table_id, table_id_path, table_path
from tests.conftest import make_settings


def test_table_ids_resolve_to_the_layer_folders(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert split_table_id("silver.order_lines") == ("silver", "order_lines")
    assert table_id_path(settings, "gold.daily_kpis") == table_path(settings, "gold", "daily_kpis")
    assert table_id_path(settings, "gold.daily_kpis") == str((tmp_path / "lakehouse" / "gold" / "daily_kpis").resolve())
    assert quarantine_id("events") == "quarantine.events"
    assert table_id_path(settings, quarantine_id("events")).endswith("/quarantine/events")


@pytest.mark.parametrize("bad", ["daily_kpis", "platinum.daily_kpis", "gold.", ".daily_kpis"])
def test_a_malformed_table_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"not a table id of the form layer\.name"):
        split_table_id(bad)


def test_object_storage_ids_keep_the_s3a_scheme(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, root="s3a://lake/house", s3_access_key="k", s3_secret_key="s")
    assert table_id_path(settings, "bronze.events") == "s3a://lake/house/bronze/events"
