"""JobStore: records round-trip, listing pages, and the claim / lease / cancel protocol."""

from __future__ import annotations

import multiprocessing
import runpy
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openreel.domain import ImageInput, Job, JobError, JobStatus, VideoRequest
from openreel.errors import ConflictError, InvalidRequestError, NotFoundError
from openreel.storage.db import Database
from openreel.storage.jobs import CANCELLED_BEFORE_START, JobStore

from .conftest import FakeClock

NewJob = Callable[..., Job]


def test_jobs_create_get_round_trips_every_field(store: JobStore, new_job: NewJob) -> None:
    job = new_job(
        created_at=5.0,
        remixed_from="video_" + "a" * 32,
        interpretation={"subject": "boat", "n": 2},
        total_seconds=1.0,
    )
    created = store.create(job)
    assert created == job
    assert store.get(job.id) == job
    assert store.get_input_reference_path(job.id) is None


def test_jobs_create_uses_clock_when_created_at_unset(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    assert store.create(new_job()).created_at == clock.now


def test_jobs_create_duplicate_id_conflicts(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    with pytest.raises(ConflictError):
        store.create(job)


def test_jobs_get_missing_names_the_id(store: JobStore) -> None:
    with pytest.raises(NotFoundError, match="video_missing"):
        store.get("video_missing")


def test_jobs_input_reference_is_stored_as_a_path(store: JobStore) -> None:
    image = ImageInput(data=b"\x89PNG...", media_type="image/png", width=64, height=32)
    request = VideoRequest(prompt="a boat", seed=1, input_reference=image)
    job = Job(id=Job.new_id(), owner_id="usr_a", request=request)
    with pytest.raises(ValueError, match="input_reference_path"):
        store.create(job)
    stored = store.create(job, input_reference_path="jobs/x/input.png")
    assert stored.request.input_reference is None
    assert stored.request.prompt == "a boat"
    assert store.get_input_reference_path(job.id) == "jobs/x/input.png"
    reference = store.get_input_reference(job.id)
    assert reference is not None
    assert (reference.media_type, reference.width, reference.height) == ("image/png", 64, 32)


def test_jobs_list_pages_in_both_orders(store: JobStore, new_job: NewJob) -> None:
    # Two share a timestamp: insertion order must break the tie, with no skips or repeats.
    times = [1.0, 2.0, 2.0, 3.0, 4.0]
    ids = [store.create(new_job(created_at=t)).id for t in times]
    for order, expected in (("asc", ids), ("desc", ids[::-1])):
        seen: list[str] = []
        after: str | None = None
        pages = 0
        while True:
            page = store.list("usr_a", after=after, limit=2, order=order)  # type: ignore[arg-type]
            seen.extend(job.id for job in page.items)
            pages += 1
            assert page.has_more == (len(seen) < len(ids))
            if not page.has_more:
                break
            after = page.last_id
        assert seen == expected
        assert pages == 3


def test_jobs_list_exact_fit_has_no_more(store: JobStore, new_job: NewJob) -> None:
    for t in (1.0, 2.0):
        store.create(new_job(created_at=t))
    page = store.list("usr_a", limit=2)
    assert len(page.items) == 2
    assert not page.has_more
    assert store.list("usr_a", after=page.last_id, limit=2).items == []


def test_jobs_list_isolates_owners(store: JobStore, new_job: NewJob) -> None:
    mine = store.create(new_job("usr_a"))
    theirs = store.create(new_job("usr_b"))
    assert [j.id for j in store.list("usr_a").items] == [mine.id]
    assert [j.id for j in store.list("usr_b").items] == [theirs.id]
    assert {j.id for j in store.list(None).items} == {mine.id, theirs.id}
    # Another owner's id is not a valid cursor (and looks exactly like an unknown one).
    with pytest.raises(InvalidRequestError) as info:
        store.list("usr_a", after=theirs.id)
    assert info.value.param == "after"


def test_jobs_list_rejects_bad_arguments(store: JobStore) -> None:
    with pytest.raises(InvalidRequestError, match="after"):
        store.list(None, after="video_" + "0" * 32)
    with pytest.raises(InvalidRequestError, match="limit"):
        store.list(None, limit=0)
    with pytest.raises(InvalidRequestError, match="order"):
        store.list(None, order="sideways")  # type: ignore[arg-type]


def test_jobs_claim_takes_oldest_first(store: JobStore, new_job: NewJob, clock: FakeClock) -> None:
    third = store.create(new_job(created_at=3.0))
    first = store.create(new_job(created_at=1.0))
    second = store.create(new_job(created_at=2.0))
    claimed = [store.claim("w", lease_seconds=30) for _ in range(4)]
    assert [job.id if job else None for job in claimed] == [first.id, second.id, third.id, None]
    job = claimed[0]
    assert job is not None
    assert job.status is JobStatus.IN_PROGRESS
    assert (job.worker, job.attempts, job.phase) == ("w", 1, "starting")
    assert job.lease_until == clock.now + 30
    assert job.started_at == clock.now


def test_jobs_claim_skips_other_models(store: JobStore, new_job: NewJob) -> None:
    other = store.create(new_job(model="wan-2.2", created_at=1.0))
    mine = store.create(new_job(model="openreel-sketch", created_at=2.0))
    claimed = store.claim("w", lease_seconds=30, models={"openreel-sketch"})
    assert claimed is not None
    assert claimed.id == mine.id
    assert store.claim("w", lease_seconds=30, models={"openreel-sketch"}) is None
    assert store.claim("w", lease_seconds=30, models=()) is None
    assert store.get(other.id).status is JobStatus.QUEUED


def test_jobs_claim_reclaims_only_expired_leases(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    job = store.create(new_job())
    assert store.claim("w1", lease_seconds=10) is not None
    clock.advance(9)
    assert store.claim("w2", lease_seconds=10) is None
    clock.advance(2)
    reclaimed = store.claim("w2", lease_seconds=10)
    assert reclaimed is not None
    assert (reclaimed.id, reclaimed.worker, reclaimed.attempts) == (job.id, "w2", 2)
    assert reclaimed.started_at == clock.now - 11  # first start is kept
    assert not store.heartbeat(job.id, "w1", lease_seconds=10)


def test_jobs_claim_gives_up_after_max_attempts(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    job = store.create(new_job())
    for _ in range(2):
        assert store.claim("w", lease_seconds=1, max_attempts=2) is not None
        clock.advance(2)
    assert store.claim("w", lease_seconds=1, max_attempts=2) is None
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == "worker_lost"


def test_jobs_fail_exhausted_counts(store: JobStore, new_job: NewJob, clock: FakeClock) -> None:
    store.create(new_job())
    store.claim("w", lease_seconds=1)
    assert store.fail_exhausted(1) == 0  # lease still running
    clock.advance(2)
    assert store.fail_exhausted(1) == 1


def test_jobs_claim_is_exactly_once_across_threads(db: Database, new_job: NewJob) -> None:
    store = JobStore(db)
    ids = {store.create(new_job()).id for _ in range(60)}
    claimed: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        while (job := store.claim(f"t{index}", lease_seconds=600)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claimed) == sorted(ids)


def test_jobs_claim_is_exactly_once_across_processes(
    tmp_path: Path, db: Database, new_job: NewJob
) -> None:
    store = JobStore(db)
    ids = {store.create(new_job()).id for _ in range(200)}
    context = multiprocessing.get_context("spawn")
    script = str(Path(__file__).parents[1] / "support" / "claim_worker.py")
    url = db.url.render_as_string(hide_password=False)
    start = context.Barrier(5)  # four children and this test: all claim at the same moment
    outputs = [tmp_path / f"claimed-{i}.txt" for i in range(4)]
    processes = [
        context.Process(
            target=runpy.run_path,
            args=(script,),
            kwargs={
                "init_globals": {"CLAIM_ARGS": (url, f"p{i}", str(out), start)},
                "run_name": "__main__",
            },
        )
        for i, out in enumerate(outputs)
    ]
    for process in processes:
        process.start()
    start.wait(60)
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    per_process = [out.read_text().split() for out in outputs]
    claimed = [job_id for ids_of_one in per_process for job_id in ids_of_one]
    assert len(claimed) == len(ids)
    assert set(claimed) == ids
    assert all(job.attempts == 1 for job in store.list(None, limit=500).items)


def test_jobs_heartbeat_never_lowers_progress(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    job = store.create(new_job())
    store.claim("w", lease_seconds=10)
    assert store.heartbeat(job.id, "w", lease_seconds=10, progress=40, phase="rendering")
    clock.advance(5)
    assert store.heartbeat(job.id, "w", lease_seconds=10, progress=20)
    current = store.get(job.id)
    assert (current.progress, current.phase) == (40, "rendering")
    assert current.lease_until == clock.now + 10
    assert store.heartbeat(job.id, "w", lease_seconds=10, progress=250)
    assert store.get(job.id).progress == 100
    assert store.heartbeat(job.id, "w", lease_seconds=10, interpretation={"subject": "boat"})
    assert store.get(job.id).interpretation == {"subject": "boat"}


def test_jobs_heartbeat_progress_is_the_running_max(store: JobStore, new_job: NewJob) -> None:
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(min_value=-50, max_value=150), min_size=1, max_size=8))
    def check(reports: list[int]) -> None:
        job = store.create(new_job())
        claimed = store.claim("w", lease_seconds=60)
        assert claimed is not None
        assert claimed.id == job.id
        for value in reports:
            assert store.heartbeat(job.id, "w", lease_seconds=60, progress=value)
        assert store.get(job.id).progress == max(0, min(100, max(reports)))
        store.fail(job.id, "w", JobError(code="done", message="test over"))

    check()


def test_jobs_heartbeat_refuses_wrong_worker(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    assert not store.heartbeat(job.id, "w", lease_seconds=10)  # queued: nobody holds it
    store.claim("w", lease_seconds=10)
    assert not store.heartbeat(job.id, "intruder", lease_seconds=10, progress=90)
    assert store.get(job.id).progress == 0
    assert not store.heartbeat("video_missing", "w", lease_seconds=10)


def test_jobs_complete_requires_the_owning_worker(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    job = store.create(new_job())
    done = {"artifacts": {"video": "jobs/x/video.mp4"}, "interpretation": {"a": 1}}
    with pytest.raises(ConflictError, match="queued"):
        store.complete(job.id, "w", **done, total_seconds=1.0, expires_at=None)  # type: ignore[arg-type]
    store.claim("w", lease_seconds=10)
    with pytest.raises(ConflictError, match="no longer holds"):
        store.complete(job.id, "other", **done, total_seconds=1.0, expires_at=None)  # type: ignore[arg-type]
    clock.advance(3)
    completed = store.complete(job.id, "w", **done, total_seconds=1.0, expires_at=99.0)  # type: ignore[arg-type]
    assert completed.status is JobStatus.COMPLETED
    assert (completed.progress, completed.phase, completed.lease_until) == (100, "done", None)
    assert completed.completed_at == clock.now
    assert completed.artifacts == {"video": "jobs/x/video.mp4"}
    assert (completed.total_seconds, completed.expires_at) == (1.0, 99.0)
    with pytest.raises(ConflictError, match="completed"):
        store.complete(job.id, "w", **done, total_seconds=1.0, expires_at=None)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.complete("video_missing", "w", **done, total_seconds=1.0, expires_at=None)  # type: ignore[arg-type]


def test_jobs_fail_by_worker_and_by_admin(store: JobStore, new_job: NewJob) -> None:
    error = JobError(code="backend_error", message="the backend failed")
    running = store.create(new_job())
    store.claim("w", lease_seconds=10)
    with pytest.raises(ConflictError):
        store.fail(running.id, "other", error)
    failed = store.fail(running.id, "w", error)
    assert (failed.status, failed.error, failed.lease_until) == (JobStatus.FAILED, error, None)
    queued = store.create(new_job())
    assert store.fail(queued.id, None, error).status is JobStatus.FAILED
    with pytest.raises(ConflictError, match="failed"):
        store.fail(queued.id, None, error)


def test_jobs_request_cancel_queued_fails_at_once(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    cancelled = store.request_cancel(job.id)
    assert cancelled.status is JobStatus.FAILED
    assert cancelled.error == CANCELLED_BEFORE_START
    assert cancelled.error.type == "invalid_request_error"
    assert store.claim("w", lease_seconds=10) is None


def test_jobs_request_cancel_in_progress_sets_the_flag(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    store.claim("w", lease_seconds=10)
    assert not store.is_cancel_requested(job.id)
    flagged = store.request_cancel(job.id)
    assert flagged.status is JobStatus.IN_PROGRESS
    assert flagged.cancel_requested
    assert store.is_cancel_requested(job.id)
    assert store.heartbeat(job.id, "w", lease_seconds=10)  # the worker still owns it


def test_jobs_request_cancel_final_conflicts(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    store.request_cancel(job.id)
    with pytest.raises(ConflictError, match="already failed"):
        store.request_cancel(job.id)
    with pytest.raises(NotFoundError):
        store.request_cancel("video_missing")


def test_jobs_cancelled_job_of_a_dead_worker_is_closed(
    store: JobStore, new_job: NewJob, clock: FakeClock
) -> None:
    job = store.create(new_job())
    store.claim("w", lease_seconds=10)
    store.request_cancel(job.id)
    clock.advance(11)
    assert store.claim("w2", lease_seconds=10) is None
    closed = store.get(job.id)
    assert closed.status is JobStatus.FAILED
    assert closed.error is not None
    assert closed.error.code == "cancelled"


def test_jobs_cancel_queued_in_bulk(store: JobStore, new_job: NewJob) -> None:
    store.create(new_job("usr_a"))
    store.create(new_job("usr_b"))
    store.create(new_job("usr_b", model="other"))
    assert store.cancel_queued(owner_id="usr_b", model="openreel-sketch") == 1
    assert store.count_active("usr_b") == 1
    assert store.cancel_queued() == 2
    assert store.count_active("usr_a") == 0


def test_jobs_delete_removes_the_row(store: JobStore, new_job: NewJob) -> None:
    job = store.create(new_job())
    store.claim("w", lease_seconds=10)
    store.delete(job.id)
    with pytest.raises(NotFoundError):
        store.get(job.id)
    with pytest.raises(NotFoundError):
        store.delete(job.id)
    assert store.is_cancel_requested(job.id)  # a running worker should stop
    assert not store.heartbeat(job.id, "w", lease_seconds=10)


def test_jobs_recover_interrupted_requeues_and_keeps_progress(
    store: JobStore, new_job: NewJob
) -> None:
    job = store.create(new_job(created_at=1.0))
    doomed = store.create(new_job(created_at=2.0))
    untouched = store.create(new_job(created_at=3.0))
    store.claim("w", lease_seconds=600)
    store.claim("w2", lease_seconds=600)
    store.heartbeat(job.id, "w", lease_seconds=600, progress=30)
    store.request_cancel(doomed.id)
    assert store.recover_interrupted() == 1
    requeued = store.get(job.id)
    assert requeued.status is JobStatus.QUEUED
    assert (requeued.progress, requeued.phase, requeued.attempts) == (30, "requeued", 1)
    assert (requeued.worker, requeued.lease_until) == (None, None)
    assert store.get(doomed.id).status is JobStatus.FAILED
    assert store.get(untouched.id).status is JobStatus.QUEUED
    again = store.claim("w3", lease_seconds=600)
    assert again is not None
    assert (again.id, again.attempts, again.progress) == (job.id, 2, 30)


def test_jobs_every_committed_change_to_a_job_is_announced(
    db: Database, clock: FakeClock, new_job: NewJob
) -> None:
    heard: list[str] = []
    store = JobStore(db, clock=clock, on_change=heard.append)
    first, second = store.create(new_job()), store.create(new_job())
    assert heard == []  # a new job has no followers yet
    claimed = store.claim("w1", lease_seconds=30)
    assert claimed is not None
    assert claimed.id == first.id
    assert store.heartbeat(first.id, "w1", lease_seconds=30, progress=10)
    assert not store.heartbeat(first.id, "someone-else", lease_seconds=30, progress=20)
    store.complete(
        first.id, "w1", artifacts={}, interpretation={}, total_seconds=1.0, expires_at=None
    )
    with pytest.raises(ConflictError):
        store.fail(first.id, "w1", JobError("x", "y"))  # refused: no change, no announcement
    store.request_cancel(second.id)
    store.delete(second.id)
    assert heard == [first.id, first.id, first.id, second.id, second.id]


def test_jobs_hot_path_statements_are_built_once_per_store(db: Database, clock: FakeClock) -> None:
    # Polls, admissions, early starts and completions reuse one statement each: building one
    # costs about as much as running it (benchmarks/api.py). Two stores never share one.
    first, second = JobStore(db, clock), JobStore(db, clock)
    for name in ("_by_id_statement", "_insert_statement", "_take_statement", "_complete_statement"):
        assert getattr(first, name) is getattr(first, name), name
        assert getattr(first, name) is not getattr(second, name), name
    assert first._probe(True, False) is first._probe(True, False)
