"""The quota ledger: admission, settlement on every ending, rolling periods, no double spend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from openreel.domain import Job, JobError, VideoRequest
from openreel.errors import InvalidRequestError, RateLimitError
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.usage import Quota

from .conftest import FakeClock

NewJob = Callable[..., Job]
DAY = 86400.0


def quota(seconds: float | None = 5, videos: int | None = None) -> Quota:
    return Quota(seconds=seconds, period_seconds=DAY, concurrent=videos)


def long_job(new_job: NewJob, seconds: float, owner: str = "usr_a") -> Job:
    job = new_job(owner)
    return replace(job, request=replace(job.request, seconds=seconds))


def test_usage_admits_until_the_seconds_run_out(store: JobStore, new_job: NewJob) -> None:
    for _ in range(5):
        store.create(new_job(), quota=quota(5))
    with pytest.raises(RateLimitError) as info:
        store.create(new_job(), quota=quota(5))
    assert info.value.code == "quota_exceeded"
    assert "5 seconds" in info.value.message
    assert info.value.retry_after == pytest.approx(DAY)
    assert store.usage("usr_a", quota(5)).seconds_used == 5
    store.create(new_job("usr_b"), quota=quota(5))  # someone else's allowance is untouched


def test_usage_refused_job_leaves_no_row(store: JobStore, new_job: NewJob) -> None:
    store.create(new_job(), quota=quota(1))
    refused = new_job()
    with pytest.raises(RateLimitError):
        store.create(refused, quota=quota(1))
    stored = {j.id for j in store.list("usr_a").items}
    assert len(stored) == 1
    assert refused.id not in stored


def test_usage_retry_after_points_at_the_oldest_video_leaving_the_period(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    store.create(long_job(new_job, 3), quota=quota(5))
    clock.advance(3600)
    store.create(long_job(new_job, 2), quota=quota(5))
    clock.advance(3600)
    with pytest.raises(RateLimitError) as info:
        store.create(long_job(new_job, 2), quota=quota(5))
    assert info.value.retry_after == pytest.approx(DAY - 2 * 3600)
    clock.advance(DAY - 2 * 3600 + 1)  # the 3-second video left the window
    store.create(long_job(new_job, 2), quota=quota(5))


def test_usage_one_video_longer_than_the_allowance_is_a_bad_request(
    store: JobStore, new_job: NewJob
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.create(long_job(new_job, 6), quota=quota(5))
    assert info.value.param == "seconds"


def test_usage_concurrent_cap_counts_live_videos(store: JobStore, new_job: NewJob) -> None:
    first = store.create(new_job(), quota=quota(None, 2))
    store.create(new_job(), quota=quota(None, 2))
    with pytest.raises(RateLimitError) as info:
        store.create(new_job(), quota=quota(None, 2))
    assert info.value.code == "concurrent_limit_exceeded"
    assert store.usage("usr_a", quota(None, 2)).active_videos == 2
    store.request_cancel(first.id)  # a queued cancel ends it at once
    store.create(new_job(), quota=quota(None, 2))


def test_usage_settles_completed_as_spent_and_failed_as_refunded(
    store: JobStore, new_job: NewJob
) -> None:
    done, failed = store.create(new_job(), quota=quota()), store.create(new_job(), quota=quota())
    claimed = [store.claim("w", lease_seconds=30) for _ in (done, failed)]
    assert [c.id if c else None for c in claimed] == [done.id, failed.id]
    store.complete(done.id, "w", artifacts={}, interpretation={}, total_seconds=1, expires_at=None)
    store.fail(failed.id, "w", JobError("backend_error", "boom"))
    report = store.usage("usr_a", quota())
    assert (report.seconds_used, report.active_videos) == (1.0, 0)


def test_usage_deleting_a_finished_video_does_not_refund_it(
    store: JobStore, new_job: NewJob
) -> None:
    job = store.create(new_job(), quota=quota(1))
    store.claim("w", lease_seconds=30)
    store.complete(job.id, "w", artifacts={}, interpretation={}, total_seconds=1, expires_at=None)
    store.delete(job.id)
    with pytest.raises(RateLimitError):
        store.create(new_job(), quota=quota(1))


def test_usage_deleting_or_mass_cancelling_unfinished_videos_refunds_them(
    store: JobStore, new_job: NewJob
) -> None:
    a = store.create(new_job(), quota=quota(2))
    store.create(new_job(), quota=quota(2))
    store.delete(a.id)
    assert store.cancel_queued(owner_id="usr_a") == 1
    assert store.usage("usr_a", quota(2)).seconds_used == 0
    store.create(long_job(new_job, 2), quota=quota(2))


def _admit_from_threads(db: Database, clock: FakeClock, attempts: int, threads: int) -> int:
    admitted = 0
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def run(count: int) -> None:
        nonlocal admitted
        store = JobStore(db, clock)  # its own store; the database is the only shared thing
        start.wait()
        for _ in range(count):
            job = Job(
                id=Job.new_id(),
                owner_id="usr_race",
                request=VideoRequest(prompt="a boat", seed=1, seconds=1.0),
            )
            try:
                store.create(job, quota=Quota(seconds=100, period_seconds=DAY, concurrent=None))
            except RateLimitError:
                continue
            with lock:
                admitted += 1

    workers = [threading.Thread(target=run, args=(attempts // threads,)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return admitted


def test_usage_400_concurrent_admissions_against_100_seconds_admit_exactly_100(
    tmp_path: Path, clock: FakeClock
) -> None:
    db = Database.for_data_dir(tmp_path / "race")
    db.migrate()
    try:
        assert _admit_from_threads(db, clock, attempts=400, threads=8) == 100
        report = JobStore(db, clock).usage("usr_race", Quota(100, DAY, None))
        assert report.seconds_used == 100
        assert len(JobStore(db, clock).list("usr_race", limit=100).items) == 100
    finally:
        db.dispose()
