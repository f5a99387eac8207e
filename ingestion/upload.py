"""Upload a local landing folder into the landing bucket/prefix of the settings.

Bronze finds new landing objects by (path, checksum), where the checksum of an object is its
ETag. Uploading the same bytes again would usually produce the same ETag, but not always (a
multipart upload's ETag depends on the part size), so a re-upload could look like a changed
file and be ingested twice. The upload therefore records each file's SHA-256 in the object's
metadata and skips files whose object already carries the same digest: running ``upload``
twice sends nothing the second time and bronze sees no change.

Only the ``minio`` SDK is used (no JVM): this is what a small team runs from a laptop or a
cron job to push exports into the lakehouse.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.landing import LandingError, MinioLanding
from lakehouse.settings import Settings, is_object_path

log = logging.getLogger(__name__)

SHA256_META = "sha256"
# minio-py returns user metadata with this prefix; it sends ours without it and adds it itself.
_META_HEADER = f"x-amz-meta-{SHA256_META}"


@dataclass
class UploadSummary:
    """What one upload did, in landing-relative paths, so the CLI and tests can report it."""

    bucket: str
    prefix: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    bucket_created: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(source: Path) -> list[tuple[str, Path]]:
    """(landing-relative posix path, file) for every regular file under ``source``, sorted.

    Hidden files and folders (``.DS_Store``, editor swap files, ``.git``) are not landing data.
    """
    found = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            found.append((relative.as_posix(), path))
    return sorted(found)


def _stored_digest(landing: MinioLanding, key: str) -> str | None:
    """The SHA-256 an earlier upload recorded on ``key``; None if the object is absent or has none."""
    from minio.error import S3Error

    try:
        stat = landing.client.stat_object(landing.location.bucket, key)
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
            return None
        raise
    metadata = {k.lower(): v for k, v in (stat.metadata or {}).items()}
    return metadata.get(_META_HEADER)


def _describe(exc: Exception, endpoint: str) -> str:
    """One line naming the endpoint and the likely fix; the SDK's own messages are long retry dumps."""
    from minio.error import MinioException, S3Error

    if isinstance(exc, S3Error):
        return f"MinIO at {endpoint} refused the upload: {exc.code} ({exc.message})"
    if isinstance(exc, MinioException):
        return f"MinIO at {endpoint} answered with an error: {str(exc).splitlines()[0]}"
    return (
        f"cannot reach MinIO at {endpoint} ({type(exc).__name__}); start it with `lakehouse up` "
        "or fix LAKEHOUSE_S3_ENDPOINT"
    )


def upload_landing(
    settings: Settings,
    source: Path,
    *,
    on_file: Callable[[str, bool], None] | None = None,
) -> UploadSummary:
    """Put every file under ``source`` at ``{landing}/{relative path}`` unless it is already there.

    ``settings.landing`` must be an ``s3a://bucket/prefix`` URI. The bucket is created when it is
    missing, so a fresh MinIO needs no extra step. ``on_file(path, uploaded)`` is called per file.
    Raises :class:`LandingError` (one self-contained line) when the source or MinIO is unusable.
    """
    if not is_object_path(settings.landing):
        raise LandingError(
            f"LAKEHOUSE_LANDING is {settings.landing!r}, a local folder; set it to s3a://<bucket>/<prefix> "
            "to upload into object storage"
        )
    source = Path(source)
    if not source.is_dir():
        raise LandingError(f"{source} is not a folder; generate data with `lakehouse generate` or pass --from")
    files = local_files(source)
    if not files:
        raise LandingError(f"{source} holds no files to upload")

    from minio.error import MinioException
    from urllib3.exceptions import HTTPError

    landing = MinioLanding(settings)
    bucket, prefix = landing.location.bucket, landing.location.prefix
    summary = UploadSummary(bucket=bucket, prefix=prefix)
    try:
        if not landing.client.bucket_exists(bucket):
            landing.client.make_bucket(bucket)
            summary.bucket_created = True
        for relative, path in files:
            key = f"{prefix}/{relative}" if prefix else relative
            digest = _sha256(path)
            if _stored_digest(landing, key) == digest:
                summary.unchanged.append(relative)
                if on_file is not None:
                    on_file(relative, False)
                continue
            landing.client.fput_object(bucket, key, str(path), metadata={SHA256_META: digest})
            summary.uploaded.append(relative)
            summary.bytes_uploaded += path.stat().st_size
            log.info("uploaded %s -> s3://%s/%s", path, bucket, key)
            if on_file is not None:
                on_file(relative, True)
    except (MinioException, HTTPError, ConnectionError) as exc:  # what the SDK raises when MinIO is unusable
        raise LandingError(_describe(exc, settings.s3_endpoint)) from exc
    return summary
