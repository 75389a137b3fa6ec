"""Per-token rate limits: requests per minute and video creations per minute.

Built on the ``limits`` library (moving windows, so a burst cannot straddle a window edge to
double its allowance). Its in-memory storage serves one process; with several API processes,
point ``storage_uri`` at Redis (``redis://host:6379``) so they share the counters
(reference/trust.md, section 5.4). Limits are keyed by token id, never by address: one person
behind a shared NAT must not exhaust another's allowance, and a leaked token is throttled
wherever it is used from.

Imports: errors, and the ``limits`` library.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from openreel.errors import ConfigurationError, RateLimitError

__all__ = ["LimitKind", "RateLimiter"]

LimitKind = Literal["request", "create"]


@dataclass(frozen=True, slots=True)
class _Limit:
    item: RateLimitItemPerMinute
    what: str


class RateLimiter:
    """Counts each token's requests and creations and refuses those over the limits.

    Args:
        requests_per_minute: Any authenticated request; 0 turns the limit off.
        creates_per_minute: Video creations (create, remix, extend); 0 turns it off.
        storage_uri: ``memory://`` (one process) or a ``redis://`` URI (shared).

    Raises:
        ConfigurationError: A negative limit or an unusable storage URI.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int,
        creates_per_minute: int,
        storage_uri: str = "memory://",
    ) -> None:
        limits: dict[LimitKind, _Limit] = {}
        wanted: tuple[tuple[LimitKind, int, str], ...] = (
            ("request", requests_per_minute, "requests"),
            ("create", creates_per_minute, "videos created"),
        )
        for kind, amount, what in wanted:
            if amount < 0:
                raise ConfigurationError(f"rate limit for {what} must be >= 0; got {amount}")
            if amount:
                limits[kind] = _Limit(RateLimitItemPerMinute(amount), what)
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

    @property
    def local(self) -> bool:
        """Whether counting is in-process memory (cheap enough for the event loop)."""
        return isinstance(self._storage, MemoryStorage)

    def hit(self, token_id: str, kind: LimitKind) -> None:
        """Counts one ``kind`` for ``token_id``, refusing it when over the limit.

        Raises:
            RateLimitError: Over the limit; ``retry_after`` says when a slot frees up.
        """
        limit = self._limits.get(kind)
        if limit is None:
            return
        if self._limiter.hit(limit.item, kind, token_id):
            return
        stats = self._limiter.get_window_stats(limit.item, kind, token_id)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitError(
            f"too many {limit.what} for this token: the limit is {limit.item.amount} a "
            f"minute; retry in {wait} s",
            retry_after=wait,
            code="rate_limit_exceeded",
        )
