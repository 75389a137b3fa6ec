"""What a job queue promises the services: the queue and runner protocols and a queue's stats.

The embedded threads and the Celery dispatch both implement :class:`JobQueue`; the services
see nothing else of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openreel.domain import Job
from openreel.queue.lease import Lease
from openreel.queue.reservation import Reservation

__all__ = ["JobQueue", "JobRunner", "QueueStats"]


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of a queue's workers.

    Attributes:
        workers: Worker threads alive.
        busy: Workers running a job right now.
    """

    workers: int
    busy: int


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
