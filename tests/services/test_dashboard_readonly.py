"""The dashboard's own read-only MinIO user: it reads the lakehouse, and every write is refused.

``lakehouse up`` calls :func:`devtools.services.ensure_readonly_user` right after creating the
bucket; here it runs against the session's MinIO (``minio_server``) with throwaway keys. The Delta
table is written with delta-rs and the main keys, like the pipeline's, without a Spark job.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from deltalake.exceptions import DeltaError
from minio import Minio
from minio.error import S3Error
from pydantic import SecretStr

from dashboard import data
from devtools import services
from devtools.services import ServiceStatus
from lakehouse.settings import Settings
from lakehouse.storage import reader_uri, table_path

pytestmark = pytest.mark.services

DASHBOARD_USER = "lakehouse-dashboard-test"


@pytest.fixture(scope="module")
def readonly_settings(minio_server: ServiceStatus, service_settings: Settings) -> Settings:
    """The session MinIO with a lakehouse under its own prefix and a dashboard user of its own."""
    bucket = service_settings.s3_bucket
    settings = service_settings.model_copy(
        update={
            "root": f"s3a://{bucket}/readonly-test/lakehouse",
            "landing": f"s3a://{bucket}/readonly-test/landing",
            "dashboard_s3_access_key": SecretStr(DASHBOARD_USER),
            "dashboard_s3_secret_key": SecretStr(secrets.token_urlsafe(18)),
        }
    )
    services.ensure_bucket(settings)
    return settings


def _client(settings: Settings, access_key: str, secret_key: str) -> Minio:
    return Minio(settings.s3_endpoint.split("://", 1)[1], access_key=access_key, secret_key=secret_key, secure=False)


def test_readonly_user_reads_the_lakehouse_and_cannot_write(readonly_settings: Settings, tmp_path: Path) -> None:
    settings = readonly_settings
    bucket = settings.s3_bucket
    assert services.ensure_readonly_user(settings) == DASHBOARD_USER
    assert services.ensure_readonly_user(settings) == DASHBOARD_USER  # every `lakehouse up` runs it again

    # A gold table written with the main (read-write) keys, as the pipeline writes it.
    uri = reader_uri(table_path(settings, "gold", "daily_kpis"))
    rows = pa.table({"date": [dt.date(2026, 10, 1), dt.date(2026, 10, 2)], "revenue": [10.5, 20.0]})
    write_deltalake(uri, rows, storage_options=settings.s3_storage_options())

    # The dashboard reads it with its own keys, never the main ones.
    options = dict(data._storage_options(settings))
    assert options["AWS_ACCESS_KEY_ID"] == DASHBOARD_USER
    assert options["AWS_SECRET_ACCESS_KEY"] != settings.s3_secret_key_value()
    frame = data.read_uncached(settings, "gold.daily_kpis")
    assert sorted(frame["revenue"].tolist()) == [10.5, 20.0]

    user, password = settings.dashboard_s3_keys()
    readonly = _client(settings, user, password)
    key = "readonly-test/lakehouse/gold/daily_kpis/_delta_log/00000000000000000000.json"
    assert b'"commitInfo"' in readonly.get_object(bucket, key).read()

    # Every kind of write is refused: put, delete, a Delta append, a bucket of its own.
    refused = [
        lambda: readonly.put_object(bucket, "readonly-test/lakehouse/x.txt", io.BytesIO(b"x"), 1),
        lambda: readonly.remove_object(bucket, key),
        lambda: readonly.make_bucket("dashboard-made-this"),
    ]
    for attempt in refused:
        with pytest.raises(S3Error) as denied:
            attempt()
        assert denied.value.code == "AccessDenied"
    with pytest.raises(DeltaError, match="AccessDenied"):
        write_deltalake(uri, rows, mode="append", storage_options=settings.dashboard_storage_options())
    assert len(data.read_uncached(settings, "gold.daily_kpis")) == 2  # nothing was appended or deleted


def test_readonly_user_reads_no_other_bucket(readonly_settings: Settings) -> None:
    settings = readonly_settings
    services.ensure_readonly_user(settings)
    admin = _client(settings, settings.s3_access_key_value(), settings.s3_secret_key_value())
    if not admin.bucket_exists("readonly-other"):
        admin.make_bucket("readonly-other")
    admin.put_object("readonly-other", "secret.txt", io.BytesIO(b"s"), 1)
    readonly = _client(settings, *settings.dashboard_s3_keys())
    with pytest.raises(S3Error) as denied:
        readonly.get_object("readonly-other", "secret.txt")
    assert denied.value.code == "AccessDenied"


def test_no_dashboard_keys_means_no_user_and_the_main_keys(readonly_settings: Settings) -> None:
    plain = readonly_settings.model_copy(update={"dashboard_s3_access_key": None, "dashboard_s3_secret_key": None})
    assert services.ensure_readonly_user(plain) is None
    assert plain.dashboard_s3_keys() == (plain.s3_access_key_value(), plain.s3_secret_key_value())
