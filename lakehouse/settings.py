"""The one typed settings object of the lakehouse.

Every knob is read here, once, from environment variables prefixed ``LAKEHOUSE_``
and an optional ``.env`` file (or the file named by ``LAKEHOUSE_ENV_FILE``). Other
modules receive a :class:`Settings` instance; none of them reads ``os.environ``.
Local and object-storage profiles differ only in these values.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LAYERS = ("bronze", "silver", "gold", "quarantine", "ops")


class SettingsError(ValueError):
    """A setting is missing or contradicts another one."""


class Settings(BaseSettings):
    """Where data lives, which engines run it and how they are tuned."""

    model_config = SettingsConfigDict(
        env_prefix="LAKEHOUSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    root: str = Field("data/lakehouse", description="Lakehouse root: a folder or s3a://bucket/prefix.")
    landing: str = Field("data/landing", description="Landing zone: a folder or s3a://bucket/prefix.")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "medallion-lakehouse",
        description="Jars, service binaries and service data; never inside the repo.",
    )
    sources_file: Path | None = Field(None, description="TOML file declaring landing sources (default: built-in).")

    spark_master: str = "local[*]"
    spark_driver_memory: str = Field(
        default_factory=lambda: default_driver_memory(),
        description="spark.driver.memory; default: half of this machine's memory, between 2g and 32g.",
    )
    shuffle_partitions: int = Field(
        0,
        ge=0,
        description="Initial spark.sql.shuffle.partitions before adaptive execution coalesces them "
        "(0: 4 per core, at least 8). Adaptive execution sizes the final partitions by bytes.",
    )
    parallel_tables: int = Field(
        0, ge=0, description="Tables built at once by the runner (0: one more than the cores, at most 4)."
    )
    spark_ui: bool = False
    spark_quick_jit: bool = Field(
        False,
        description="Start Spark's JVM with its quick compiler only (C1): less compile time for small "
        "batches (the demo: 68 s instead of 79 s), slower from about 1e6 events on (98.6 s -> 118 s). "
        "`lakehouse demo` turns it on unless set.",
    )
    spark_gc: Literal["parallel", "g1"] = Field(
        "parallel",
        description="The driver JVM's garbage collector: parallel (more throughput for a batch) or g1.",
    )
    spark_class_archive: bool = Field(
        True,
        description="Map Spark's classes from a class-data-sharing archive in cache_dir (recorded by the "
        "first start) instead of loading them from jars at every start.",
    )

    s3_endpoint: str = "http://127.0.0.1:9000"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "lakehouse"
    dashboard_s3_access_key: SecretStr | None = Field(
        None,
        description="Object-store key of the dashboard's own read-only user (`lakehouse up` creates it on MinIO); "
        "unset: the dashboard uses LAKEHOUSE_S3_ACCESS_KEY.",
    )
    dashboard_s3_secret_key: SecretStr | None = Field(
        None, description="Secret key of the dashboard's read-only user (at least 8 characters for MinIO)."
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic: str = "clickstream"
    kafka_enabled: bool = Field(
        False, description="Declare bronze.clickstream (Kafka extract) and feed it to silver.events too."
    )

    max_document_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1,
        description="XLSX and JSON documents are parsed on the driver; a larger file is rejected "
        "(ops.rejected_files, reason too_large) instead of exhausting the driver's memory.",
    )
    landing_settle_seconds: float = Field(
        3.0,
        ge=0,
        description="A local landing file modified within this many seconds is still being written "
        "and is left for a later run (object storage needs none: an object appears complete).",
    )

    gate_pandas_max_rows: int = Field(
        200_000, ge=0, description="Batches up to this size are validated by GX in pandas instead of Spark."
    )
    small_table_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="A gold table up to this size is replaced whole on an incremental run (no changed-dates pass).",
    )
    narrow_input_bytes: int = Field(
        256 * 1024 * 1024,
        ge=0,
        description="An incremental gold build whose input is larger recomputes only the dates a change reached "
        "(below it one pass over the whole input is cheaper: docs/benchmarks.md).",
    )
    narrow_min_days: int = Field(
        60,
        ge=0,
        description="An incremental gold build narrows only when its input's dates (from the log's statistics) "
        "also span at least this many days: a day's change is then a small part of it.",
    )
    late_event_tolerance_hours: int = Field(24, description="Events further ahead of ingestion are quarantined.")
    experiment_correction: Literal["holm", "bh"] = Field(
        "holm",
        description="Multiple-comparison correction of gold.experiment_metrics.adjusted_p_value over an "
        "experiment's goal and secondary metrics x treatment variants: holm (family-wise error rate) or bh "
        "(Benjamini-Hochberg, false discovery rate). Applies from the table's next build (--full-refresh to "
        "rebuild it at once).",
    )
    freshness_warn_hours: float = 48.0
    volume_warn_ratio: float = 0.5
    volume_window: int = Field(
        7, ge=1, description="The volume monitor compares a table's last write with the mean of this many before it."
    )
    alert_webhook_url: SecretStr | None = Field(
        None,
        description="Where alerts are POSTed (or any apprise URL). A secret: webhook URLs carry their token in "
        "the path or query, so it is never shown in a repr, a log line or an error.",
    )
    data_docs_dir: str | None = Field(
        None,
        description="Great Expectations Data Docs site: a folder or s3://bucket/prefix "
        "(default: data_docs beside a local root, s3://<root bucket>/data_docs for an object-storage root).",
    )
    data_docs_keep_runs: int = Field(
        30, ge=1, description="Runs whose validation results Data Docs keep; older ones are pruned."
    )

    dashboard_port: int = 8501
    dashboard_cache_seconds: int = 60

    lease_ttl_seconds: float = Field(
        60.0,
        gt=0,
        description="Lifetime of the one-writer lease (lakehouse.lease) unless its holder renews it (every "
        "TTL/3): a crashed run blocks others this long. Hosts' clocks must agree within 2/3 of it.",
    )
    lease_wait_timeout_seconds: float = Field(
        3600.0, ge=0, description="How long `--wait` (and a flow run) waits for the lease before giving up."
    )

    @model_validator(mode="after")
    def _object_storage_needs_keys(self) -> Settings:
        if self.uses_object_storage and (self.s3_access_key is None or self.s3_secret_key is None):
            raise SettingsError(
                "The lakehouse root or landing zone is on object storage (s3a://) but "
                "LAKEHOUSE_S3_ACCESS_KEY / LAKEHOUSE_S3_SECRET_KEY are not set (see .env.example)."
            )
        return self

    @model_validator(mode="after")
    def _dashboard_keys_come_in_pairs(self) -> Settings:
        if (self.dashboard_s3_access_key is None) != (self.dashboard_s3_secret_key is None):
            raise SettingsError(
                "Set both LAKEHOUSE_DASHBOARD_S3_ACCESS_KEY and LAKEHOUSE_DASHBOARD_S3_SECRET_KEY (the dashboard's "
                "read-only user), or neither (the dashboard then uses LAKEHOUSE_S3_ACCESS_KEY / _SECRET_KEY)."
            )
        return self

    @property
    def uses_object_storage(self) -> bool:
        return is_object_path(self.root) or is_object_path(self.landing)

    @property
    def initial_shuffle_partitions(self) -> int:
        return self.shuffle_partitions or max(8, 4 * default_parallelism())

    @property
    def table_workers(self) -> int:
        return self.parallel_tables or min(4, default_parallelism() + 1)

    @cached_property
    def ivy_dir(self) -> Path:
        return self.cache_dir / "ivy"

    @cached_property
    def services_dir(self) -> Path:
        return self.cache_dir / "services"

    def s3_storage_options(self) -> dict[str, str]:
        """Options for delta-rs / object-store readers (checks without a JVM), with the main keys."""
        return self._storage_options(
            self._secret(self.s3_access_key, "LAKEHOUSE_S3_ACCESS_KEY"),
            self._secret(self.s3_secret_key, "LAKEHOUSE_S3_SECRET_KEY"),
        )

    @property
    def has_dashboard_keys(self) -> bool:
        """Whether the dashboard has read-only keys of its own (else it reads with the main keys)."""
        return self.dashboard_s3_access_key is not None and self.dashboard_s3_secret_key is not None

    def dashboard_s3_keys(self) -> tuple[str, str]:
        """(access key, secret key) the dashboard reads with: its own read-only user's, else the main ones.

        The dashboard only reads, so a deployment can give it a user that cannot write or delete:
        a bug or a compromised dashboard host then cannot damage the lakehouse.
        """
        if self.dashboard_s3_access_key is not None and self.dashboard_s3_secret_key is not None:
            return self.dashboard_s3_access_key.get_secret_value(), self.dashboard_s3_secret_key.get_secret_value()
        return self.s3_access_key_value(), self.s3_secret_key_value()

    def dashboard_storage_options(self) -> dict[str, str]:
        """delta-rs options for the dashboard's reads: :meth:`s3_storage_options` with :meth:`dashboard_s3_keys`."""
        return self._storage_options(*self.dashboard_s3_keys())

    def alert_webhook_value(self) -> str | None:
        """The alert webhook URL in clear, for the one place that sends to it (``lakehouse.alerts``)."""
        return None if self.alert_webhook_url is None else self.alert_webhook_url.get_secret_value() or None

    def _storage_options(self, access_key: str, secret_key: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_REGION": self.s3_region,
            "AWS_ALLOW_HTTP": "true" if self.s3_endpoint.startswith("http://") else "false",
            "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
        }

    @staticmethod
    def _secret(value: SecretStr | None, name: str) -> str:
        if value is None:
            raise SettingsError(f"{name} is not set (see .env.example).")
        return value.get_secret_value()

    def s3_access_key_value(self) -> str:
        return self._secret(self.s3_access_key, "LAKEHOUSE_S3_ACCESS_KEY")

    def s3_secret_key_value(self) -> str:
        return self._secret(self.s3_secret_key, "LAKEHOUSE_S3_SECRET_KEY")


def _machine_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_driver_memory() -> str:
    """Half of the machine's memory for the Spark driver (local mode runs every task in it), 2g..32g.

    A fixed 4g ran out of heap de-duplicating 10M events; half of the memory leaves the rest to
    Python, the OS page cache and the dashboard.
    """
    total = _machine_memory_bytes()
    if total is None:
        return "4g"
    gib = total // (1024**3)
    return f"{max(2, min(32, gib // 2))}g"


def default_parallelism() -> int:
    return os.cpu_count() or 2


def is_object_path(path: str) -> bool:
    return path.startswith(("s3a://", "s3://"))


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings from the environment (and ``LAKEHOUSE_ENV_FILE`` if set), then apply overrides.

    ``overrides`` are typed ``Any`` because each is checked by pydantic against its field, not here.
    """
    env_file = os.environ.get("LAKEHOUSE_ENV_FILE", ".env")
    return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
