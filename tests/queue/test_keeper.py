"""LeaseKeeper: every lease of a pool renewed, reported and watched in one batch a tick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.clock import Clock

from openreel.domain import Job, VideoRequest
from openreel.queue.keeper import LeaseKeeper
from openreel.queue.lease import Lease, LeaseLostError
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore


class CountingStore(JobStore):
    """The real store, counting the calls that reach the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self.batches: list[int] = []
        self.reads = 0
        self.single = 0

    def heartbeat_many(self, beats: Any, *, lease_seconds: float) -> None:
        self.batches.append(len(beats))
        super().heartbeat_many(beats, lease_seconds=lease_seconds)

    def lease_states(self, held: Any) -> Any:
        self.reads += 1
        return super().lease_states(held)

    def heartbeat(self, *args: Any, **kwargs: Any) -> bool:
        self.single += 1
        return super().heartbeat(*args, **kwargs)

    def is_cancel_requested(self, job_id: str) -> bool:
        self.single += 1
        return super().is_cancel_requested(job_id)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[CountingStore]:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    yield CountingStore(db, clock)
    db.dispose()


def _kept(store: JobStore, keeper: LeaseKeeper, clock: Clock, n: int) -> list[Lease]:
    leases = []
    for _ in range(n):
        store.create(
            Job(id=Job.new_id(), owner_id="usr_a", request=VideoRequest(prompt="a boat", seed=1))
        )
    for index in range(n):
        job = store.claim(f"w{index}", lease_seconds=30)
        assert job is not None
        lease = Lease(store, job, f"w{index}", lease_seconds=30, monotonic=clock, kept=True)
        keeper.track(lease)
        leases.append(lease)
    return leases


def test_kept_leases_touch_only_memory_until_the_keeper_batches_them(
    store: CountingStore, clock: Clock
) -> None:
    keeper = LeaseKeeper(store, lease_seconds=30, monotonic=clock)
    leases = _kept(store, keeper, clock, 50)
    for step in range(1, 21):
        for lease in leases:
            lease.heartbeat(progress=step, phase="waiting")
            assert not lease.cancelled()
    assert store.single == 0
    assert store.batches == []
    assert store.reads == 0
    keeper.run_once()
    assert store.batches == [50]
    assert store.reads == 1
    for lease in leases:
        job = store.get(lease.job_id)
        assert (job.progress, job.phase) == (20, "waiting")
    keeper.run_once()  # nothing new, no renewal due: no write, one read
    assert store.batches == [50]
    assert store.reads == 2


def test_keeper_renews_only_leases_whose_runner_showed_signs_of_life(
    store: CountingStore, clock: Clock
) -> None:
    keeper = LeaseKeeper(store, lease_seconds=30, monotonic=clock)
    alive, stuck = _kept(store, keeper, clock, 2)
    clock.now += 11  # past a third of the lease
    alive.cancelled()
    keeper.run_once()
    assert store.batches == [1]
    assert store.get(alive.job_id).lease_until == clock.now + 30
    assert store.get(stuck.job_id).lease_until == 1_000.0 + 30  # left to run out
    clock.now += 20
    reclaimed = store.claim("other", lease_seconds=30)
    assert reclaimed is not None
    assert reclaimed.id == stuck.job_id
    keeper.run_once()
    with pytest.raises(LeaseLostError):
        stuck.cancelled()
    assert not alive.cancelled()


def test_keeper_hands_cancels_and_deletions_to_their_leases(
    store: CountingStore, clock: Clock
) -> None:
    keeper = LeaseKeeper(store, lease_seconds=30, monotonic=clock)
    plain, cancelled, deleted = _kept(store, keeper, clock, 3)
    store.request_cancel(cancelled.job_id)
    store.delete(deleted.job_id)
    assert not cancelled.cancelled()  # not read yet: the keeper has not ticked
    keeper.run_once()
    assert cancelled.cancelled()
    assert not plain.cancelled()
    with pytest.raises(LeaseLostError):
        deleted.heartbeat(progress=50)


def test_a_failed_batch_keeps_its_news_for_the_next(
    store: CountingStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = LeaseKeeper(store, lease_seconds=30, monotonic=clock)
    (lease,) = _kept(store, keeper, clock, 1)
    lease.heartbeat(progress=40, phase="waiting")

    def locked(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(store, "heartbeat_many", locked)
        keeper.run_once()
    assert store.get(lease.job_id).progress == 0
    keeper.run_once()
    assert store.get(lease.job_id).progress == 40


def test_completion_is_not_undone_by_a_late_batch(store: CountingStore, clock: Clock) -> None:
    keeper = LeaseKeeper(store, lease_seconds=30, monotonic=clock)
    (lease,) = _kept(store, keeper, clock, 1)
    lease.heartbeat(progress=60, phase="waiting")
    beat = lease.take_beat()
    assert beat is not None
    lease.complete(artifacts={}, interpretation={}, total_seconds=1.0, expires_at=None)
    store.heartbeat_many([beat], lease_seconds=30)
    job = store.get(lease.job_id)
    assert job.status.value == "completed"
    assert job.progress == 100
    keeper.run_once()  # a finished lease has nothing to write and is not marked lost
    assert lease.finished


def test_keeper_tick_must_leave_room_for_renewals(store: CountingStore) -> None:
    with pytest.raises(ValueError, match="tick must be positive"):
        LeaseKeeper(store, lease_seconds=3, tick=1.0)
