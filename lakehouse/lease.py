"""One writer per lakehouse: a lease on the lakehouse root.

Why: bronze decides what is new by reading ``ops.ingest_log`` before it appends, and Delta
commits of two drivers to one table race. Two ``lakehouse run`` on one root therefore ingest
the same new landing files twice, or one dies on a Delta conflict; a VACUUM next to a run can
delete files the run is about to commit. Everything that writes the lakehouse (``run``,
``demo``, ``backfill``, ``optimize``, ``vacuum`` and the Prefect flows ``medallion_pipeline``
and ``maintenance``) holds this lease for its whole duration; readers (dashboard, ``quality``)
do not need it.

The lease is one small JSON document at ``<root>/_lease.json`` naming its holder (a random
token, host, pid, purpose, when it started) and when it expires. Every change to it is a
compare-and-set against the version the writer last read, so it is never overwritten blindly:

* **Local folder root**: the document is created with ``os.link`` of a fully written temporary
  file (atomic create-if-absent, like ``O_CREAT|O_EXCL`` but never visible half-written) and
  replaced with ``os.replace`` (an atomic rename). Each read-compare-write runs under an
  exclusive ``flock`` of ``<root>/_lease.lock``, which makes the compare and the write one
  step for every process of the host. The version is the SHA-256 of the document's bytes. A
  local root lives on one host's filesystem (``flock`` over NFS is not to be trusted); a
  lakehouse shared by several hosts lives on object storage.
* **Object-store root** (``s3a://bucket/prefix``, MinIO): conditional PUTs. The document is
  created with ``If-None-Match: *`` (412 when it exists) and replaced with ``If-Match: <ETag
  read>`` (412 when anyone wrote it since). minio-py's public ``put_object`` turns every
  header it does not know into ``x-amz-meta-*`` user metadata, so the lease sends these
  through ``Minio._put_object``, the single-part PUT that ``put_object`` itself ends in, which
  passes headers through unchanged. MinIO ignores ``If-Match`` on DELETE, so a lease is never
  deleted: releasing it is a conditional PUT of a record marked ``released``.

Held leases are renewed by a heartbeat thread every ``ttl / 3``; a crashed holder stops
renewing and its lease is free once ``expires_at`` has passed. Two waiters that both see the
expired lease both try to replace *that version*; the compare-and-set lets exactly one win.
A holder whose renewal finds someone else's version has lost the lease (it stalled for more
than the TTL) and says so when it exits (:class:`LeaseLost`).

Clocks: ``expires_at`` is written with the holder's wall clock and judged with the reader's.
The holder renews every ``ttl / 3``, so a live lease always has at least ``2/3 ttl`` left on
the holder's clock: hosts whose clocks disagree by less than that (40 s at the default 60 s
TTL; NTP keeps hosts within milliseconds) never take a live lease from each other. A reader
that waits also trusts its own monotonic clock: a lease whose version has not changed for a
whole TTL while it watched is expired whatever its ``expires_at`` says, so a crashed holder
whose clock ran ahead cannot block waiters for longer than one TTL of watching.

Re-entrant within one process: :func:`hold_lease` on a root this process already holds joins
that hold (a count) instead of taking it again, so ``lakehouse run`` (which takes the lease
before anything starts, to answer "busy" at once) and the flow it runs (which takes it for
runs a Prefect worker starts) share one lease. Threads of one process therefore never
exclude each other; the building block :class:`Lease` does, per instance.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from lakehouse.settings import Settings, is_object_path
from lakehouse.storage import ObjectLocation

log = logging.getLogger(__name__)

LEASE_NAME = "_lease.json"
LOCK_NAME = "_lease.lock"
_RECORD_VERSION = 1


class LeaseError(RuntimeError):
    """The lease document cannot be read or written (storage unreachable, unreadable document)."""


class LeaseHeld(LeaseError):
    """Another holder has the lakehouse; the message is one line naming it."""

    def __init__(self, location: str, holder: LeaseRecord, waited: float | None = None) -> None:
        self.location = location
        self.holder = holder
        self.waited = waited
        waited_note = f" (waited {waited:.0f} s)" if waited is not None else ""
        super().__init__(f"lakehouse {location} is in use by {holder.describe()}{waited_note}")


class LeaseLost(LeaseError):
    """This process's lease was taken over while it still worked (its heartbeat stalled past the TTL)."""


