"""The lease a worker holds on one claimed job, and the error it raises once the job is lost.

Every queue's runners work under a :class:`Lease`: it renews the row's hold while they report
progress and answers whether the video was cancelled, so a dead worker's job returns to the
queue when its lease runs out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from openreel.domain import Job, JobError
from openreel.errors import CancelledError, ConflictError
from openreel.queue.reservation import Reservation
from openreel.storage.jobs import Beat, JobStore, LeaseState

__all__ = ["CANCEL_CHECK_INTERVAL", "Lease", "LeaseLostError"]


CANCEL_CHECK_INTERVAL = 0.1
"""Seconds during which :meth:`Lease.cancelled` answers from its cache instead of the store."""


class LeaseLostError(ConflictError):
    """The worker no longer holds its job: it was reclaimed, failed by an admin, or deleted.

    The runner must stop at once and write nothing: the job is someone else's now.
    """

    default_code = "lease_lost"


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
