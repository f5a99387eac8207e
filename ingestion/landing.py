"""Landing zone access: list files matching a source glob and read small ones.

The landing zone is a local folder or an object-storage prefix. Listing returns
each file's size and a checksum so bronze can tell new and changed files from
ones it has ingested. Spark reads the big formats itself through ``spark_uri``;
the driver only reads small documents (XLSX workbooks, experiment JSON), the first
bytes of a CSV (its header) and streams a gzip file once to check it is whole.

Listing leaves out files that are not landing data yet: hidden or temporary names
(:func:`is_unstable_name`) and, on a local disk, files modified within the last
``landing_settle_seconds`` (still being copied in). They are listed by a later run once
they are renamed into place or stop changing.
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
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


CHUNK_BYTES = 1 << 20


class LandingStore(Protocol):
    def check(self) -> None:
        """Raise :class:`LandingError` when the landing zone is not there at all (cheap, before any listing)."""
        ...

    def list(self, pattern: str) -> list[LandingFile]: ...

    def read_bytes(self, file: LandingFile, limit: int | None = None) -> bytes: ...

    def iter_chunks(self, file: LandingFile, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]: ...


# Suffixes writers give a file while it is incomplete (browsers, rsync, curl, editors, Spark).
_TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", "~")


def is_unstable_name(relative: str) -> bool:
    """Whether a landing-relative path names a hidden or temporary file rather than landed data.

    Hidden (``.x``) and underscore (``_x``: ``_SUCCESS``, ``_temporary/``) names, at any folder
    level, are what tools write beside or before the real file; ``~$x.xlsx`` is Excel's lock
    file while a workbook is open; ``*.tmp`` / ``*.part`` are uploads and copies in progress that
    are renamed into place when complete. Reading any of them would ingest a half-written file
    or a file that is not data, so they are never listed.
    """
    parts = PurePosixPath(relative).parts
    if any(part.startswith((".", "_")) for part in parts):
        return True
    name = parts[-1] if parts else relative
    return name.startswith("~$") or name.lower().endswith(_TEMPORARY_SUFFIXES)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalLanding:
    """A landing folder on local disk (the embedded default)."""

    def __init__(self, root: str, settle_seconds: float = 0.0) -> None:
        self.root = Path(root).resolve()
        self.settle_seconds = settle_seconds

    def check(self) -> None:
        if not self.root.is_dir():
            # Not "nothing landed yet" (an empty folder says that): a mistyped LAKEHOUSE_LANDING
            # or an unmounted disk must not pass as a successful run with empty tables.
            raise LandingError(
                f"landing folder {self.root} does not exist: create it, or point LAKEHOUSE_LANDING at the right one"
            )

    def list(self, pattern: str) -> list[LandingFile]:
        """Files matching ``pattern``, without hidden/temporary names and files still being written.

        A file modified less than ``settle_seconds`` ago is left for a later run: a copy into the
        landing folder is not atomic, and hashing or reading it mid-copy would ingest (or reject)
        a truncated file. Checked before hashing, so a growing file is not read at all.
        """
        self.check()
        found = []
        now = time.time()
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root).as_posix()
            if not fnmatch.fnmatch(relative, pattern) or is_unstable_name(relative) or not path.is_file():
                continue
            stat = path.stat()
            if now - stat.st_mtime < self.settle_seconds:
                continue
            found.append(LandingFile(relative, str(path), stat.st_size, _sha256(path)))
        return sorted(found)

    def read_bytes(self, file: LandingFile, limit: int | None = None) -> bytes:
        """The file's bytes, or only its first ``limit`` bytes (a CSV header needs no more)."""
        with (self.root / file.path).open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def iter_chunks(self, file: LandingFile, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The file's bytes in chunks: checking a large gzip file must not hold it in memory."""
        with (self.root / file.path).open("rb") as handle:
            yield from iter(lambda: handle.read(chunk_size), b"")


class MinioLanding:
    """A landing prefix in a MinIO/S3 bucket, listed with the ``minio`` SDK.

    Hidden and temporary names are left out as on a local disk. There is no settle time: an
    object becomes visible only when its upload completed (a PUT or a completed multipart
    upload is atomic), so a listed object is never half-written.
    """

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

    def check(self) -> None:
        """Nothing to check up front: an unreachable endpoint or bucket fails the listing with its reason."""

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
            if fnmatch.fnmatch(relative, pattern) and not is_unstable_name(relative):
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

    def iter_chunks(self, file: LandingFile, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object's bytes in chunks of one streamed GET (a large gzip is never held in memory)."""
        response = self.client.get_object(self.location.bucket, self._key(file.path))
        try:
            yield from response.stream(chunk_size)
        finally:
            response.close()
            response.release_conn()


def landing_store(settings: Settings) -> LandingStore:
    if is_object_path(settings.landing):
        return MinioLanding(settings)
    return LocalLanding(settings.landing, settle_seconds=settings.landing_settle_seconds)
