"""What every job queue shares: the protocols, the lease a runner works under, its error.

Imports: storage, domain, errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from openreel.domain import Job, JobError, JobStatus
from openreel.errors import CancelledError, ConflictError, NotFoundError, OpenReelError
from openreel.storage.jobs import Beat, JobStore, LeaseState

if TYPE_CHECKING:
    from openreel.queue.keeper import LeaseKeeper

__all__ = [
    "CANCEL_CHECK_INTERVAL",
    "INTERNAL_ERROR",
    "UNFINISHED_ERROR",
    "JobQueue",
    "JobRunner",
    "Lease",
    "LeaseLostError",
    "QueueStats",
    "Reservation",
    "run_claimed",
]

CANCEL_CHECK_INTERVAL = 0.1
"""Seconds during which :meth:`Lease.cancelled` answers from its cache instead of the store."""

INTERNAL_ERROR = JobError(
    code="internal_error",
    message="the worker failed unexpectedly; see the server log",
    type="server_error",
)
"""How a job fails when its runner raised something unexpected (details go to the log only)."""

UNFINISHED_ERROR = JobError(
    code="internal_error",
    message="the worker stopped without finishing the video; see the server log",
    type="server_error",
)
"""How a job fails when its runner returned without completing or failing it."""

_log = logging.getLogger(__name__)


class LeaseLostError(ConflictError):
    """The worker no longer holds its job: it was reclaimed, failed by an admin, or deleted.

    The runner must stop at once and write nothing: the job is someone else's now.
    """

    default_code = "lease_lost"


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of a queue's workers.

    Attributes:
        workers: Worker threads alive.
        busy: Workers running a job right now.
    """

    workers: int
    busy: int


class Reservation:
    """An idle worker set aside for a job whose row is still being written (early start).

    The slowest step of a submission is moderation's semantic check (about 12 ms on a CPU
    core); for a small sketch video that is a tenth of the render. So the service may hand an
    idle local worker the job before the check ends: the worker renders into the job's folder
    and writes nothing else, while the service decides. The service then confirms
    (:meth:`confirm`: the row is committed; the reservation takes it for the worker with
    ``JobStore.take``, recording when the render began and how far it got, and the worker
    carries on) or withdraws (:meth:`withdraw`: refused, over quota, any error: no row
    exists, and the worker drops the render at its next frame and deletes its files before
    the withdrawal returns). Until the row is taken the lease writes nothing and the job is in
    no store, no bucket and no registry. A worker that gives up first (its render failed, or
    no decision came within its lease) abandons the reservation: the confirmation then takes
    nothing and the service queues the job as usual.

    Thread-safe: the service settles it from a request thread, the worker reports to it.

    Args:
        job: The job as the service built it.
        worker: The worker set aside.
        store: Where the row will be.
        lease_seconds: The worker's lease length.
    """

    def __init__(self, job: Job, worker: str, store: JobStore, *, lease_seconds: float) -> None:
        self._job = job
        self._worker = worker
        self._store = store
        self._lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._settled = threading.Event()
        self._confirmed = False
        self._released = threading.Event()
        self._started = threading.Event()  # the worker's first report came
        self._began = store.now()  # handed over now: the row will say the work began then
        self._progress = 0
        self._phase: str | None = None
        self._taken: Job | None = None

    @property
    def job(self) -> Job:
        """The job as the service built it (its request still holds any reference image)."""
        return self._job

    @property
    def worker(self) -> str:
        """The worker set aside."""
        return self._worker

    @property
    def confirmed(self) -> bool:
        """Whether the row was committed (and taken for the worker, see :attr:`taken`)."""
        return self._confirmed

    @property
    def withdrawn(self) -> bool:
        """Whether the job will never exist: the worker must drop what it made."""
        return self._settled.is_set() and not self._confirmed

    @property
    def taken(self) -> Job | None:
        """The row as taken for the worker at confirmation; None before, or when it could
        not be taken (cancelled at once, a pause matched, the database refused)."""
        return self._taken

    def note(self, progress: int | None, phase: str | None) -> None:
        """The worker's progress while the row does not exist yet (taken along with it)."""
        with self._lock:
            if progress is not None:
                self._progress = max(self._progress, min(100, int(progress)))
            if phase is not None:
                self._phase = phase
        self._started.set()

    def wait_started(self, timeout: float) -> bool:
        """Waits until the worker has begun (its first report), at most ``timeout`` seconds.

        The service calls this before moderating: see ``services.jobs.HANDOFF_WAIT_S``.
        Returns whether it had begun.
        """
        return self._started.wait(timeout)

    def confirm(self) -> Job | None:
        """The job's row is committed (``queued``): takes it for the worker, with the time
        the render began and its progress so far, so whoever asks next sees it running.

        Returns:
            The row as taken, or None when it could not be or the worker had already given
            up (the worker drops its render and the row waits, queued, for an ordinary
            claim: the caller announces it as usual).
        """
        with self._lock:
            if self._settled.is_set():  # the worker abandoned it
                return None
            try:
                self._taken = self._store.take(
                    self._job.id,
                    self._worker,
                    lease_seconds=self._lease_seconds,
                    started_at=self._began,
                    progress=self._progress,
                    phase=self._phase or "starting",
                )
            except Exception:  # the row is committed: it must not be lost with this error
                _log.exception("video %s: could not be taken for its early start", self._job.id)
            self._confirmed = True
            self._settled.set()
            return self._taken

    def withdraw(self, timeout: float = 10.0) -> None:
        """The job will not be written: the worker stops and deletes its files. Once
        confirmed, a reservation stays confirmed.

        Waits (up to ``timeout`` seconds) until the worker has let go, so that when the
        caller answers the refusal no file of the job is left (a sketch frame takes
        milliseconds).
        """
        with self._lock:
            self._settled.set()
            if self._confirmed:
                return
        if not self._released.wait(timeout):
            _log.warning("video %s: its worker did not let go within %.0f s", self._job.id, timeout)

    def release(self) -> None:
        """The worker is done with the job, whatever became of it (:func:`run_claimed`
        calls this).

        Before a decision this abandons the reservation: a later :meth:`confirm` takes
        nothing, so the row is never left ``in_progress`` under a worker that has gone.
        """
        with self._lock:
            self._settled.set()
        self._released.set()

    def wait(self, timeout: float) -> bool:
        """Waits for :meth:`confirm` or :meth:`withdraw`; False when neither came in time."""
        return self._settled.wait(timeout)


