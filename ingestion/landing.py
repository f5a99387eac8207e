"""Landing zone access: list files matching a source glob and read small ones.

The landing zone is a local folder or an object-storage prefix. Listing returns
each file's size and a checksum so bronze can tell new and changed files from
ones it has ingested. Spark reads the big formats itself through ``spark_uri``;
the driver only reads small documents (XLSX workbooks, experiment JSON).
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lakehouse.settings import Settings, is_object_path
from lakehouse.storage import ObjectLocation


class LandingError(RuntimeError):
    """The landing zone cannot be read."""


@dataclass(frozen=True, order=True)
class LandingFile:
    """One landing file. Ordered by its landing-relative path: that is ingestion order."""

    path: str
    spark_uri: str
    size: int
    checksum: str


class LandingStore(Protocol):
    def list(self, pattern: str) -> list[LandingFile]: ...

    def read_bytes(self, file: LandingFile, limit: int | None = None) -> bytes: ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalLanding:
    """A landing folder on local disk (the embedded default)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()

    def list(self, pattern: str) -> list[LandingFile]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root).as_posix()
            if path.is_file() and fnmatch.fnmatch(relative, pattern):
                found.append(LandingFile(relative, str(path), path.stat().st_size, _sha256(path)))
        return sorted(found)

    def read_bytes(self, file: LandingFile, limit: int | None = None) -> bytes:
        """The file's bytes, or only its first ``limit`` bytes (a CSV header needs no more)."""
        with (self.root / file.path).open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit)


class MinioLanding:
    """A landing prefix in a MinIO/S3 bucket, listed with the ``minio`` SDK."""

    def __init__(self, settings: Settings) -> None:
        from minio import Minio

        self.location = ObjectLocation.parse(settings.landing)
        endpoint = settings.s3_endpoint
        self.client = Minio(
            endpoint.split("://", 1)[-1],
            access_key=settings.s3_access_key_value(),
            secret_key=settings.s3_secret_key_value(),
            secure=endpoint.startswith("https://"),
            region=settings.s3_region,
        )

    def _key(self, relative: str) -> str:
        return f"{self.location.prefix}/{relative}" if self.location.prefix else relative

    def list(self, pattern: str) -> list[LandingFile]:
        from minio.error import S3Error

        prefix = f"{self.location.prefix}/" if self.location.prefix else ""
        try:
            objects = list(self.client.list_objects(self.location.bucket, prefix=prefix, recursive=True))
        except S3Error as exc:
            raise LandingError(f"cannot list s3://{self.location.bucket}/{prefix}: {exc.code}") from exc
        found = []
        for obj in objects:
            relative = obj.object_name.removeprefix(prefix)
            if fnmatch.fnmatch(relative, pattern):
                found.append(LandingFile(relative, self.location.uri(obj.object_name), obj.size or 0, obj.etag or ""))
        return sorted(found)

    def read_bytes(self, file: LandingFile, limit: int | None = None) -> bytes:
        """The object's bytes, or only its first ``limit`` bytes (one ranged GET)."""
        length = limit if limit is not None and limit < file.size else 0
        response = self.client.get_object(self.location.bucket, self._key(file.path), length=length)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()


def landing_store(settings: Settings) -> LandingStore:
    return MinioLanding(settings) if is_object_path(settings.landing) else LocalLanding(settings.landing)
