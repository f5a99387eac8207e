"""Secrets stay secret: the alert webhook URL is never in a repr or a log line; dashboard keys are its own.

A webhook URL carries its token in the path or query, so anyone reading a log could post as the
lakehouse. The log is captured at DEBUG, where apprise and urllib3 print the URL and request path.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lakehouse import alerts
from lakehouse.settings import Settings
from tests.conftest import make_settings
from tests.quality.receiver import Receiver

TOKEN = "tok3n-Sup3rS3cret"
PATH_SECRET = "T0ABC-B0DEF-XYZsecretpath"


def _secrets_absent(text: str) -> None:
    assert TOKEN not in text and PATH_SECRET not in text, text


def test_webhook_url_is_secret_in_repr_and_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ALERT_WEBHOOK_URL", f"https://hooks.example/{PATH_SECRET}?token={TOKEN}")
    settings = Settings(_env_file=None, root=str(tmp_path / "lh"))  # type: ignore[call-arg]
    _secrets_absent(repr(settings))
    _secrets_absent(str(settings))
    _secrets_absent(settings.model_dump_json())
    assert settings.alert_webhook_value() == f"https://hooks.example/{PATH_SECRET}?token={TOKEN}"


def test_delivered_alert_logs_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Receiver() as receiver:
        url = f"{receiver.url}/{PATH_SECRET}?token={TOKEN}"
        assert alerts.send(make_settings(tmp_path, alert_webhook_url=url), "title", "body")
    assert receiver.received[0]["path"] == f"/hooks/lakehouse/{PATH_SECRET}?token={TOKEN}"
    assert any(r.name.startswith(("apprise", "urllib3")) for r in caplog.records), "client logs were not captured"
    _secrets_absent(caplog.text)


def test_failed_alert_logs_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Receiver() as receiver:
        url = f"{receiver.url}/{PATH_SECRET}?token={TOKEN}"
    # The receiver is gone: the connection error names the request path, redacted.
    assert not alerts.send(make_settings(tmp_path, alert_webhook_url=url), "title", "body")
    assert "127.0.0.1" in caplog.text  # where it failed stays readable
    _secrets_absent(caplog.text)
    caplog.clear()
    assert not alerts.send(make_settings(tmp_path, alert_webhook_url=f"not a url {TOKEN}"), "t", "b")
    _secrets_absent(caplog.text)
    # The redacting filters are gone once the alert is sent.
    assert not any(logging.getLogger(name).filters for name in alerts.CLIENT_LOGGERS)


def test_dashboard_keys_fall_back_to_the_main_keys(tmp_path: Path) -> None:
    main = make_settings(tmp_path, s3_access_key="main-user", s3_secret_key="main-secret")
    assert main.dashboard_s3_keys() == ("main-user", "main-secret")
    assert main.dashboard_storage_options()["AWS_ACCESS_KEY_ID"] == "main-user"
    own = make_settings(
        tmp_path,
        s3_access_key="main-user",
        s3_secret_key="main-secret",
        dashboard_s3_access_key="dash-user",
        dashboard_s3_secret_key="dash-secret",
    )
    options = own.dashboard_storage_options()
    assert (options["AWS_ACCESS_KEY_ID"], options["AWS_SECRET_ACCESS_KEY"]) == ("dash-user", "dash-secret")
    assert own.s3_storage_options()["AWS_ACCESS_KEY_ID"] == "main-user"  # the pipeline keeps the main keys
    assert "dash-secret" not in repr(own)
    with pytest.raises(ValueError, match="Set both LAKEHOUSE_DASHBOARD_S3_ACCESS_KEY"):  # pydantic wraps it
        make_settings(tmp_path, dashboard_s3_access_key="dash-user")


def test_up_checks_the_dashboard_keys_before_installing_anything(tmp_path: Path) -> None:
    from devtools import services
    from lakehouse.settings import SettingsError

    settings = make_settings(
        tmp_path,
        cache_dir=tmp_path / "cache",
        s3_access_key="lakehouse-test",
        s3_secret_key="x" * 16,
        dashboard_s3_access_key="dash",
        dashboard_s3_secret_key="short",
    )
    with pytest.raises(SettingsError, match="DASHBOARD_S3_SECRET_KEY of at least 8"):
        services.up(settings, ["minio"])
    assert not (tmp_path / "cache").exists(), "nothing may be installed before the key check"