@dataclass(frozen=True)
class LeaseRecord:
    """The lease document: who holds it, since when, until when (epoch seconds, holder's clock)."""

    token: str
    host: str
    pid: int
    purpose: str
    started_at: float
    renewed_at: float
    expires_at: float
    ttl: float
    seq: int = 0
    released: bool = False
    v: int = _RECORD_VERSION

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LeaseRecord:
        try:
            raw = json.loads(data)
            fields = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
            return cls(**fields)
        except (ValueError, TypeError, KeyError) as exc:
            raise LeaseError(f"unreadable lease document ({exc}); delete it if no run is active") from exc

    def describe(self) -> str:
        """``run`` (pid 123 on host-a) since 2026-10-01 12:00:00 UTC: the holder, for one error line."""
        since = dt.datetime.fromtimestamp(self.started_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.purpose} (pid {self.pid} on {self.host}) since {since}"


class LeaseStore(Protocol):
    """Compare-and-set storage of one small document; ``version`` is opaque (a hash or an ETag)."""

    location: str

    def read(self) -> tuple[bytes, str] | None:
        """The document and its version, or None when there is none."""
        ...

    def create(self, data: bytes) -> str | None:
        """Write the document if there is none; its new version, or None when one exists."""
        ...

    def replace(self, data: bytes, expected: str) -> str | None:
        """Overwrite the document if its version is still ``expected``; the new version, or None."""
        ...


class LocalLeaseStore:
    """The lease of a local folder root: ``flock``-guarded compare-and-set, atomic link/rename writes."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()
        self.path = self.root / LEASE_NAME
        self.location = str(self.root)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive ``flock`` for one read-compare-write; held for microseconds, never while working."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LeaseError(f"cannot lock {self.root / LOCK_NAME}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        except OSError as exc:
            raise LeaseError(f"cannot write the lease {self.path}: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)  # closing drops the flock

    def _read_unlocked(self) -> tuple[bytes, str] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def _write_temp(self, data: bytes) -> Path:
        temp = self.root / f".{LEASE_NAME}.{uuid.uuid4().hex}.tmp"
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return temp

    def read(self) -> tuple[bytes, str] | None:
        with self._locked():
            return self._read_unlocked()

    def create(self, data: bytes) -> str | None:
        with self._locked():
            temp = self._write_temp(data)
            try:
                os.link(temp, self.path)  # atomic: fails if the lease exists
            except FileExistsError:
                return None
            finally:
                temp.unlink(missing_ok=True)
        return hashlib.sha256(data).hexdigest()

    def replace(self, data: bytes, expected: str) -> str | None:
        with self._locked():
            current = self._read_unlocked()
            if current is None or current[1] != expected:
                return None
            os.replace(self._write_temp(data), self.path)
        return hashlib.sha256(data).hexdigest()


class ObjectLeaseStore:
    """The lease of an object-store root: conditional PUTs (``If-None-Match: *`` / ``If-Match: <ETag>``)."""

    def __init__(self, settings: Settings) -> None:
        from minio import Minio

        place = ObjectLocation.parse(settings.root)
        self.bucket = place.bucket
        self.key = f"{place.prefix}/{LEASE_NAME}" if place.prefix else LEASE_NAME
        self.location = place.uri(self.key.removesuffix(LEASE_NAME).rstrip("/"), scheme="s3")
        endpoint = settings.s3_endpoint
        self.client = Minio(
            endpoint.split("://", 1)[-1],
            access_key=settings.s3_access_key_value(),
            secret_key=settings.s3_secret_key_value(),
            secure=endpoint.startswith("https://"),
            region=settings.s3_region,
        )

    def _failed(self, action: str, exc: Exception) -> LeaseError:
        reason = getattr(exc, "code", None) or type(exc).__name__
        return LeaseError(f"cannot {action} the lease s3://{self.bucket}/{self.key}: {reason}")

    def read(self) -> tuple[bytes, str] | None:
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        try:
            response = self.client.get_object(self.bucket, self.key)
            try:
                return response.read(), response.headers.get("etag", "").strip('"')
            finally:
                response.close()
                response.release_conn()
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                return None
            raise self._failed("read", exc) from exc
        except HTTPError as exc:  # MinIO unreachable
            raise self._failed("read", exc) from exc

    def _put(self, data: bytes, condition: dict[str, str]) -> str | None:
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        try:
            # Not put_object: it would send the condition as x-amz-meta-* metadata (see the module doc).
            headers: dict[str, str | list[str] | tuple[str]] = {**condition}  # the SDK's (invariant) header type
            result = self.client._put_object(self.bucket, self.key, data, headers=headers)
        except S3Error as exc:
            if exc.code in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
                return None
            raise self._failed("write", exc) from exc
        except HTTPError as exc:
            raise self._failed("write", exc) from exc
        return str(result.etag)

    def create(self, data: bytes) -> str | None:
        return self._put(data, {"If-None-Match": "*"})

    def replace(self, data: bytes, expected: str) -> str | None:
        return self._put(data, {"If-Match": f'"{expected}"'})


def lease_store(settings: Settings) -> LeaseStore:
    """The lease store of ``settings.root``: object storage for ``s3a://``, else the local folder."""
    return ObjectLeaseStore(settings) if is_object_path(settings.root) else LocalLeaseStore(settings.root)


