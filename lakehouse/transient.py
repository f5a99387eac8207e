"""Which failures are worth retrying: a service that blinked, not a bug or bad data.

Flows retry the tasks that touch MinIO, Kafka or a Spark cluster with backoff. Retrying
everything would hide real failures behind minutes of waiting and, worse, re-run a failed
quality gate as if the data could change on its own. So retries are narrowed to errors that
a later attempt can plausibly cure: refused or reset connections, timeouts, S3 throttling
and 5xx answers, retriable Kafka errors, and the same causes as they surface through the
JVM (Py4J wraps them as text, so Java exception names are matched in the message).
"""

from __future__ import annotations

from collections.abc import Iterator

# Java exception / error names that mean "the service was not reachable or overloaded right now".
TRANSIENT_JAVA_MARKERS = (
    "java.net.ConnectException",
    "java.net.SocketTimeoutException",
    "java.net.SocketException",
    "java.net.UnknownHostException",
    "java.io.InterruptedIOException",
    "org.apache.hadoop.fs.s3a.AWSClientIOException",
    "org.apache.hadoop.net.ConnectTimeoutException",
    "software.amazon.awssdk.core.exception.SdkClientException",
    "software.amazon.awssdk.core.exception.ApiCallTimeoutException",
    "Unable to execute HTTP request",
    "org.apache.kafka.common.errors.TimeoutException",
    "org.apache.kafka.common.errors.NetworkException",
    "org.apache.kafka.common.errors.DisconnectException",
)
# S3 error codes a retry can cure (throttling, a busy or restarting server).
TRANSIENT_S3_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "XMinioServerNotInitialized"}
)
# Errors that no retry can cure, even when their message happens to mention a timeout. Matched by
# class name so classifying an error never imports Great Expectations or the catalog.
_NEVER = ("GateFailed", "CatalogError", "SettingsError", "SourceError", "ValidationError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _one_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError
    except ImportError:  # pragma: no cover - urllib3 comes with minio
        pass
    else:
        if isinstance(exc, (MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError)):
            return True
    try:
        from minio.error import S3Error, ServerError
    except ImportError:  # pragma: no cover - minio is a dependency
        pass
    else:
        if isinstance(exc, ServerError):
            return True
        if isinstance(exc, S3Error):
            return exc.code in TRANSIENT_S3_CODES
    try:
        from confluent_kafka import KafkaException
    except ImportError:  # pragma: no cover - confluent-kafka is a dependency
        pass
    else:
        if isinstance(exc, KafkaException) and exc.args:
            error = exc.args[0]
            retriable = getattr(error, "retriable", None)
            return bool(retriable()) if callable(retriable) else False
    message = str(exc)
    return any(marker in message for marker in TRANSIENT_JAVA_MARKERS)


def is_transient(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is a passing service failure that a retry may cure."""
    chain = list(_chain(exc))
    if any(type(e).__name__ in _NEVER for e in chain):
        return False
    return any(_one_is_transient(e) for e in chain)
