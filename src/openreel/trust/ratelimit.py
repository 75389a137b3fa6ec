"""Rate limits: per token, requests and video creations a minute; per address, studio sign-ins.

Moving windows, so a burst cannot straddle a window edge to double its allowance. The default
``memory://`` counts in this process (:class:`_LocalWindows`); with several API processes, point
``storage_uri`` at Redis (``redis://host:6379``) so they share the counters through the
``limits`` library. Request and creation limits are keyed by token id, never by address: one
person behind a shared NAT must not exhaust another's allowance, and a leaked token is
throttled wherever it is used from. Sign-in attempts have no token yet, so they are counted by
client address: guessing tokens through the studio's sign-in form is slowed to a crawl.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from openreel.errors import ConfigurationError, RateLimitError

__all__ = ["LimitKind", "RateLimiter"]

LimitKind = Literal["request", "create", "sign-in"]

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class _Limit:
    item: RateLimitItemPerMinute
    what: str
    per: str


class RateLimiter:
    """Counts each token's requests and creations, and each address's sign-ins; refuses those
    over the limits.

    Args:
        requests_per_minute: Any authenticated request; 0 turns the limit off.
        creates_per_minute: Video creations (create, remix, extend); 0 turns it off.
        sign_ins_per_minute: Refused studio sign-ins one client address may make; 0 turns
            it off.
        storage_uri: ``memory://`` (one process) or a ``redis://`` URI (shared).

    Raises:
        ConfigurationError: A negative limit or an unusable storage URI.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int,
        creates_per_minute: int,
        sign_ins_per_minute: int = 0,
        storage_uri: str = "memory://",
    ) -> None:
        limits: dict[LimitKind, _Limit] = {}
        wanted: tuple[tuple[LimitKind, int, str, str], ...] = (
            ("request", requests_per_minute, "requests", "for this token"),
            ("create", creates_per_minute, "videos created", "for this token"),
            ("sign-in", sign_ins_per_minute, "sign-in attempts", "from this address"),
        )
        for kind, amount, what, per in wanted:
            if amount < 0:
                raise ConfigurationError(f"rate limit for {what} must be >= 0; got {amount}")
            if amount:
                limits[kind] = _Limit(RateLimitItemPerMinute(amount), what, per)
        self._limits = limits
        try:
            storage = storage_from_string(storage_uri)
        except Exception as exc:  # the library raises several types for a bad URI
            raise ConfigurationError(
                f"rate-limit storage {storage_uri!r} is unusable: {exc}"
            ) from None
        if not isinstance(storage, Storage):
            raise ConfigurationError(
                f"rate-limit storage {storage_uri!r} is an async storage; use a sync URI"
            )
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._local = _LocalWindows() if isinstance(storage, MemoryStorage) else None

    @property
    def local(self) -> bool:
        """Whether counting is in-process memory (cheap enough for the event loop)."""
        return self._local is not None

    def hit(self, token_id: str, kind: LimitKind) -> None:
        """Counts one ``kind`` for ``token_id`` (the client address for sign-ins), refusing it
        when over the limit.

        Raises:
            RateLimitError: Over the limit; ``retry_after`` says when a slot frees up.
        """
        limit = self._limits.get(kind)
        if limit is None:
            return
        if self._local is not None:
            free_in = self._local.hit((kind, token_id), limit.item.amount)
            if free_in is None:
                return
            wait = max(1, math.ceil(free_in))
        else:
            if self._limiter.hit(limit.item, kind, token_id):
                return
            stats = self._limiter.get_window_stats(limit.item, kind, token_id)
            wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise self.refuse(kind, wait)

    def blocked(self, key: str, kind: LimitKind) -> int | None:
        """Seconds until ``key`` may ``kind`` again, or None when it may now; counts nothing.

        For limits on failures (sign-ins): look first, count with :meth:`hit` only what failed.
        """
        limit = self._limits.get(kind)
        if limit is None:
            return None
        if self._local is not None:
            free_in = self._local.wait((kind, key), limit.item.amount)
            return None if free_in is None else max(1, math.ceil(free_in))
        if self._limiter.test(limit.item, kind, key):
            return None
        stats = self._limiter.get_window_stats(limit.item, kind, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def refuse(self, kind: LimitKind, wait: int) -> RateLimitError:
        """The error for a ``kind`` over its limit, free again in ``wait`` seconds."""
        limit = self._limits[kind]
        return RateLimitError(
            f"too many {limit.what} {limit.per}: the limit is {limit.item.amount} a "
            f"minute; retry in {wait} s",
            retry_after=wait,
            code="rate_limit_exceeded",
        )


class _LocalWindows:
    """One-minute moving windows in this process's memory, for ``memory://``.

    The ``limits`` library's memory storage expires old entries on a timer thread that it starts
    again on nearly every hit (the timer ends 10 ms after it starts), and the event loop, which
    counts every request, waits for each new thread to start: on a busy machine that is a wait
    for the GIL behind a render (benchmarks/api.py). Here each hit drops its own key's old
    entries, and a sweep once a window drops keys that went quiet.

    Args:
        window: Seconds a hit counts for.
        clock: Monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()  # the event loop and the thread pool both count
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._swept_at = clock()

    def hit(self, key: tuple[str, str], amount: int) -> float | None:
        """Counts one hit for ``key`` if fewer than ``amount`` are in the window.

        Returns:
            None when counted; else the seconds until the oldest hit leaves the window.
        """
        with self._lock:
            now = self._clock()
            horizon = now - self._window
            if now - self._swept_at >= self._window:
                self._sweep(horizon)
                self._swept_at = now
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= amount:
                return hits[0] - horizon
            hits.append(now)
            return None

    def wait(self, key: tuple[str, str], amount: int) -> float | None:
        """Seconds until ``key`` has room for a hit (None: room now); counts nothing."""
        with self._lock:
            horizon = self._clock() - self._window
            hits = self._hits.get(key)
            if not hits:
                return None
            while hits and hits[0] <= horizon:
                hits.popleft()
            return hits[0] - horizon if len(hits) >= amount else None

    def _sweep(self, horizon: float) -> None:
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]