class Lease:
    """A worker's hold on one claimed job, handed to the runner.

    The runner reports progress through :meth:`heartbeat` and polls :meth:`cancelled`
    between steps. Both renew the lease in the store when a third of its length has passed
    since the last renewal, so a runner that calls either regularly never loses its job to
    another worker. Both are cheap enough to call on every frame: a heartbeat writes only
    when progress rises, the phase changes or the lease is due, and the cancel flag is read
    at most once per :data:`CANCEL_CHECK_INTERVAL`.

    Thread-safe, so a runner may report from a helper thread.

    Args:
        store: The job store.
        job: The claimed job (as returned by ``JobStore.claim``).
        worker: The worker that claimed it.
        lease_seconds: Lease length used for every renewal.
        monotonic: Clock for the throttles (tests pass a fake one).
        cancel_check_interval: Seconds a cancel-flag answer is reused.
        kept: Whether a :class:`~openreel.queue.keeper.LeaseKeeper` does this lease's
            writes and reads in batches with every other lease of its pool; then
            :meth:`heartbeat` and :meth:`cancelled` only touch memory.
        admission: For an early start, the reservation the job came with: until the
            service confirms it the lease reports progress to the reservation (taken along
            with the row) and :meth:`cancelled` answers False (True once withdrawn); once
            confirmed, the first call writes what the take did not carry. Not combined
            with ``kept``.
    """

    def __init__(
        self,
        store: JobStore,
        job: Job,
        worker: str,
        *,
        lease_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        cancel_check_interval: float = CANCEL_CHECK_INTERVAL,
        kept: bool = False,
        admission: Reservation | None = None,
    ) -> None:
        if kept and admission is not None:
            raise ValueError("an early-started lease is not kept by a LeaseKeeper")
        self._store = store
        self._job = job
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._monotonic = monotonic
        self._cancel_interval = cancel_check_interval
        self._lock = threading.Lock()
        now = monotonic()
        self._renewed_at = now  # the claim itself took the lease
        self._progress = job.progress
        self._phase = job.phase
        self._cancel_checked_at: float | None = None
        self._cancelled = False
        self._lost = False
        self._finished = False
        self._kept = kept
        self._touched_at = now
        self._news: tuple[int | None, str | None, Mapping[str, Any] | None] | None = None
        self._admission = admission
        self._taken = admission is None  # whether this worker holds the row

    @property
    def job(self) -> Job:
        """The job as it was claimed."""
        return self._job

    @property
    def job_id(self) -> str:
        """The claimed job's id."""
        return self._job.id

    @property
    def worker(self) -> str:
        """The id of the worker holding the lease."""
        return self._worker

    @property
    def early_start(self) -> bool:
        """Whether the job was handed over before its row existed (see :class:`Reservation`)."""
        return self._admission is not None

    @property
    def lease_seconds(self) -> float:
        """Length of each renewal."""
        return self._lease_seconds

    @property
    def finished(self) -> bool:
        """Whether :meth:`complete` or :meth:`fail` succeeded through this lease."""
        return self._finished

    def heartbeat(
        self,
        progress: int | None = None,
        phase: str | None = None,
        *,
        interpretation: Mapping[str, Any] | None = None,
    ) -> None:
        """Reports progress and keeps the lease alive.

        Args:
            progress: Percent done (0-100); lower values than already reported are ignored.
            phase: What the worker is doing now (``rendering``, ``encoding``...).
            interpretation: What the backend understood, to show while it works.

        Raises:
            LeaseLostError: The store says this worker no longer holds the job.
        """
        with self._lock:
            self._check_not_lost()
            if self._kept or not self._holds_row():
                self._touched_at = self._monotonic()
                self._note(progress, phase, interpretation)
                if self._admission is not None:
                    self._admission.note(progress, phase)
                return
            changed = interpretation is not None
            if progress is not None and max(0, min(100, int(progress))) > self._progress:
                changed = True
            if phase is not None and phase != self._phase:
                changed = True
            if changed or self._renewal_due():
                self._renew(progress, phase, interpretation)

    def cancelled(self) -> bool:
        """Whether someone asked to stop this job (the store is read at most every 100 ms).

        Also renews the lease when due, so a long step that only polls this stays owned.

        Raises:
            LeaseLostError: The store says this worker no longer holds the job.
        """
        with self._lock:
            self._check_not_lost()
            if self._kept:
                self._touched_at = self._monotonic()
                return self._cancelled
            if self._admission is not None and self._admission.withdrawn:
                return True
            if not self._holds_row():
                return False
            if self._renewal_due():
                self._renew(None, None, None)
            now = self._monotonic()
            if self._cancelled:
                return True
            if self._cancel_checked_at is None or now - self._cancel_checked_at >= (
                self._cancel_interval
            ):
                self._cancelled = self._store.is_cancel_requested(self._job.id)
                self._cancel_checked_at = now
            return self._cancelled

    def complete(
        self,
        *,
        artifacts: Mapping[str, str],
        interpretation: Mapping[str, Any],
        total_seconds: float,
        expires_at: float | None,
    ) -> Job:
        """Completes the job through the store (see ``JobStore.complete``).

        Raises:
            LeaseLostError: This worker no longer holds the job.
            CancelledError: An early-started job was withdrawn.
        """
        self.admitted()
        with self._lock:
            self._check_not_lost()
            try:
                job = self._store.complete(
                    self._job.id,
                    self._worker,
                    artifacts=artifacts,
                    interpretation=interpretation,
                    total_seconds=total_seconds,
                    expires_at=expires_at,
                )
            except ConflictError as exc:
                self._lost = True
                raise LeaseLostError(exc.message) from exc
            self._finished = True
            return job

    def fail(self, error: JobError) -> Job:
        """Fails the job through the store (see ``JobStore.fail``).

        Raises:
            LeaseLostError: This worker no longer holds the job.
            CancelledError: An early-started job was withdrawn.
        """
        self.admitted()
        with self._lock:
            self._check_not_lost()
            try:
                job = self._store.fail(self._job.id, self._worker, error)
            except ConflictError as exc:
                self._lost = True
                raise LeaseLostError(exc.message) from exc
            self._finished = True
            return job

    def admitted(self, timeout: float | None = None) -> None:
        """Returns once this worker holds the job's row: at once for a claimed job; an
        early-started one waits for the service's decision and takes the row.

        A runner calls it before anything leaves its temporary files (the finished video,
        the content registry, the bucket).

        Args:
            timeout: Longest wait for the decision; the lease's length by default.

        Raises:
            CancelledError: The job was withdrawn; no row exists. Delete what was made.
            LeaseLostError: No decision came in time, or the row was no longer queued when
                confirmed (cancelled or taken by another worker). Write nothing.
        """
        admission = self._admission
        if admission is None:
            return
        if not admission.wait(self._lease_seconds if timeout is None else timeout):
            with self._lock:
                self._lost = True
            raise LeaseLostError(f"video {self._job.id} was never admitted; dropping its render")
        if admission.withdrawn:
            raise CancelledError(f"video {self._job.id} was not admitted")
        with self._lock:
            self._check_not_lost()
            self._holds_row()

    def _holds_row(self) -> bool:
        """Whether the row is this worker's (lock held); once an early start is confirmed,
        writes what the reservation's take did not carry.

        Raises:
            LeaseLostError: The row could not be taken (it was no longer queued).
        """
        if self._taken:
            return True
        admission = self._admission
        if admission is None or not admission.confirmed:
            return False
        taken = admission.taken
        if taken is None:
            self._lost = True
            raise LeaseLostError(
                f"video {self._job.id} was cancelled or paused before worker {self._worker} "
                "could take it; stop without writing"
            )
        self._taken = True
        self._renewed_at = self._monotonic()
        self._progress, self._phase = taken.progress, taken.phase
        progress, phase, interpretation = self._news or (None, None, None)
        self._news = None
        newer = progress is not None and progress > self._progress
        if newer or (phase is not None and phase != self._phase) or interpretation is not None:
            self._renew(progress if newer else None, phase, interpretation)
        return True

    # ----- batched mode: the keeper's side ---------------------------------------------------

    def _note(
        self, progress: int | None, phase: str | None, interpretation: Mapping[str, Any] | None
    ) -> None:
        """Keeps news for the keeper's next batch (lock held)."""
        old_progress, old_phase, old_interpretation = self._news or (None, None, None)
        if progress is not None:
            value = max(0, min(100, int(progress)))
            if value > self._progress and (old_progress is None or value > old_progress):
                old_progress = value
        if phase is not None and phase != self._phase:
            old_phase = phase
        if interpretation is not None:
            old_interpretation = interpretation
        if (old_progress, old_phase, old_interpretation) != (None, None, None):
            self._news = (old_progress, old_phase, old_interpretation)

    def take_beat(self) -> Beat | None:
        """The write this lease needs in the keeper's next batch, if any.

        News (progress, phase, interpretation) is always written. The lease alone is renewed
        only when due and only if the runner has called :meth:`heartbeat` or
        :meth:`cancelled` since the last renewal: a runner stuck for good stops proving it is
        alive, its lease runs out and another worker takes the job, as without a keeper.
        """
        with self._lock:
            if self._lost or self._finished:
                return None
            due = self._renewal_due() and self._touched_at > self._renewed_at
            if self._news is None and not due:
                return None
            progress, phase, interpretation = self._news or (None, None, None)
            self._news = None
            return Beat(self._job.id, self._worker, progress, phase, interpretation)

    def beat_written(self, beat: Beat, started: float) -> None:
        """Records that the keeper wrote ``beat`` in a transaction begun at ``started``."""
        with self._lock:
            self._renewed_at = max(self._renewed_at, started)
            if beat.progress is not None:
                self._progress = max(self._progress, beat.progress)
            if beat.phase is not None:
                self._phase = beat.phase

    def beat_lost(self, beat: Beat) -> None:
        """Puts back the news of a batch that failed to commit, for the next one."""
        with self._lock:
            self._note(beat.progress, beat.phase, beat.interpretation)

    def apply(self, state: LeaseState) -> None:
        """Takes in what the keeper read: whether the job is still ours and should stop."""
        with self._lock:
            if state.cancel_requested:
                self._cancelled = True
            if not state.held and not self._finished:
                self._lost = True

    def _renewal_due(self) -> bool:
        return self._monotonic() - self._renewed_at >= self._lease_seconds / 3

    def _check_not_lost(self) -> None:
        if self._lost:
            raise LeaseLostError(
                f"worker {self._worker} no longer holds video {self._job.id}; stop without writing"
            )

    def _renew(
        self, progress: int | None, phase: str | None, interpretation: Mapping[str, Any] | None
    ) -> None:
        started = self._monotonic()
        held = self._store.heartbeat(
            self._job.id,
            self._worker,
            lease_seconds=self._lease_seconds,
            progress=progress,
            phase=phase,
            interpretation=interpretation,
        )
        if not held:
            self._lost = True
            self._check_not_lost()
        # Counted from before the write: the stored lease runs from about then.
        self._renewed_at = started
        if progress is not None:
            self._progress = max(self._progress, min(100, int(progress)))
        if phase is not None:
            self._phase = phase


