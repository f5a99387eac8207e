"""The Data Docs sync refuses a location overlapping the lakehouse root or the landing zone.

The mirror deletes every object under its prefix that the local site lacks, so these checks must
fire before any client exists: no MinIO is needed, and a client created anyway fails the test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lakehouse import reports
from lakehouse.settings import Settings
from lakehouse.storage import ObjectLocation
from tests.conftest import make_settings


def _s3(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "root": "s3a://lake/house",
        "landing": "s3a://lake/landing",
        "s3_endpoint": "http://127.0.0.1:9",  # nothing listens: any request would fail loudly anyway
        "s3_access_key": "k",
        "s3_secret_key": "s" * 8,
        "cache_dir": tmp_path / "cache",
    }
    return make_settings(tmp_path, **(values | overrides))


@pytest.fixture(autouse=True)
def no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_settings: Settings) -> None:
        raise AssertionError("an object-store client was created before the location was checked")

    monkeypatch.setattr(reports, "_minio_client", refuse)


@pytest.mark.parametrize(
    ("prefix", "overlaps"),
    [
        ("house", "root"),  # equal to the root
        ("house/silver", "root"),  # inside the root
        ("", "root"),  # the whole bucket contains both
        ("landing", "landing"),
        ("landing/events", "landing"),
        ("landing/../house", "landing"),  # keys are not paths: this prefix lies under landing/
        ("house_docs", None),  # a sibling that merely shares the name's start
        ("data_docs", None),
    ],
)
def test_upload_refuses_a_prefix_overlapping_root_or_landing(tmp_path: Path, prefix: str, overlaps: str | None) -> None:
    settings = _s3(tmp_path)
    remote = ObjectLocation("lake", prefix)
    if overlaps is None:
        with pytest.raises(AssertionError, match="client was created"):  # passed the check, reached the client
            reports.upload_site(settings, tmp_path, remote)
        return
    with pytest.raises(
        reports.DocsLocationError, match=f"overlaps the {'lakehouse root' if overlaps == 'root' else 'landing zone'}"
    ):
        reports.upload_site(settings, tmp_path, remote)


def test_root_inside_the_docs_prefix_and_other_buckets(tmp_path: Path) -> None:
    # The docs prefix contains the root: refused; another bucket with the same prefix: fine.
    settings = _s3(tmp_path, root="s3a://lake/team/house", data_docs_dir="s3://lake/team")
    with pytest.raises(reports.DocsLocationError, match="LAKEHOUSE_DATA_DOCS_DIR"):
        reports.check_docs_location(settings, reports.docs_target(settings))
    other = _s3(tmp_path, data_docs_dir="s3://docs/house")
    reports.check_docs_location(other, reports.docs_target(other))
    # The default site, s3://<root bucket>/data_docs, sits beside root and landing.
    default = _s3(tmp_path)
    reports.check_docs_location(default, reports.docs_target(default))


def test_build_refuses_before_rendering_anything(tmp_path: Path) -> None:
    settings = _s3(tmp_path, data_docs_dir="s3://lake/landing")
    with pytest.raises(reports.DocsLocationError, match="landing zone"):
        reports.build_data_docs(settings, "run-1", dt.datetime(2026, 11, 1, 8), {}, {})
    assert not (tmp_path / "cache").exists(), "nothing may be rendered for a refused location"


def test_local_site_inside_the_root_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, data_docs_dir=str(tmp_path / "lakehouse" / "docs"))
    with pytest.raises(reports.DocsLocationError, match="lakehouse root"):
        reports.check_docs_location(settings, reports.docs_target(settings))
    beside = make_settings(tmp_path)  # the default: data_docs next to the root
    reports.check_docs_location(beside, reports.docs_target(beside))


def test_publish_run_logs_the_refusal_and_does_not_raise(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = _s3(tmp_path, data_docs_dir="s3://lake/house")
    assert reports.publish_run(settings, "run-1", dt.datetime(2026, 11, 1, 8), [], [], {}) is None
    assert "overlaps the lakehouse root" in caplog.text
