"""The embedded queue: worker threads inside the server process, claiming from SQLite.

This is the one-machine tier (docs/architecture.md, "The life of a job"). Each worker thread
loops: claim the oldest job it can serve (one short write transaction), run it, repeat; when
nothing is claimable it sleeps until :meth:`EmbeddedQueue.enqueued` hands it a job just
admitted (taken by its id, one statement) or :meth:`EmbeddedQueue.notify` says there is work,
or until ``poll_interval`` passes (jobs enqueued by another process, expired leases). Because
claims are transactions on the shared table, several processes may run embedded queues on one
database at once without running a job twice.
"""

from __future__ import annotations

import collections
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Collection

from openreel.domain import Job
from openreel.errors import ConflictError
from openreel.queue.contract import JobRunner, QueueStats
from openreel.queue.keeper import LeaseKeeper
from openreel.queue.reservation import Reservation
from openreel.queue.run import INTERNAL_ERROR, UNFINISHED_ERROR, run_claimed
from openreel.storage.jobs import JobStore

__all__ = ["INTERNAL_ERROR", "UNFINISHED_ERROR", "EmbeddedQueue", "QueueGroup"]

_log = logging.getLogger(__name__)


class EmbeddedQueue:
    """N daemon worker threads claiming jobs from the store.

    Args:
        store: The job store (shared with the API).
        workers: Number of worker threads (jobs run at once).
        lease_seconds: Lease length; a job whose worker is silent this long is reclaimed.
        poll_interval: Longest sleep between claims when idle and not notified.
        models: Only run jobs for these models; None runs every model.
        worker_prefix: Start of every worker id written to job rows; defaults to
            ``hostname:pid``. Each id also gets the thread's index and a random suffix, so
            ids never repeat across restarts.
        max_attempts: Fail a job as ``worker_lost`` instead of claiming it again once it
            has been claimed this many times; None retries forever.
        batched_leases: Let one :class:`~openreel.queue.keeper.LeaseKeeper` renew, report
            and watch every running job's lease once a second, instead of each job doing its
            own store calls. Right for pools of jobs that wait (hosted providers); a cancel
            then takes up to a second longer to reach the runner.
        early_start: Models whose jobs :meth:`reserve` may hand to an idle worker before
            their row is written (see :class:`~openreel.queue.reservation.Reservation`): only
            models that render here, start in milliseconds and stop at the next frame (the
            sketch engine). Never hosted models (the prompt would leave the server before
            moderation decided), nor GPU models (a refused prompt would cost seconds of GPU).
    """

    def __init__(
        self,
        store: JobStore,
        *,
        workers: int = 1,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
        models: Collection[str] | None = None,
        worker_prefix: str | None = None,
        max_attempts: int | None = 3,
        batched_leases: bool = False,
        early_start: Collection[str] = (),
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1; got {workers!r}")
        if lease_seconds <= 0 or poll_interval <= 0:
            raise ValueError("lease_seconds and poll_interval must be positive")
        if early_start and batched_leases:
            raise ValueError("early_start is for render workers, not batched (hosted) pools")
        self._store = store
        self._workers = workers
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._models = None if models is None else frozenset(models)
        self._prefix = worker_prefix or f"{socket.gethostname()}:{os.getpid()}"
        self._max_attempts = max_attempts
        # notify() bumps the generation under the condition; a worker sleeps only if the
        # generation it saw before its (empty) claim is still current, so no wake-up is lost.
        self._cond = threading.Condition()
        self._generation = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._watching = False  # whether an idle worker is on the timed watch
        self._early_start = frozenset(early_start)
        self._idle: list[str] = []  # workers asleep in _idle_wait, free to be reserved
        self._handoffs: dict[str, Reservation] = {}  # worker -> the early start it was given
        self._handed: collections.deque[str] = collections.deque()  # admitted, not yet taken
        self._keeper = (
            LeaseKeeper(store, lease_seconds=lease_seconds, tick=min(1.0, lease_seconds / 4))
            if batched_leases
            else None
        )

    def start(self, runner: JobRunner) -> None:
        """Starts the worker threads.

        Raises:
            ConflictError: The queue is already running.
        """
        with self._cond:
            if any(thread.is_alive() for thread in self._threads):
                raise ConflictError("the embedded queue is already running")
            self._stopping = False
            nonce = secrets.token_hex(3)
            self._threads = [
                threading.Thread(
                    target=self._loop,
                    args=(f"{self._prefix}/{index}.{nonce}", runner),
                    name=f"openreel-worker-{index}",
                    daemon=True,
                )
                for index in range(self._workers)
            ]
        if self._keeper is not None:
            self._keeper.start()
        for thread in self._threads:
            thread.start()

    def enqueued(self, job: Job) -> None:
        """Hands ``job``, just admitted, to the next free worker, woken now.

        The worker takes that row with one statement (``JobStore.take``) instead of a claim,
        whose sweep and search cost a write transaction of several statements, each a turn
        at the interpreter lock against the request threads: a hosted job's submission to
        its provider waited on them. A job whose row is gone or taken by then is simply
        skipped, and the worker claims as usual. A queue whose models do not include
        ``job``'s is not woken.
        """
        if self._models is not None and job.request.model not in self._models:
            return
        with self._cond:
            self._handed.append(job.id)
            self._generation += 1
            self._cond.notify()

    def notify(self) -> None:
        """Wakes an idle worker now (call after enqueueing a job).

        One, not all: a pool of hundreds of hosted workers would otherwise all race for the
        one new job. Workers not asleep yet see the new generation and claim anyway.
        """
        with self._cond:
            self._generation += 1
            self._cond.notify()

    def reserve(self, job: Job) -> Reservation | None:
        """Hands ``job`` to a worker asleep right now, before the job's row exists.

        None when the model may not start early or is not this queue's, or every worker is
        busy or between claims: the caller then writes the row and calls :meth:`enqueued`
        as usual. The caller must confirm or withdraw the reservation.
        """
        model = job.request.model
        if model not in self._early_start or (
            self._models is not None and model not in self._models
        ):
            return None
        with self._cond:
            if self._stopping or not self._idle:
                return None
            worker = self._idle.pop()
            reservation = Reservation(job, worker, self._store, lease_seconds=self._lease_seconds)
            self._handoffs[worker] = reservation
            # Every sleeper wakes, and the named one finds its job; the others look once and
            # sleep again. Render pools are a handful of threads.
            self._cond.notify_all()
        return reservation

    def stop(self, timeout: float = 30.0) -> None:
        """Stops claiming and waits up to ``timeout`` seconds for the workers to return.

        Jobs still running when the time is up are left ``in_progress``: their lease
        expires and another worker (or ``recover_interrupted`` at the next start) requeues
        them.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            _log.warning("workers still running a job after %.1f s: %s", timeout, alive)
        if self._keeper is not None:
            # Stopped last: workers still finishing a job keep their leases until they return.
            self._keeper.stop()

    def stats(self) -> QueueStats:
        """How many worker threads are alive and how many are running a job."""
        with self._cond:
            return QueueStats(
                workers=sum(thread.is_alive() for thread in self._threads), busy=self._busy
            )

    def _loop(self, worker: str, runner: JobRunner) -> None:
        _log.info("worker %s started", worker)
        quiet: int | None = None  # the generation when this worker last found nothing to claim
        while True:
            with self._cond:
                # A job handed over is run even while stopping: its row may be committed
                # already, and the service was promised a worker.
                handoff = self._handoffs.pop(worker, None)
                if handoff is None and self._stopping:
                    break
                handed = self._handed.popleft() if self._handed and handoff is None else None
                seen = self._generation
            if handoff is not None:
                self._run(runner, handoff.job, worker, handoff)
                # A handed-over job came from a submission, not from the table, which was
                # empty when this worker last looked: unless something was enqueued since,
                # the worker goes back to sleep without asking the database (work from other
                # processes is found on the poll, as by any sleeper). The look would take the
                # interpreter lock and the database just as the job's completion is streamed
                # to its client, and keep the worker from the next early start meanwhile.
                with self._cond:
                    if quiet is not None and self._generation == quiet:
                        self._sleep(worker)
                continue
            job: Job | None = None
            if handed is not None:
                job = self._take(worker, handed)
                if job is not None:
                    quiet = None
                    self._run(runner, job, worker, None)
                    continue
            try:
                job = self._store.claim(
                    worker,
                    lease_seconds=self._lease_seconds,
                    models=self._models,
                    max_attempts=self._max_attempts,
                )
            except Exception:
                _log.exception("worker %s could not claim a job", worker)
            if job is None:
                quiet = seen
                with self._cond:
                    if self._generation == seen:
                        self._sleep(worker)
                continue
            quiet = None
            with self._cond:
                # There may be more where this one came from (enqueued by another process, or
                # several leases expired): let one more idle worker look.
                self._cond.notify()
            self._run(runner, job, worker, None)
        _log.info("worker %s stopped", worker)

    def _take(self, worker: str, job_id: str) -> Job | None:
        """The handed job's row for ``worker``; None when gone, taken or unreadable."""
        try:
            return self._store.take(job_id, worker, lease_seconds=self._lease_seconds)
        except Exception:
            _log.exception("worker %s could not take video %s", worker, job_id)
            return None

    def _run(self, runner: JobRunner, job: Job, worker: str, admission: Reservation | None) -> None:
        with self._cond:
            self._busy += 1
        try:
            run_claimed(
                self._store,
                runner,
                job,
                worker,
                lease_seconds=self._lease_seconds,
                keeper=self._keeper,
                admission=admission,
            )
        finally:
            with self._cond:
                self._busy -= 1

    def _sleep(self, worker: str) -> None:
        """Sleeps ``worker`` as an idle one (condition held) until notified, reserved or polled."""
        if self._stopping:
            return
        self._idle.append(worker)
        try:
            self._idle_wait()
        finally:
            if worker in self._idle:  # not reserved while asleep
                self._idle.remove(worker)

    def _idle_wait(self) -> None:
        """Sleeps an idle worker (condition held).

        Only one idle worker at a time wakes every ``poll_interval`` to look for jobs that
        :meth:`notify` cannot announce (enqueued by another process, leases run out); the
        rest sleep until notified. A pool of hundreds of hosted workers would otherwise
        spend a good share of a core asking the database, in turn, whether there is work
        (benchmarks/hosted_poll.py).
        """
        if self._watching:
            self._cond.wait()
            return
        # A watcher that claims a job wakes a sleeper as it leaves (see _loop), so the watch is
        # never left empty while anyone is idle.
        self._watching = True
        try:
            self._cond.wait(self._poll_interval)
        finally:
            self._watching = False


class QueueGroup:
    """Several queues run as one: local renders and hosted waits on pools of their own.

    A hosted job spends minutes waiting on a provider and almost no CPU, a local one the
    reverse; sharing one pool would let a burst of hosted jobs hold every worker while local
    renders wait, or cap hosted concurrency at the machine's core count.
    """

    def __init__(self, *queues: EmbeddedQueue) -> None:
        self._queues = queues

    def start(self, runner: JobRunner) -> None:
        """Starts every queue's workers."""
        for queue in self._queues:
            queue.start(runner)

    def enqueued(self, job: Job) -> None:
        """Wakes an idle worker in each queue (the one whose models match will claim)."""
        for queue in self._queues:
            queue.enqueued(job)

    def reserve(self, job: Job) -> Reservation | None:
        """The first queue's reservation for ``job`` (see :meth:`EmbeddedQueue.reserve`)."""
        for queue in self._queues:
            reservation = queue.reserve(job)
            if reservation is not None:
                return reservation
        return None

    def stop(self, timeout: float = 30.0) -> None:
        """Stops every queue, sharing the timeout."""
        deadline = time.monotonic() + timeout
        for queue in self._queues:
            queue.stop(max(0.0, deadline - time.monotonic()))

    def stats(self) -> QueueStats:
        """Workers and busy workers over all queues."""
        stats = [queue.stats() for queue in self._queues]
        return QueueStats(workers=sum(s.workers for s in stats), busy=sum(s.busy for s in stats))
