"""The one-writer lease on an object-store root: conditional PUTs on the session's real MinIO.

The local lease serialises its compare-and-set with ``flock``; on MinIO the server does it
(``If-None-Match: *`` to create, ``If-Match: <ETag>`` to replace), so these tests are what
shows that MinIO honours those headers as sent. Each test uses its own prefix and TTLs of
fractions of a second: no Spark, a few seconds in all.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from devtools import services
from devtools.services import ServiceStatus
from lakehouse.lease import Lease, LeaseHeld, LeaseLost, LeaseRecord, ObjectLeaseStore, hold_lease
from lakehouse.settings import Settings

TTL = 0.6


@pytest.fixture
def lease_settings(minio_server: ServiceStatus, service_settings: Settings) -> Settings:
    """A fresh ``s3a://`` root per test in the service session's bucket."""
    services.ensure_bucket(service_settings)
    root = f"s3a://{service_settings.s3_bucket}/lease-{uuid.uuid4().hex[:8]}"
    return service_settings.model_copy(update={"root": root, "lease_ttl_seconds": TTL})


def _lease(settings: Settings, purpose: str) -> Lease:
    return Lease(ObjectLeaseStore(settings), purpose, TTL)


def _record(settings: Settings) -> LeaseRecord:
    current = ObjectLeaseStore(settings).read()
    assert current is not None
    return LeaseRecord.from_bytes(current[0])


@pytest.mark.services
def test_acquire_refuse_release_on_minio(lease_settings: Settings) -> None:
    with hold_lease(lease_settings, purpose="run") as held:
        time.sleep(TTL * 2)  # the heartbeat keeps it ours past its TTL
        with pytest.raises(LeaseHeld) as refused:
            _lease(lease_settings, "vacuum").acquire()
        assert _record(lease_settings).token == held.token
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"lakehouse {lease_settings.root.replace('s3a://', 's3://')} is in use by run (pid ")

    assert _record(lease_settings).released
    other = _lease(lease_settings, "vacuum")
    assert other.try_acquire() is None
    other.release()


@pytest.mark.services
def test_create_is_refused_when_the_lease_exists(lease_settings: Settings) -> None:
    store = ObjectLeaseStore(lease_settings)
    assert store.create(b'{"first": true}') is not None
    assert store.create(b'{"second": true}') is None  # If-None-Match: * -> 412
    assert store.read()[0] == b'{"first": true}'


@pytest.mark.services
def test_expired_lease_is_taken_over_by_exactly_one_of_several_racers(lease_settings: Settings) -> None:
    crashed = _lease(lease_settings, "run")
    assert crashed.try_acquire() is None  # no heartbeat: a holder that died
    assert _lease(lease_settings, "early").try_acquire() is not None
    time.sleep(TTL * 1.2)

    racers = [_lease(lease_settings, f"racer-{i}") for i in range(4)]
    start = threading.Barrier(len(racers))
    outcomes: dict[int, LeaseRecord | None] = {}

    def race(index: int) -> None:
        start.wait()
        outcomes[index] = racers[index].try_acquire()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [i for i, holder in outcomes.items() if holder is None]
    assert len(winners) == 1, outcomes
    assert _record(lease_settings).token == racers[winners[0]].token

    assert crashed.renew() is False  # If-Match on its old ETag -> 412: it knows it lost
    with pytest.raises(LeaseLost):
        crashed.release()
    assert _record(lease_settings).token == racers[winners[0]].token
    racers[winners[0]].release()
