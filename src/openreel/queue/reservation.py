"""Early start: an idle worker set aside for a job whose row is still being written.

Kept apart from the lease because it is the service's side of the hand-over: the service
confirms or withdraws it, the lease only reports to it.
"""

from __future__ import annotations

import logging
import threading

from openreel.domain import Job
from openreel.storage.jobs import JobStore

__all__ = ["Reservation"]

_log = logging.getLogger(__name__)


class Reservation:
    """An idle worker set aside for a job whose row is still being written (early start).

    The slowest step of a submission is moderation's semantic check, a noticeable share of a
    small sketch video's render (benchmarks/moderation.py). So the service may hand an
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

        The service calls this before moderating: see ``services.videos.HANDOFF_WAIT_S``.
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
