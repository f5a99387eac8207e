"""Fast checks behind quality reporting: monitor arithmetic, alert delivery, docs locations, gate pairing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import great_expectations.expectations as gxe
from pyspark.sql import SparkSession

from lakehouse import alerts, reports
from lakehouse.monitors import Commit, freshness, volume
from lakehouse.quality import QualityGate, critical, warn
from tests.conftest import make_settings
from tests.quality.receiver import Receiver

NOW = dt.datetime(2026, 11, 1, 12, 0)


def _commits(*rows: int | None) -> list[Commit]:
    """Newest first, one hour apart."""
    return [Commit(len(rows) - i, NOW - dt.timedelta(hours=i), "WRITE", n) for i, n in enumerate(rows)]


def test_volume_warns_on_a_drop_and_on_a_jump(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, volume_warn_ratio=0.5, volume_window=3)
    assert volume(settings, "t", _commits(100, 90, 110, 100)).success
    drop = volume(settings, "t", _commits(40, 90, 110, 100))
    assert not drop.success and drop.severity == "warn" and drop.expectation == "monitor_volume"
    assert "40 rows" in (drop.observed or "") and "mean 100.0 of 3 previous writes" in (drop.observed or "")
    assert not volume(settings, "t", _commits(250, 90, 110, 100)).success
    # only the window counts: the old 1000 is outside the 3 previous writes
    assert volume(settings, "t", _commits(100, 90, 110, 100, 1000)).success
    assert volume(settings, "t", _commits(5)).success  # a first write has nothing to compare with


def test_freshness_compares_the_last_commit_with_the_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, freshness_warn_hours=24)
    assert freshness(settings, "t", _commits(1), NOW + dt.timedelta(hours=23)).success
    stale = freshness(settings, "t", _commits(1), NOW + dt.timedelta(hours=30))
    assert not stale.success and "30.0 h ago" in (stale.observed or "")


def test_apprise_url_for_plain_webhooks() -> None:
    assert alerts.apprise_url("http://127.0.0.1:9/hook") == "json://127.0.0.1:9/hook"
    assert alerts.apprise_url("https://hooks.example/x?token=a b") == "jsons://hooks.example/x?-token=a+b"
    assert alerts.apprise_url("slack://T/B/C") == "slack://T/B/C"


def test_alert_is_a_json_post_to_the_webhook(tmp_path: Path) -> None:
    with Receiver() as receiver:
        settings = make_settings(tmp_path, alert_webhook_url=receiver.url + "?token=s3cret")
        assert alerts.send(settings, "title here", "line one\nline two", "failure")
    [request] = receiver.received
    assert request["path"] == "/hooks/lakehouse?token=s3cret"
    assert request["json"]["title"] == "title here"
    assert request["json"]["message"] == "line one\nline two"
    assert request["json"]["type"] == "failure"


def test_alerts_off_or_unreachable_never_raise(tmp_path: Path) -> None:
    assert not alerts.send(make_settings(tmp_path), "t", "b")
    with Receiver() as receiver:
        url = receiver.url
    # the receiver is gone: nothing listens on that port any more
    assert not alerts.send(make_settings(tmp_path, alert_webhook_url=url), "t", "b")


def test_docs_locations(tmp_path: Path) -> None:
    local = reports.docs_target(make_settings(tmp_path))
    assert local.build_dir == (tmp_path / "data_docs").resolve() and local.upload_to is None
    assert reports.gx_project_dir(make_settings(tmp_path)) == (tmp_path / "lakehouse" / "_gx").resolve()
    configured = reports.docs_target(make_settings(tmp_path, data_docs_dir=str(tmp_path / "site")))
    assert configured.location == str((tmp_path / "site" / "index.html").resolve())
    s3 = make_settings(
        tmp_path, root="s3a://lake/house", s3_access_key="k", s3_secret_key="s" * 8, cache_dir=tmp_path / "cache"
    )
    remote = reports.docs_target(s3)
    assert remote.location == "s3://lake/data_docs/index.html"
    assert remote.upload_to is not None and (remote.upload_to.bucket, remote.upload_to.prefix) == ("lake", "data_docs")
    assert remote.build_dir.is_relative_to(tmp_path / "cache")
    assert reports.gx_project_dir(s3).is_relative_to(tmp_path / "cache")


def test_gate_pairs_results_with_their_own_checks(spark: SparkSession) -> None:
    # GX groups results by column; the warn check on `a` must stay warn even though it is
    # validated between two checks of other columns.
    df = spark.createDataFrame([(1, 5), (2, 6)], "a int, b int")
    checks = [
        critical(gxe.ExpectColumnValuesToBeBetween(column="a", min_value=0)),
        critical(gxe.ExpectColumnValuesToBeBetween(column="b", min_value=0)),
        warn(gxe.ExpectColumnValuesToBeBetween(column="a", min_value=0, max_value=0)),
    ]
    results = QualityGate().validate("t.pairing", df, checks, rows=2, pandas_max_rows=10)
    assert [(r.column, r.severity, r.success) for r in results] == [
        ("a", "critical", True),
        ("b", "critical", True),
        ("a", "warn", False),
    ]


def test_data_docs_keep_only_the_newest_runs(tmp_path: Path) -> None:
    import great_expectations as gx
    import pandas as pd

    settings = make_settings(tmp_path, data_docs_keep_runs=2)
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas(name="p").add_dataframe_asset(name="t")
    batches = asset.add_batch_definition_whole_dataframe("b")
    checks = [critical(gxe.ExpectColumnValuesToNotBeNull(column="a"))]
    for hour in range(3):
        suite = gx.ExpectationSuite(name="gold.t-suite", expectations=[gxe.ExpectColumnValuesToNotBeNull(column="a")])
        result = batches.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2]})}).validate(suite)
        reports.build_data_docs(
            settings, f"run-{hour}", NOW + dt.timedelta(hours=hour), {"gold.t": result}, {"gold.t": checks}
        )
    pages = tmp_path / "data_docs" / "validations" / "gold" / "t-suite"
    assert sorted(p.name for p in pages.iterdir()) == ["run-1", "run-2"]
    index = (tmp_path / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "run-2" in index and "run-0" not in index
    suite_page = (tmp_path / "data_docs" / "expectations" / "gold" / "t-suite.html").read_text(encoding="utf-8")
    assert "severity: critical" in suite_page
    stored = reports.gx_project_dir(settings) / "gx" / "uncommitted" / "validations" / "gold" / "t-suite"
    assert sorted(p.name for p in stored.iterdir()) == ["run-1", "run-2"]