class JobRunner(Protocol):
    """Runs one claimed job to its end.

    The runner completes or fails the job itself (through the store or the lease). It
    should call ``lease.heartbeat`` as it progresses and stop when ``lease.cancelled()``
    turns True (failing the job as cancelled) or when :class:`LeaseLostError` is raised
    (writing nothing). An exception that escapes fails the job as an internal error.
    """

    def __call__(self, job: Job, lease: Lease) -> None:
        """Runs ``job`` under ``lease``."""


class JobQueue(Protocol):
    """Hands jobs from the ``jobs`` table to a runner."""

    def start(self, runner: JobRunner) -> None:
        """Starts the workers; each claimed job is passed to ``runner``."""

    def enqueued(self, job: Job) -> None:
        """Hands a job just written as ``queued`` to the workers.

        The embedded queue wakes an idle worker, which claims from the table; a distributed
        queue sends the job's id to the queue of its model. The row is committed first, so a
        worker that gets the id always finds the job.
        """

    def stop(self, timeout: float) -> None:
        """Stops taking jobs and waits up to ``timeout`` seconds for running ones to return."""

    def stats(self) -> QueueStats:
        """How many workers exist and how many are busy."""

    def reserve(self, job: Job) -> Reservation | None:
        """Sets an idle worker to start ``job`` before its row exists, or returns None.

        Only a queue whose workers run in this process and render locally can do this; the
        caller confirms the reservation once the row is committed, or withdraws it, always
        (see :class:`Reservation`). None means: write the row and call :meth:`enqueued`.
        """