class Lease:
    """One holder's lease on one store: acquire, renew from a heartbeat thread, release.

    Each instance is its own holder (its own token), so two instances exclude each other even
    in one process; :func:`hold_lease` adds the per-process sharing on top.
    """

    def __init__(
        self,
        store: LeaseStore,
        purpose: str,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.purpose = purpose
        self.ttl = ttl
        self.clock = clock
        self.token = uuid.uuid4().hex
        self.record: LeaseRecord | None = None
        self.version: str | None = None
        self.lost = False
        self._lock = threading.Lock()  # the heartbeat and release never write at once
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._watched: tuple[str, float] | None = None  # (version, monotonic time first seen)

    def _new_record(self, started_at: float | None = None, seq: int = 0, released: bool = False) -> LeaseRecord:
        now = self.clock()
        return LeaseRecord(
            token=self.token,
            host=socket.gethostname(),
            pid=os.getpid(),
            purpose=self.purpose,
            started_at=started_at if started_at is not None else now,
            renewed_at=now,
            expires_at=now + self.ttl,
            ttl=self.ttl,
            seq=seq,
            released=released,
        )

    def _expired(self, record: LeaseRecord, version: str) -> bool:
        """Free to take: released, past ``expires_at`` by our clock, or unchanged for a TTL while we watched."""
        if record.released or self.clock() >= record.expires_at:
            return True
        now = time.monotonic()
        if self._watched is None or self._watched[0] != version:
            self._watched = (version, now)
            return False
        return now - self._watched[1] >= record.ttl

    def try_acquire(self) -> LeaseRecord | None:
        """Take the lease if it is free or expired: None when taken, else the current holder's record."""
        if self.record is not None:
            raise LeaseError("this lease is already held")
        mine = self._new_record()
        current = self.store.read()
        if current is None:
            version = self.store.create(mine.to_bytes())
        else:
            record = LeaseRecord.from_bytes(current[0])
            if not self._expired(record, current[1]):
                return record
            version = self.store.replace(mine.to_bytes(), current[1])  # only one taker of this version wins
        if version is None:  # someone else created or took it over between our read and our write
            current = self.store.read()
            if current is None:
                raise LeaseError(f"lease of {self.store.location} vanished while being taken")
            return LeaseRecord.from_bytes(current[0])
        self.record, self.version = mine, version
        return None

    def acquire(
        self,
        wait: bool = False,
        timeout: float = 0.0,
        poll: float | None = None,
        on_wait: Callable[[LeaseHeld], None] | None = None,
    ) -> None:
        """Take the lease and start its heartbeat; :class:`LeaseHeld` if taken (after ``timeout`` s with ``wait``).

        ``on_wait`` is called once, with the holder, when waiting starts (the CLI prints it).
        """
        started = time.monotonic()
        interval = poll if poll is not None else max(0.05, min(1.0, self.ttl / 10))
        while True:
            holder = self.try_acquire()
            if holder is None:
                break
            waited = time.monotonic() - started
            if not wait or waited >= timeout:
                raise LeaseHeld(self.store.location, holder, waited if wait else None)
            if on_wait is not None:
                on_wait(LeaseHeld(self.store.location, holder))
                on_wait = None
            time.sleep(min(interval, max(0.0, timeout - waited)))
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease-heartbeat-{self.purpose}", daemon=True)
        self._heartbeat.start()

    def renew(self) -> bool:
        """Push ``expires_at`` one TTL ahead; False (and ``lost``) if someone else's version is there now."""
        with self._lock:
            if self.record is None or self.version is None or self.lost:
                return False
            renewed = self._new_record(started_at=self.record.started_at, seq=self.record.seq + 1)
            version = self.store.replace(renewed.to_bytes(), self.version)
            if version is None:
                self.lost = True
                log.error("lost the lease of %s: another holder took it over", self.store.location)
                return False
            self.record, self.version = renewed, version
            return True

    def _beat(self) -> None:
        """Renew every ``ttl / 3`` until released; a storage hiccup is retried at the next beat."""
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.renew():
                    return
            except Exception as exc:  # MinIO restarting, a full disk: the thread must live to try again
                log.warning("could not renew the lease of %s: %s", self.store.location, exc)

    def release(self) -> None:
        """Stop the heartbeat and mark the lease released (compare-and-set: never frees someone else's)."""
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join()
        with self._lock:
            if self.record is None or self.version is None:
                return
            if not self.lost:
                released = self._new_record(self.record.started_at, self.record.seq + 1, released=True)
                try:
                    if self.store.replace(released.to_bytes(), self.version) is None:
                        self.lost = True
                except LeaseError as exc:  # storage down at the very end: the lease frees itself after its TTL
                    log.warning("%s; the lease expires by itself in %.0f s", exc, self.ttl)
            self.record, self.version = None, None
        if self.lost:
            raise LeaseLost(
                f"the lease of {self.store.location} was taken over while this {self.purpose} ran "
                "(heartbeat stalled longer than the TTL); check the tables it wrote"
            )


@dataclass
class _Held:
    lease: Lease
    count: int


_HELD: dict[str, _Held] = {}
_HELD_LOCK = threading.Lock()  # guards _HELD
_ACQUIRE_LOCK = threading.Lock()  # one acquisition per process at a time: a second thread then joins it


def _key(settings: Settings) -> str:
    if is_object_path(settings.root):
        return "s3://" + settings.root.split("://", 1)[1].rstrip("/")
    return str(Path(settings.root).resolve())


def _leave(key: str, held: _Held, failing: bool) -> None:
    """Drop one hold; the last one releases. A lost lease raises, unless an error is already on its way."""
    with _HELD_LOCK:
        held.count -= 1
        if held.count:
            return
        _HELD.pop(key, None)
    try:
        held.lease.release()
    except LeaseError as exc:
        if not failing:
            raise
        log.error("%s", exc)


@contextlib.contextmanager
def hold_lease(
    settings: Settings,
    purpose: str,
    wait: bool = False,
    timeout: float | None = None,
    store: LeaseStore | None = None,
    on_wait: Callable[[LeaseHeld], None] | None = None,
) -> Iterator[Lease]:
    """Hold the lakehouse's lease for the ``with`` block; re-entrant within this process.

    Raises :class:`LeaseHeld` at once when another holder has it, or with ``wait`` after
    ``timeout`` seconds (default ``settings.lease_wait_timeout_seconds``) of polling, calling
    ``on_wait`` once when it starts to wait. A hold
    nested in one this process already has (the CLI's around the flow's) joins it whatever its
    ``purpose``. On exit the last hold releases the lease; :class:`LeaseLost` if it had been
    taken over meanwhile.
    """
    key = _key(settings)
    with _ACQUIRE_LOCK:
        with _HELD_LOCK:
            held = _HELD.get(key)
            if held is not None:
                held.count += 1
        if held is None:
            lease = Lease(store or lease_store(settings), purpose, settings.lease_ttl_seconds)
            limit = settings.lease_wait_timeout_seconds if timeout is None else timeout
            lease.acquire(wait=wait, timeout=limit, on_wait=on_wait)
            held = _Held(lease, 1)
            with _HELD_LOCK:
                _HELD[key] = held
    try:
        yield held.lease
    except BaseException:
        _leave(key, held, failing=True)
        raise
    _leave(key, held, failing=False)
