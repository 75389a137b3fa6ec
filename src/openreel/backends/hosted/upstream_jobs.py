"""What one upstream server takes at a time and how long its jobs take: the job slots that
hold back jobs a server cannot run side by side (FastVideo runs one), and the recent durations
that stand in for progress a server does not report.

Apart from the client and the backend, both of which use them, so each is read in one place.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Callable

from openreel.backends.base import CancelCheck
from openreel.errors import CancelledError

__all__ = ["JobSlots", "RecentDurations"]


class RecentDurations:
    """Each model's recent submit-to-done durations, for servers that report no progress.

    Progress is the elapsed time over the median of the last ``keep`` durations, held below
    95% (a job slower than usual waits at 95, never past it); with no duration yet there is
    no estimate at all.
    """

    def __init__(self, keep: int = 20) -> None:
        self._keep = keep
        self._seconds: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def add(self, model: str, seconds: float) -> None:
        """Notes one finished job of ``model``."""
        with self._lock:
            self._seconds.setdefault(model, deque(maxlen=self._keep)).append(seconds)

    def typical(self, model: str) -> float | None:
        """The median recent duration of ``model``, or None before its first job ends."""
        with self._lock:
            seen = list(self._seconds.get(model, ()))
        return statistics.median(seen) if seen else None

    def progress(self, model: str, elapsed: float) -> float | None:
        """The estimated percentage after ``elapsed`` seconds, or None with nothing to go on."""
        typical = self.typical(model)
        if typical is None or typical <= 0:
            return None
        return min(95.0, 100.0 * elapsed / typical)


class JobSlots:
    """How many jobs an upstream is sent at once (FastVideo: one); the rest wait here.

    A slot is held by the thread running the job, from before the create to the end of the
    job. A job the server cannot stop keeps its slot after a cancel: :meth:`hand_over` passes
    it to whoever waits for the server to finish.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._free = threading.Semaphore(count)
        self._held = threading.local()

    def take(self, cancelled: CancelCheck, waiting: Callable[[], None], step_s: float) -> None:
        """Waits for a slot, asking ``cancelled()`` and calling ``waiting()`` (which keeps the
        job's lease) every ``step_s``.

        Raises:
            CancelledError: The job was cancelled while it waited.
        """
        while not self._free.acquire(timeout=step_s):
            if cancelled():
                raise CancelledError("generation was cancelled")
            waiting()
        self._held.slot = True

    def give_back(self) -> None:
        """Frees this thread's slot, unless it was handed over."""
        if getattr(self._held, "slot", False):
            self._held.slot = False
            self._free.release()

    def hand_over(self) -> Callable[[], None] | None:
        """Takes this thread's slot away from it; returns what frees it later (None when the
        thread holds none)."""
        if not getattr(self._held, "slot", False):
            return None
        self._held.slot = False
        return self._free.release
