"""LeaseKeeper: one thread that renews, reports and watches every lease of a worker pool.

A pool following hundreds of hosted jobs spends nearly all its time waiting, yet with a lease
per job doing its own store calls it took a large share of a core (benchmarks/hosted_poll.py):
hundreds of threads each reading their cancel flag every second, each renewing its lease in a
write transaction of its own and queueing for SQLite's one write lock, each writing every small
rise in progress. The keeper does that work for all of them at once, once a tick:

- one write transaction carrying every lease's news (progress, phase, what was understood)
  and every renewal that is due (``JobStore.heartbeat_many``);
- one read of every held job's owner, status and cancel flag (``JobStore.lease_states``),
  handed back to each lease, whose :meth:`~openreel.queue.lease.Lease.cancelled` then answers
  from memory.

The price is latency: progress reaches the table, and a cancel or a lost lease reaches the
runner, up to one tick late. That suits jobs that wait on someone else for minutes; local
renders, which check a cancel flag between frames, keep their own leases.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from openreel.queue.lease import Lease
from openreel.storage.jobs import JobStore

__all__ = ["LeaseKeeper"]

_log = logging.getLogger(__name__)


class LeaseKeeper:
    """Batches the store work of every lease it tracks (see the module docstring).

    Args:
        store: The job store.
        lease_seconds: Length of each renewal (the pool's lease length).
        tick: Seconds between batches.
        monotonic: Clock (tests pass a fake one and call :meth:`run_once`).
    """

    def __init__(
        self,
        store: JobStore,
        *,
        lease_seconds: float,
        tick: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if tick <= 0 or tick >= lease_seconds / 3:
            raise ValueError(
                f"tick must be positive and under a third of the lease ({lease_seconds:g} s); "
                f"got {tick!r}"
            )
        self._store = store
        self._lease_seconds = lease_seconds
        self._tick = tick
        self._monotonic = monotonic
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def track(self, lease: Lease) -> None:
        """Starts batching ``lease`` (made with ``kept=True``)."""
        with self._lock:
            self._leases[lease.job_id] = lease

    def untrack(self, lease: Lease) -> None:
        """Stops batching ``lease`` (its runner has returned)."""
        with self._lock:
            if self._leases.get(lease.job_id) is lease:
                del self._leases[lease.job_id]

    def start(self) -> None:
        """Starts the keeper's thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name="openreel-lease-keeper", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread after its current batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> None:
        """One batch: write every lease's news and due renewal, then read every lease's state."""
        with self._lock:
            leases = list(self._leases.values())
        if not leases:
            return
        pending = [(lease, beat) for lease in leases if (beat := lease.take_beat()) is not None]
        if pending:
            started = self._monotonic()
            try:
                self._store.heartbeat_many(
                    [beat for _, beat in pending], lease_seconds=self._lease_seconds
                )
            except Exception:
                _log.exception("could not renew %d leases; retrying next tick", len(pending))
                for lease, beat in pending:
                    lease.beat_lost(beat)
            else:
                for lease, beat in pending:
                    lease.beat_written(beat, started)
        states = self._store.lease_states({lease.job_id: lease.worker for lease in leases})
        for lease in leases:
            lease.apply(states[lease.job_id])

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.run_once()
            except Exception:
                _log.exception("the lease keeper's batch failed; retrying next tick")
