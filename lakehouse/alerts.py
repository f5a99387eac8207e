"""Alerts: tell a person when a gate blocks a hop, or when gold finds a sales spike.

Nothing is sent unless ``alert_webhook_url`` is set. Delivery goes through apprise (already
installed with Prefect): a plain ``http(s)://`` webhook becomes apprise's ``json(s)://`` target,
which POSTs ``{"version", "title", "message", "type", "attachments"}`` as JSON; any other apprise
URL (``slack://``, ``mailto://``, ...) is used as given, so switching channel is a setting.

An alert never raises: a dead webhook is logged and the run goes on (or fails) for its own
reasons, since an alerting problem must not hide or replace the failure it reports.

The webhook URL is a secret (``SecretStr``, like the S3 keys): chat and incident webhooks carry
their token in the path or query, so whoever reads a log could post as the lakehouse. It is read
in clear only here, and while an alert is sent the log records of apprise and urllib3 (which
print the URL and the request path) and our own failure lines are redacted.

Sales spikes are alerted once: ``gold.product_daily`` is rebuilt whole by each run, so the alert
names the (date, product) spikes present in the version this run wrote and absent from the
version before it, not every historic spike again on every run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from lakehouse import delta_log
from lakehouse.settings import Settings
from lakehouse.storage import table_id_path

if TYPE_CHECKING:
    from lakehouse.model import TableResult
    from lakehouse.quality import GateFailed

log = logging.getLogger(__name__)

Kind = Literal["info", "success", "warning", "failure"]

SPIKE_TABLE = "gold.product_daily"
SPIKE_COLUMN = "sales_spike"
SPIKE_KEYS = ("date", "product_id")
# One alert lists at most this many spikes; the rest are counted (a chat message, not a report).
MAX_LISTED = 50
REDACTED = "<redacted>"
# Loggers that print the target URL or the request path while an alert is sent.
CLIENT_LOGGERS = ("apprise", "urllib3.connectionpool")


def apprise_url(url: str) -> str:
    """The apprise URL for ``url``: ``http(s)://`` webhooks become apprise's JSON POST target.

    apprise reads plain query parameters as its own options; a webhook's own query parameters
    (a token, say) must be prefixed with ``-`` to reach the endpoint, so they are rewritten.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    query = urlencode([(f"-{key}", value) for key, value in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit(("jsons" if parts.scheme == "https" else "json", parts.netloc, parts.path, query, ""))


def secret_fragments(url: str) -> list[str]:
    """The parts of ``url`` that may carry its secret, longest first: URL, path, segments, query values, user info.

    The host (and port) is kept readable: it says where an alert failed to go and is no secret.
    """
    parts = urlsplit(url)
    fragments = {url, apprise_url(url), parts.path, parts.query, *parts.path.split("/")}
    fragments.update(re.split(r"[\s,]+", url))  # apprise splits an unparsable setting into such pieces
    if parts.username or parts.password:
        fragments.add(parts.netloc.rpartition("@")[0])
    for _key, value in parse_qsl(parts.query, keep_blank_values=True):
        fragments.update({value, quote(value, safe=""), quote_plus(value)})
    public = {parts.hostname or "", parts.netloc.rpartition("@")[2]}
    # Short pieces ("/", "hooks") are no secret and would garble every message.
    return sorted((f for f in fragments if len(f) >= 6 and f not in public), key=len, reverse=True)


def redact(text: str, fragments: Iterable[str]) -> str:
    """``text`` with every fragment of the webhook URL replaced."""
    for fragment in fragments:
        text = text.replace(fragment, REDACTED)
    return text


class _Redact(logging.Filter):
    """Rewrites a log record's message without the webhook's secret parts (it never drops a record)."""

    def __init__(self, fragments: list[str]) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.fragments)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


@contextlib.contextmanager
def _redacted_client_logs(fragments: list[str]) -> Iterator[None]:
    """Redact the records apprise and urllib3 log while an alert is sent (they print URL and path)."""
    loggers = [logging.getLogger(name) for name in CLIENT_LOGGERS]
    flt = _Redact(fragments)
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


def send(settings: Settings, title: str, body: str, kind: Kind = "warning") -> bool:
    """POST one alert; True when it was delivered, False when not configured or not delivered."""
    url = settings.alert_webhook_value()
    if not url:
        return False
    fragments = secret_fragments(url)
    try:
        import apprise

        with _redacted_client_logs(fragments):
            notifier = apprise.Apprise()
            if not notifier.add(apprise_url(url)):
                log.warning("alerts: alert_webhook_url is not a URL apprise can send to; alert not sent: %s", title)
                return False
            delivered = bool(notifier.notify(title=title, body=body, notify_type=kind))
    except Exception as exc:  # an alerting problem must not mask what it reports
        log.warning("alerts: sending %r failed: %s", title, redact(str(exc), fragments))
        return False
    if not delivered:
        log.warning("alerts: the webhook did not accept the alert: %s", title)
    return delivered


def gate_failed(settings: Settings, run_id: str, failure: GateFailed) -> bool:
    """Alert that a critical check blocked ``failure.table`` (and everything downstream of it)."""
    lines = [
        f"Run {run_id}: a critical check failed on {failure.table}; it and every table downstream "
        "of it were not written in this run.",
        *(f"- {f.describe()}" for f in failure.failures),
    ]
    return send(settings, f"lakehouse: quality gate failed on {failure.table}", "\n".join(lines), "failure")


def _spike_keys(settings: Settings, version: int) -> set[tuple[str, str]]:
    import pyarrow.dataset as ds

    reader = delta_log.open_reader(settings, table_id_path(settings, SPIKE_TABLE))
    if reader is None:
        return set()
    reader.load_as_version(version)
    if SPIKE_COLUMN not in reader.schema().to_arrow().names:
        return set()
    # Filter after the scan, not in it: Spark writes no min/max statistics for booleans, and delta-rs
    # turns the missing ones into fragment guards (``sales_spike >= null``) that prune every file.
    rows = reader.to_pyarrow_dataset().to_table(columns=[*SPIKE_KEYS, SPIKE_COLUMN])
    rows = rows.filter(ds.field(SPIKE_COLUMN) == True)  # noqa: E712 - an Arrow expression, not a Python test
    return {(_text(d), str(p)) for d, p in zip(*(rows.column(k).to_pylist() for k in SPIKE_KEYS), strict=True)}


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def new_sales_spikes(settings: Settings, version: int) -> list[tuple[str, str]]:
    """(date, product_id) spikes in ``gold.product_daily`` at ``version`` that the version before lacked."""
    now = _spike_keys(settings, version)
    if not now or version == 0:
        return sorted(now)
    try:
        before = _spike_keys(settings, version - 1)
    except Exception as exc:  # the previous version may be vacuumed away: then every spike is news
        log.warning("alerts: cannot read %s version %s (%s); alerting every spike", SPIKE_TABLE, version - 1, exc)
        before = set()
    return sorted(now - before)


def sales_spikes(settings: Settings, run_id: str, results: Iterable[TableResult]) -> bool:
    """Alert on new sales spikes when this run wrote ``gold.product_daily``; True when an alert was delivered."""
    if not settings.alert_webhook_value():
        return False
    written = [r for r in results if r.table == SPIKE_TABLE and r.status == "written" and r.delta_version is not None]
    if not written:
        return False
    version = written[-1].delta_version
    assert version is not None
    spikes = new_sales_spikes(settings, version)
    if not spikes:
        return False
    listed = [f"- {day} product {product}" for day, product in spikes[:MAX_LISTED]]
    if len(spikes) > MAX_LISTED:
        listed.append(f"- ... and {len(spikes) - MAX_LISTED} more")
    body = "\n".join([f"Run {run_id}: {len(spikes)} new sales spike(s) in {SPIKE_TABLE} (version {version}):", *listed])
    return send(settings, f"lakehouse: {len(spikes)} sales spike(s) in {SPIKE_TABLE}", body, "warning")
