"""Early start: an idle worker begins a job before its row exists, and writes nothing until
the service confirms the row; a withdrawn job leaves no trace."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.support.waiting import wait_for

from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import BackendError, CancelledError, NotFoundError
from openreel.queue.embedded import EmbeddedQueue, QueueGroup
from openreel.queue.lease import Lease, LeaseLostError
from openreel.queue.reservation import Reservation
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.pauses import PauseStore

MODEL = "openreel-sketch"


def _job(prompt: str = "a boat", model: str = MODEL) -> Job:
    request = VideoRequest(prompt=prompt, seed=1, seconds=1.0, model=model)
    return Job(id=Job.new_id(), owner_id="usr_a", request=request)


class GatedRunner:
    """Reports progress 40 at once, then waits for ``go`` (checking for a cancel), then
    completes through the lease. Records what it saw."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.go = threading.Event()
        self.outcomes: dict[str, str] = {}
        self.early: dict[str, bool] = {}

    def __call__(self, job: Job, lease: Lease) -> None:
        self.early[job.id] = lease.early_start
        if "flaky" in job.request.prompt and lease.early_start:
            self.outcomes[job.id] = "failed early"
            raise BackendError("the first try fails")
        lease.heartbeat(progress=40, phase="rendering")
        self.started.set()
        try:
            while not self.go.wait(0.005):
                if lease.cancelled():
                    self.outcomes[job.id] = "cancelled"
                    raise CancelledError("stopped")
            lease.complete(
                artifacts={"video": f"jobs/{job.id}/video.mp4"},
                interpretation={},
                total_seconds=job.request.seconds,
                expires_at=None,
            )
        except LeaseLostError:
            self.outcomes[job.id] = "lost"
            raise
        except CancelledError:
            self.outcomes.setdefault(job.id, "withdrawn")
            raise
        self.outcomes[job.id] = "completed"


def _started(store: JobStore, runner: GatedRunner, **kwargs: object) -> EmbeddedQueue:
    queue = EmbeddedQueue(
        store,
        workers=1,
        # Long: the one idle worker must stay asleep (reservable), not wake to look around.
        poll_interval=5.0,
        worker_prefix="test",
        early_start=[MODEL],
        **kwargs,  # type: ignore[arg-type]
    )
    queue.start(runner)
    wait_for(lambda: _idle(queue))
    return queue


def _reserve(queue: EmbeddedQueue, job: Job) -> Reservation:
    """Hands ``job`` to the queue's sleeping worker; there must be one."""
    reservation = queue.reserve(job)
    assert isinstance(reservation, Reservation)
    return reservation


def _idle(queue: EmbeddedQueue) -> bool:
    """Whether a worker is asleep (so a reservation can be made); reserves nothing."""
    return queue.stats().busy == 0 and bool(queue._idle)


