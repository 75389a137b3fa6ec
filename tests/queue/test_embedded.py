"""EmbeddedQueue: worker threads claim, run and finish jobs; failures never stop a worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.waiting import wait_for

from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import BackendError
from openreel.queue.contract import JobQueue
from openreel.queue.embedded import INTERNAL_ERROR, UNFINISHED_ERROR, EmbeddedQueue
from openreel.queue.lease import Lease
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore

CANCELLED = JobError(
    code="cancelled", message="the video was cancelled", type="invalid_request_error"
)


def _enqueue(store: JobStore, prompt: str = "a boat") -> Job:
    request = VideoRequest(prompt=prompt, seed=1, seconds=1.0)
    return store.create(Job(id=Job.new_id(), owner_id="usr_a", request=request))


def _finished(store: JobStore, *jobs: Job) -> Callable[[], bool]:
    return lambda: all(store.get(job.id).status.is_final for job in jobs)


class FakeRunner:
    """Pretends to render: reports progress in steps, then completes through the lease.

    A prompt containing "explode" raises; one containing "wait" loops until cancelled.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []
        self.running = threading.Event()

    def __call__(self, job: Job, lease: Lease) -> None:
        self.calls.append((job.id, lease.worker, time.monotonic()))
        if "explode" in job.request.prompt:
            raise RuntimeError("secret internal detail")
        if "backend" in job.request.prompt:
            raise BackendError("the provider refused the request")
        if "forget" in job.request.prompt:
            return
        if "wait" in job.request.prompt:
            self.running.set()
            while not lease.cancelled():
                time.sleep(0.005)
            lease.fail(CANCELLED)
            return
        for progress in (25, 50, 75):
            lease.heartbeat(progress=progress, phase="rendering")
            assert not lease.cancelled()
        lease.complete(
            artifacts={"video": f"jobs/{job.id}/video.mp4"},
            interpretation={"prompt": job.request.prompt},
            total_seconds=job.request.seconds,
            expires_at=None,
        )


