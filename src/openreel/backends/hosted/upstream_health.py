"""Whether an upstream GPU server is reachable, so its models leave ``/v1/models`` while it is
not and come back when it is.

A GPU server goes away for ordinary reasons (a restart to load another model, a node drained),
and offering its models meanwhile only turns every request into a job that fails minutes
later. The state is learnt two ways: every request the client makes reports whether a
connection was made (:meth:`UpstreamHealth.saw`), and a probe asks the server at most every
``every_s`` seconds, in a background thread so that listing models never waits on a dead
host. The reason is for admins (the admin view and the log); users see only
``provider_unavailable``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HealthReport", "UpstreamHealth"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One upstream's state as last seen.

    Attributes:
        name: The upstream's name.
        reason: Why it is unreachable; None while it is reachable (or not yet asked).
        checked_at: Monotonic seconds of the last probe or request; None before any.
    """

    name: str
    reason: str | None
    checked_at: float | None


class UpstreamHealth:
    """An upstream's reachability (see the module docstring).

    Args:
        name: The upstream's name (in the log and the admin view).
        probe: Asks the server once; returns None when it answered well, else the reason.
        every_s: Longest a state is trusted before a new probe is started.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        name: str,
        probe: Callable[[], str | None],
        *,
        every_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._probe = probe
        self._every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._checked_at: float | None = None
        self._probing = False

    def reason(self) -> str | None:
        """Why the upstream is unreachable, or None; starts a background probe when the last
        news is older than ``every_s`` (the answer is the state known now)."""
        with self._lock:
            stale = self._checked_at is None or self._clock() - self._checked_at > self._every_s
            start = stale and not self._probing
            if start:
                self._probing = True
            reason = self._reason
        if start:
            threading.Thread(
                target=self._probe_once, name=f"upstream-probe-{self._name}", daemon=True
            ).start()
        return reason

    def known(self) -> str | None:
        """Why the upstream is unreachable, as last seen, without asking it afresh while it
        was last seen well (a request's own failure or a listing's probe says otherwise);
        while it is down, a stale state starts a probe, so its return is noticed."""
        with self._lock:
            down = self._reason is not None
        return self.reason() if down else None

    def check_now(self) -> str | None:
        """Probes at once, in this thread; returns the new state."""
        self._record(self._safe_probe())
        return self._reason

    def saw(self, reason: str | None) -> None:
        """A request's news: None when the server answered, else why it could not be reached."""
        self._record(reason)

    def report(self) -> HealthReport:
        """The state as last seen."""
        with self._lock:
            return HealthReport(self._name, self._reason, self._checked_at)

    def _probe_once(self) -> None:
        try:
            self._record(self._safe_probe())
        finally:
            with self._lock:
                self._probing = False

    def _safe_probe(self) -> str | None:
        try:
            return self._probe()
        except Exception as exc:  # a probe that breaks says the server is unusable
            return f"probe failed: {type(exc).__name__}: {exc}"

    def _record(self, reason: str | None) -> None:
        with self._lock:
            before = self._reason
            self._reason, self._checked_at = reason, self._clock()
        if reason is not None and before is None:
            log.warning(
                "upstream %s is unreachable, its models are withdrawn: %s", self._name, reason
            )
        elif reason is None and before is not None:
            log.warning("upstream %s is reachable again, its models are offered", self._name)
