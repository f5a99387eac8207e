"""Storage locations: the one place that turns a (layer, table) into a path.

Layer modules never build paths. Spark sees ``s3a://`` URIs on object storage;
delta-rs and the ``minio`` SDK see ``s3://`` and (bucket, key) respectively.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakehouse.settings import LAYERS, Settings, is_object_path


def _join(base: str, *parts: str) -> str:
    if is_object_path(base):
        return "/".join([base.rstrip("/"), *parts])
    return str(Path(base).resolve().joinpath(*parts))


def table_path(settings: Settings, layer: str, table: str) -> str:
    """Spark-facing location of a Delta table: ``{root}/{layer}/{table}``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    return _join(settings.root, layer, table)


def split_table_id(table_id: str) -> tuple[str, str]:
    """``layer.name`` -> (layer, name); the layer must be one of :data:`LAYERS`."""
    layer, dot, name = table_id.partition(".")
    if not dot or not name or layer not in LAYERS:
        raise ValueError(f"not a table id of the form layer.name with a layer of {', '.join(LAYERS)}: {table_id!r}")
    return layer, name


def table_id_path(settings: Settings, table_id: str) -> str:
    """Spark-facing location of the table ``layer.name``."""
    return table_path(settings, *split_table_id(table_id))


def quarantine_id(table_name: str) -> str:
    """The quarantine table that holds the rejected rows of the silver table ``table_name``."""
    return f"quarantine.{table_name}"


def reader_uri(path: str) -> str:
    """The same location as delta-rs/DuckDB want it (``s3://`` instead of ``s3a://``)."""
    return "s3://" + path.removeprefix("s3a://") if path.startswith("s3a://") else path


def landing_path(settings: Settings, *parts: str) -> str:
    return _join(settings.landing, *parts)


@dataclass(frozen=True)
class ObjectLocation:
    """A bucket and key prefix parsed from an ``s3a://bucket/prefix`` URI."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> ObjectLocation:
        if not is_object_path(uri):
            raise ValueError(f"not an object-storage URI: {uri}")
        rest = uri.split("://", 1)[1]
        bucket, _, prefix = rest.partition("/")
        return cls(bucket=bucket, prefix=prefix.strip("/"))

    def uri(self, key: str, scheme: str = "s3a") -> str:
        return f"{scheme}://{self.bucket}/{key}"