def test_embedded_runs_jobs_through_the_runner(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = FakeRunner()
    queue = EmbeddedQueue(store, workers=3, poll_interval=0.05, worker_prefix="test")
    _: JobQueue = queue  # satisfies the protocol
    jobs = [_enqueue(store, f"a boat {i}") for i in range(9)]
    queue.start(runner)
    queues.append(queue)
    queue.notify()
    wait_for(_finished(store, *jobs))
    for job in jobs:
        done = store.get(job.id)
        assert done.status is JobStatus.COMPLETED
        assert (done.progress, done.attempts) == (100, 1)
        assert done.worker is not None
        assert done.worker.startswith("test/")
    assert sorted(call[0] for call in runner.calls) == sorted(job.id for job in jobs)
    assert queue.stats().workers == 3


def test_embedded_notify_wakes_a_worker_at_once(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = FakeRunner()
    queue = EmbeddedQueue(store, workers=1, poll_interval=5, worker_prefix="test")
    queue.start(runner)
    queues.append(queue)
    time.sleep(0.2)  # the worker has found nothing and is asleep for 5 s
    job = _enqueue(store)
    enqueued = time.monotonic()
    queue.notify()
    wait_for(lambda: bool(runner.calls), timeout=4)
    assert runner.calls[0][0] == job.id
    assert runner.calls[0][2] - enqueued < 0.1


def test_an_admitted_job_is_handed_to_a_free_worker_and_taken_by_its_id(
    store: JobStore, queues: list[EmbeddedQueue], monkeypatch: pytest.MonkeyPatch
) -> None:
    """enqueued() hands the new row to a sleeping worker, which takes it with one statement:
    no claim (its sweep and search are a write transaction of several statements, each a
    turn at the interpreter lock, which a hosted job's submission used to wait behind)."""
    runner = FakeRunner()
    queue = EmbeddedQueue(store, workers=2, poll_interval=5, worker_prefix="test")
    queue.start(runner)
    queues.append(queue)
    time.sleep(0.2)  # both workers found nothing and sleep
    claims: list[float] = []
    claim = store.claim

    def counted(worker: str, **kwargs: object) -> Job | None:
        claims.append(time.monotonic())
        return claim(worker, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "claim", counted)
    job = _enqueue(store)
    enqueued = time.monotonic()
    queue.enqueued(job)
    wait_for(_finished(store, job))
    assert runner.calls[0][0] == job.id
    assert runner.calls[0][2] - enqueued < 0.1  # at once, even with a 5 s poll interval
    assert store.get(job.id).attempts == 1
    # No claim before the job ran: claims come after, when the worker looks for more.
    assert [at for at in claims if at < runner.calls[0][2]] == []
    assert len(runner.calls) == 1


def test_a_handed_job_already_gone_is_skipped_for_an_ordinary_claim(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = FakeRunner()
    queue = EmbeddedQueue(store, workers=1, poll_interval=5, worker_prefix="test")
    gone, queued = _enqueue(store, "a boat gone"), _enqueue(store, "a boat queued")
    store.request_cancel(gone.id)  # cancelled before any worker took it
    queue.enqueued(gone)  # handed before the worker starts: it finds it at its first look
    queue.start(runner)
    queues.append(queue)
    wait_for(_finished(store, queued))
    assert [call[0] for call in runner.calls] == [queued.id]


def test_a_queue_is_not_woken_for_a_model_it_does_not_serve(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = FakeRunner()
    queue = EmbeddedQueue(
        store, workers=1, poll_interval=5, worker_prefix="test", models=["hosted/model"]
    )
    queue.start(runner)
    queues.append(queue)
    time.sleep(0.2)
    queue.enqueued(_enqueue(store))  # the sketch model: not this queue's
    time.sleep(0.3)
    assert runner.calls == []
    with queue._cond:
        assert not queue._handed


def test_embedded_runner_exception_fails_job_and_worker_continues(
    store: JobStore, queues: list[EmbeddedQueue], caplog: pytest.LogCaptureFixture
) -> None:
    runner = FakeRunner()
    exploding = _enqueue(store, "explode please")
    refused = _enqueue(store, "backend says no")
    forgotten = _enqueue(store, "forget to finish")
    fine = _enqueue(store, "a calm boat")
    queue = EmbeddedQueue(store, workers=1, poll_interval=0.05, worker_prefix="test")
    with caplog.at_level(logging.INFO, logger="openreel.queue.embedded"):
        queue.start(runner)
        queues.append(queue)
        wait_for(_finished(store, exploding, refused, forgotten, fine))
    failed = store.get(exploding.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == INTERNAL_ERROR
    assert "secret" not in failed.error.message
    assert "secret internal detail" in caplog.text  # the traceback goes to the log
    refusal = store.get(refused.id).error
    assert refusal is not None
    assert (refusal.code, refusal.message) == ("backend_error", "the provider refused the request")
    assert store.get(forgotten.id).error == UNFINISHED_ERROR
    assert store.get(fine.id).status is JobStatus.COMPLETED


def test_embedded_runner_sees_a_cancel_request(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = FakeRunner()
    job = _enqueue(store, "wait for it")
    queue = EmbeddedQueue(store, workers=1, poll_interval=0.05, worker_prefix="test")
    queue.start(runner)
    queues.append(queue)
    assert runner.running.wait(5)
    assert queue.stats().busy == 1
    store.request_cancel(job.id)
    wait_for(_finished(store, job), timeout=2)
    cancelled = store.get(job.id)
    assert cancelled.status is JobStatus.FAILED
    assert cancelled.error == CANCELLED
    wait_for(lambda: queue.stats().busy == 0, timeout=2)


def test_embedded_only_claims_its_models(store: JobStore, queues: list[EmbeddedQueue]) -> None:
    runner = FakeRunner()
    other = store.create(
        Job(
            id=Job.new_id(),
            owner_id="usr_a",
            request=VideoRequest(prompt="a boat", seed=1, model="wan-2.2"),
        )
    )
    mine = _enqueue(store)
    queue = EmbeddedQueue(
        store, workers=1, poll_interval=0.05, models={"openreel-sketch"}, worker_prefix="test"
    )
    queue.start(runner)
    queues.append(queue)
    wait_for(_finished(store, mine))
    time.sleep(0.1)
    assert store.get(other.id).status is JobStatus.QUEUED


def test_embedded_stop_is_prompt_and_restartable(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    queue = EmbeddedQueue(store, workers=2, poll_interval=5, worker_prefix="test")
    runner = FakeRunner()
    queue.start(runner)
    queues.append(queue)
    started = time.monotonic()
    queue.stop(5)
    assert time.monotonic() - started < 1
    assert queue.stats().workers == 0
    queue.start(runner)
    job = _enqueue(store)
    queue.notify()
    wait_for(_finished(store, job))


class CountingClaims(JobStore):
    """The real store, counting claims (each a database round trip)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.claims = 0

    def claim(self, *args: object, **kwargs: object) -> Job | None:
        self.claims += 1
        return super().claim(*args, **kwargs)  # type: ignore[arg-type]


def test_idle_pool_asks_the_store_once_per_interval_not_once_per_worker(
    tmp_path: Path, queues: list[EmbeddedQueue]
) -> None:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = CountingClaims(db)
    queue = EmbeddedQueue(store, workers=40, poll_interval=0.1)
    queues.append(queue)
    queue.start(FakeRunner())
    time.sleep(0.3)  # every worker's first look
    first = store.claims
    time.sleep(1.0)  # about ten intervals
    idle = store.claims - first
    assert first >= 40
    assert 5 <= idle <= 25, idle  # one watcher, not forty
    # A job enqueued behind the queue's back (no notify, as from another process) is still
    # found by the watcher, and a burst of them wakes enough workers to run them together.
    jobs = [_enqueue(store, f"wait {i}") for i in range(5)]
    wait_for(lambda: queue.stats().busy == 5, timeout=5)
    for job in jobs:
        store.request_cancel(job.id)
    wait_for(lambda: queue.stats().busy == 0, timeout=5)
    db.dispose()


def test_batched_leases_run_jobs_and_see_cancels(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    queue = EmbeddedQueue(store, workers=3, lease_seconds=4, batched_leases=True)
    queues.append(queue)
    runner = FakeRunner()
    queue.start(runner)
    done, waiting = _enqueue(store, "a boat"), _enqueue(store, "wait for me")
    queue.notify()
    queue.notify()
    wait_for(_finished(store, done))
    assert store.get(done.id).status is JobStatus.COMPLETED
    assert runner.running.wait(5)
    time.sleep(1.5)  # past a third of the lease: the keeper must have renewed it
    assert store.get(waiting.id).lease_until is not None
    assert store.get(waiting.id).lease_until > time.time() + 2  # type: ignore[operator]
    store.request_cancel(waiting.id)
    wait_for(_finished(store, waiting), timeout=5)
    assert store.get(waiting.id).status is JobStatus.FAILED
