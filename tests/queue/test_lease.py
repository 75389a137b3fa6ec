"""Lease: progress and cancel checks a runner makes, throttled, and a lost lease detected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.clock import Clock

from openreel.domain import Job, VideoRequest
from openreel.queue.lease import Lease, LeaseLostError
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore


class CountingStore(JobStore):
    """The real store, counting how often the cheap paths actually reach the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self.cancel_reads = 0
        self.heartbeats = 0

    def is_cancel_requested(self, job_id: str) -> bool:
        self.cancel_reads += 1
        return super().is_cancel_requested(job_id)

    def heartbeat(self, *args: object, **kwargs: object) -> bool:
        self.heartbeats += 1
        return super().heartbeat(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[CountingStore]:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    yield CountingStore(db, clock)
    db.dispose()


def _claimed(store: JobStore, clock: Clock, worker: str = "w1") -> Lease:
    store.create(
        Job(id=Job.new_id(), owner_id="usr_a", request=VideoRequest(prompt="a boat", seed=1))
    )
    job = store.claim(worker, lease_seconds=30)
    assert job is not None
    return Lease(store, job, worker, lease_seconds=30, monotonic=clock)


def test_lease_heartbeat_writes_only_when_something_changed(
    store: CountingStore, clock: Clock
) -> None:
    lease = _claimed(store, clock)
    for _ in range(50):
        lease.heartbeat(progress=10, phase="rendering")
    assert store.heartbeats == 1
    lease.heartbeat(progress=5)  # lower: nothing to write
    assert store.heartbeats == 1
    lease.heartbeat(progress=11)
    assert store.heartbeats == 2
    job = store.get(lease.job_id)
    assert (job.progress, job.phase) == (11, "rendering")


def test_lease_renews_itself_after_a_third_of_its_length(
    store: CountingStore, clock: Clock
) -> None:
    lease = _claimed(store, clock)
    clock.now += 9
    lease.cancelled()
    assert store.heartbeats == 0
    clock.now += 2  # 11 s > 30 s / 3
    lease.cancelled()
    assert store.heartbeats == 1
    assert store.get(lease.job_id).lease_until == clock.now + 30


def test_lease_cancelled_reads_the_store_at_most_every_100_ms(
    store: CountingStore, clock: Clock
) -> None:
    lease = _claimed(store, clock)
    for _ in range(100):
        assert not lease.cancelled()
    assert store.cancel_reads == 1
    store.request_cancel(lease.job_id)
    assert not lease.cancelled()  # cached answer
    clock.now += 0.1
    assert lease.cancelled()
    assert store.cancel_reads == 2
    assert lease.cancelled()
    assert store.cancel_reads == 2  # a yes is final


def test_lease_lost_when_another_worker_reclaimed(store: CountingStore, clock: Clock) -> None:
    lease = _claimed(store, clock)
    clock.now += 31
    reclaimed = store.claim("w2", lease_seconds=30)
    assert reclaimed is not None
    assert reclaimed.attempts == 2
    with pytest.raises(LeaseLostError) as info:
        lease.heartbeat(progress=50)
    assert info.value.http_status == 409
    with pytest.raises(LeaseLostError):
        lease.cancelled()
    with pytest.raises(LeaseLostError):
        lease.complete(artifacts={}, interpretation={}, total_seconds=1.0, expires_at=None)
    assert store.get(lease.job_id).worker == "w2"


def test_lease_complete_and_fail_go_through_the_store(store: CountingStore, clock: Clock) -> None:
    lease = _claimed(store, clock)
    job = lease.complete(
        artifacts={"video": "jobs/x/video.mp4"},
        interpretation={},
        total_seconds=1.0,
        expires_at=None,
    )
    assert job.progress == 100
    assert lease.finished
    other = _claimed(store, clock, worker="w3")
    store.delete(other.job_id)
    with pytest.raises(LeaseLostError):
        other.heartbeat(phase="encoding")
