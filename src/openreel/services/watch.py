"""JobWatch: wakes the ``/events`` streams of this process as soon as a job's row changes.

Without it a stream re-reads the job on a timer, and a client learns of progress, completion
or failure up to one period late. The job store calls :meth:`JobWatch.notify` after every
committed change to one job (claim, progress, completion, failure, cancel, delete), from
whatever thread made it; streams wait on a :class:`Subscription` with a timeout, so changes
made by another process (Celery workers on a shared database) are still seen on the timer.

asyncio events are not thread-safe, so a notification is handed to each waiting stream's
event loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["JobWatch", "Subscription"]


class Subscription:
    """One stream's interest in one job: :meth:`wait` returns when the job changed."""

    def __init__(self, job_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.job_id = job_id
        self._loop = loop
        self._event = asyncio.Event()

    def _set_from_any_thread(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """Waits until the job changed since the last wait, or ``timeout`` seconds passed.

        Clear-then-read is race-free: a change that lands after this returns and before the
        caller's next read sets the flag again, so the next wait returns at once.

        Returns:
            True when a change was signalled, False on timeout.
        """
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class JobWatch:
    """The registry of subscriptions, keyed by job id; safe to notify from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def notify(self, job_id: str) -> None:
        """Signals every subscription to ``job_id``; cheap when nobody follows the job."""
        with self._lock:
            subscriptions = tuple(self._subscriptions.get(job_id, ()))
        for subscription in subscriptions:
            subscription._set_from_any_thread()

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """Follows ``job_id`` for the duration of the block (call from a running event loop)."""
        subscription = Subscription(job_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.setdefault(job_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                remaining = self._subscriptions.get(job_id)
                if remaining is not None:
                    remaining.discard(subscription)
                    if not remaining:
                        del self._subscriptions[job_id]

    def following(self, job_id: str) -> int:
        """How many subscriptions follow ``job_id`` (for tests and diagnostics)."""
        with self._lock:
            return len(self._subscriptions.get(job_id, ()))