def test_a_confirmed_early_start_renders_before_its_row_and_completes_once(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    queues.append(queue := _started(store, runner))
    job = _job()
    reservation = _reserve(queue, job)
    assert runner.started.wait(5), "the worker did not start before the row existed"
    with pytest.raises(NotFoundError):
        store.get(job.id)  # rendering, and nothing written anywhere yet
    before_row = time.time()
    store.create(job)
    # Confirming takes the row for the worker, with what it reported meanwhile and the time
    # the work began: whoever asks next sees it running.
    taken = reservation.confirm()
    assert taken is not None
    assert (taken.status, taken.progress, taken.phase) == (
        JobStatus.IN_PROGRESS,
        40,
        "rendering",
    )
    assert (taken.worker, taken.attempts) == (reservation.worker, 1)
    assert taken.started_at is not None
    assert taken.started_at < before_row  # when the render began, before the row existed
    assert store.get(job.id) == taken
    runner.go.set()
    wait_for(lambda: store.get(job.id).status.is_final)
    done = store.get(job.id)
    assert (done.status, done.progress, done.attempts) == (JobStatus.COMPLETED, 100, 1)
    assert runner.outcomes == {job.id: "completed"}
    assert runner.early == {job.id: True}


def test_a_reservation_says_when_its_worker_has_begun(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    """The service waits on this before it moderates (services.videos.HANDOFF_WAIT_S): it
    answers False until the worker's first report, True from then on."""
    runner = GatedRunner()
    gate = threading.Event()
    holding = threading.Event()

    def held(job: Job, lease: Lease) -> None:
        holding.set()
        gate.wait(10)  # the worker is awake but has not reported yet
        runner(job, lease)

    queues.append(queue := _started(store, held))  # type: ignore[arg-type]
    job = _job()
    reservation = _reserve(queue, job)
    assert holding.wait(5)
    assert reservation.wait_started(0.05) is False
    gate.set()
    assert reservation.wait_started(5) is True  # its heartbeat of progress 40
    assert runner.started.is_set()
    reservation.withdraw()


def test_a_withdrawn_early_start_stops_and_writes_nothing(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    queues.append(queue := _started(store, runner))
    job = _job()
    reservation = _reserve(queue, job)
    assert runner.started.wait(5)
    reservation.withdraw()  # returns once the worker has let go
    assert runner.outcomes[job.id] == "cancelled"
    with pytest.raises(NotFoundError):
        store.get(job.id)
    reservation.confirm()  # too late: a withdrawn reservation stays withdrawn
    assert reservation.withdrawn
    assert not reservation.confirmed
    # The worker is free again and claims ordinary jobs from the table.
    wait_for(lambda: _idle(queue))
    later = store.create(_job("a later boat"))
    queue.notify()
    runner.go.set()
    wait_for(lambda: store.get(later.id).status.is_final)
    assert store.get(later.id).status is JobStatus.COMPLETED
    assert runner.early[later.id] is False


def test_a_job_withdrawn_after_its_render_finished_is_not_completed(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    runner.go.set()  # the render finishes at once and waits in lease.complete
    queues.append(queue := _started(store, runner))
    job = _job()
    reservation = _reserve(queue, job)
    time.sleep(0.1)
    assert job.id not in runner.outcomes  # still waiting for the decision
    reservation.withdraw()
    assert runner.outcomes[job.id] == "withdrawn"
    with pytest.raises(NotFoundError):
        store.get(job.id)


def test_a_row_cancelled_before_the_worker_took_it_is_left_alone(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    queues.append(queue := _started(store, runner))
    job = _job()
    reservation = _reserve(queue, job)
    assert runner.started.wait(5)
    store.create(job)
    store.request_cancel(job.id)  # cancelled before the reservation could take it
    assert reservation.confirm() is None
    wait_for(lambda: job.id in runner.outcomes)
    assert runner.outcomes[job.id] == "lost"
    cancelled = store.get(job.id)
    assert cancelled.status is JobStatus.FAILED
    assert cancelled.error is not None
    assert cancelled.error.code == "cancelled"
    assert cancelled.worker is None
    assert cancelled.attempts == 0


def test_a_paused_model_is_not_taken_by_an_early_start(
    tmp_path: Path, store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    queues.append(queue := _started(store, runner))
    job = _job()
    reservation = _reserve(queue, job)
    assert runner.started.wait(5)
    store.create(job)
    pauses = PauseStore(Database.for_data_dir(tmp_path))
    pauses.pause("model", MODEL, "incident")
    assert reservation.confirm() is None
    wait_for(lambda: job.id in runner.outcomes)
    assert runner.outcomes[job.id] == "lost"
    assert store.get(job.id).status is JobStatus.QUEUED  # waits for the pause to lift


def test_an_early_start_that_never_hears_back_gives_up_after_its_lease(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    runner.go.set()
    queues.append(queue := _started(store, runner, lease_seconds=0.3))
    job = _job()
    reservation = _reserve(queue, job)
    started = time.monotonic()
    wait_for(lambda: job.id in runner.outcomes)
    assert runner.outcomes[job.id] == "lost"
    assert 0.25 < time.monotonic() - started < 3
    # The decision comes after the worker gave up: nothing is taken for a worker that left,
    # and the job is queued as usual and made once.
    wait_for(lambda: _idle(queue))
    store.create(job)
    assert reservation.confirm() is None
    assert store.get(job.id).status is JobStatus.QUEUED
    queue.enqueued(job)
    wait_for(lambda: store.get(job.id).status.is_final)
    done = store.get(job.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 1)


def test_an_early_start_that_fails_before_the_decision_leaves_the_job_to_a_claim(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    runner.go.set()
    queues.append(queue := _started(store, runner))
    job = _job("a flaky boat")
    reservation = _reserve(queue, job)
    wait_for(lambda: reservation.withdrawn)  # the worker failed, released and left
    assert runner.outcomes[job.id] == "failed early"
    store.create(job)
    assert reservation.confirm() is None  # not taken for a worker that is gone
    queue.enqueued(job)
    wait_for(lambda: store.get(job.id).status.is_final)
    done = store.get(job.id)
    assert (done.status, done.attempts, done.error) == (JobStatus.COMPLETED, 1, None)
    assert runner.early[job.id] is False  # the second run was an ordinary claim


def test_reserve_only_hands_over_eligible_jobs_to_idle_workers(
    store: JobStore, queues: list[EmbeddedQueue]
) -> None:
    runner = GatedRunner()
    not_started = EmbeddedQueue(store, workers=1, early_start=[MODEL])
    assert not_started.reserve(_job()) is None  # no worker asleep
    queues.append(queue := _started(store, runner))
    assert queue.reserve(_job(model="openreel-other")) is None  # not an early-start model
    first = queue.reserve(_job())
    assert first is not None
    assert runner.started.wait(5)
    assert queue.reserve(_job()) is None  # the only worker is busy
    first.withdraw()
    wait_for(lambda: _idle(queue))
    # A queue serving other models never reserves, whatever its early-start list says.
    others = EmbeddedQueue(store, workers=1, models=["openreel-other"], early_start=[MODEL])
    others.start(runner)
    queues.append(others)
    time.sleep(0.1)
    assert others.reserve(_job()) is None
    group = QueueGroup(others, queue)
    wait_for(lambda: _idle(queue))
    grouped = group.reserve(_job())
    assert grouped is not None
    assert grouped.worker.startswith("test/")
    grouped.withdraw()
    with pytest.raises(ValueError, match="early_start"):
        EmbeddedQueue(store, batched_leases=True, early_start=[MODEL])


def test_a_lease_keeps_an_early_starts_progress_until_confirmed(store: JobStore) -> None:
    job = _job()
    reservation = Reservation(job, "w1", store, lease_seconds=30)
    lease = Lease(store, job, "w1", lease_seconds=30, admission=reservation)
    lease.heartbeat(progress=10, phase="rendering")
    lease.heartbeat(progress=30)
    assert lease.cancelled() is False
    store.create(job)
    assert store.get(job.id).progress == 0
    taken = reservation.confirm()
    assert taken is not None
    assert (taken.status, taken.progress, taken.phase) == (JobStatus.IN_PROGRESS, 30, "rendering")
    # Progress made after the take is written by the lease's next call.
    lease.heartbeat(progress=60)
    assert store.get(job.id).progress == 60
    lease.admitted()
    lease.fail(JobError("x", "stopped on purpose", "server_error"))
    assert store.get(job.id).status is JobStatus.FAILED
    with pytest.raises(ValueError, match="LeaseKeeper"):
        Lease(
            store,
            replace(job, id=Job.new_id()),
            "w1",
            lease_seconds=30,
            kept=True,
            admission=Reservation(job, "w1", store, lease_seconds=30),
        )


def test_a_confirmed_reservation_whose_take_fails_keeps_the_row_queued(store: JobStore) -> None:
    class BrokenTake(JobStore):
        def take(self, *args: object, **kwargs: object) -> Job | None:
            raise RuntimeError("database went away")

    broken = BrokenTake(store._db)
    job = _job()
    broken.create(job)
    reservation = Reservation(job, "w1", broken, lease_seconds=30)
    assert reservation.confirm() is None  # logged, not raised: the row exists
    lease = Lease(broken, job, "w1", lease_seconds=30, admission=reservation)
    with pytest.raises(LeaseLostError):
        lease.heartbeat(progress=5)
    assert store.get(job.id).status is JobStatus.QUEUED


class _CountingStore(JobStore):
    """Counts the claims its workers try."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.claims = 0

    def claim(self, worker: str, **kwargs: Any) -> Job | None:
        self.claims += 1
        return super().claim(worker, **kwargs)


@pytest.mark.parametrize("enqueued_meanwhile", [False, True])
def test_after_a_handed_over_job_the_worker_looks_at_the_table_only_when_told(
    tmp_path: Path, queues: list[EmbeddedQueue], enqueued_meanwhile: bool
) -> None:
    """A handed-over job came from a submission, not from the table, which was empty when the
    worker last looked: afterwards it sleeps again without asking the database (the look
    would run just as the completion streams to its client), unless a job was enqueued in
    the meantime, which it claims at once."""
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = _CountingStore(db)
    try:
        runner = GatedRunner()
        queues.append(queue := _started(store, runner))
        looked = store.claims  # its first look, which found nothing
        job = _job()
        reservation = _reserve(queue, job)
        assert runner.started.wait(5)
        store.create(job)
        assert reservation.confirm() is not None
        waiting = _job("a boat that waited")
        if enqueued_meanwhile:
            store.create(waiting)
            queue.enqueued(waiting)  # every worker busy: it waits in the table
        runner.go.set()
        if enqueued_meanwhile:
            wait_for(lambda: store.get(waiting.id).status.is_final)
            assert store.get(waiting.id).status is JobStatus.COMPLETED
            assert runner.early[waiting.id] is False  # claimed from the table
        else:
            wait_for(lambda: store.get(job.id).status.is_final)
            wait_for(lambda: _idle(queue))
            time.sleep(0.1)
            assert store.claims == looked  # back asleep without a look
            _reserve(queue, _job()).withdraw()  # and reservable again
    finally:
        for started in queues:
            started.stop(5)
        queues.clear()
        db.dispose()