def run_claimed(
    store: JobStore,
    runner: JobRunner,
    job: Job,
    worker: str,
    *,
    lease_seconds: float,
    keeper: LeaseKeeper | None = None,
    admission: Reservation | None = None,
) -> None:
    """Runs a claimed job under a new lease and makes sure it ends: every queue's workers
    call this. With an ``admission`` the job is an early start whose row may not exist yet
    (see :class:`Reservation`); it is released when the attempt ends, whatever its end.

    With a ``keeper`` the lease is batched with the keeper's other leases for as long as the
    runner runs. The runner normally completes or fails the job itself. An error of ours
    that escapes fails it with that error's code and message (meant for people); anything
    else fails it as an internal error with the details in the log only; a runner that
    returns with the job still running under this lease fails it as unfinished. A lost lease
    ends the attempt quietly: the job is another worker's now.
    """
    lease = Lease(
        store,
        job,
        worker,
        lease_seconds=lease_seconds,
        kept=keeper is not None,
        admission=admission,
    )
    if keeper is not None:
        keeper.track(lease)
    try:
        _run(store, runner, job, lease)
    finally:
        if keeper is not None:
            keeper.untrack(lease)
        if admission is not None:
            admission.release()


def _run(store: JobStore, runner: JobRunner, job: Job, lease: Lease) -> None:
    worker = lease.worker
    try:
        runner(job, lease)
    except LeaseLostError:
        _log.warning("worker %s lost video %s; another worker owns it now", worker, job.id)
        return
    except OpenReelError as exc:
        _log.warning("video %s failed: %s", job.id, exc.message, exc_info=True)
        _fail(store, job.id, worker, _job_error(exc))
        return
    except Exception:
        _log.exception("worker %s failed unexpectedly on video %s", worker, job.id)
        _fail(store, job.id, worker, INTERNAL_ERROR)
        return
    if lease.finished:
        return
    try:
        current = store.get(job.id)
    except NotFoundError:
        return  # deleted while running
    except Exception:
        _log.exception("could not read video %s after its runner returned", job.id)
        return
    if current.status is JobStatus.IN_PROGRESS and current.worker == worker:
        _log.error("runner returned without finishing video %s; failing it", job.id)
        _fail(store, job.id, worker, UNFINISHED_ERROR)


def _fail(store: JobStore, job_id: str, worker: str, error: JobError) -> None:
    try:
        store.fail(job_id, worker, error)
    except (ConflictError, NotFoundError) as exc:
        _log.info("video %s was not failed (%s)", job_id, exc.message)
    except Exception:
        _log.exception("could not mark video %s as failed", job_id)


def _job_error(exc: OpenReelError) -> JobError:
    return JobError(code=exc.code, message=exc.message, type=exc.error_type, param=exc.param)
