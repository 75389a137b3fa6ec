"""AbuseMonitor: suspends a token that behaves like a leaked one, and says why in the audit log.

Two signals, each over a sliding window per token (docs/operations.md, "Abuse signals"):

- distinct client addresses: a token pasted into a public web page is used by many people
  from many addresses within minutes; one person rarely uses more than a handful;
- seconds of video requested: a leaked token floods the queue far faster than its owner.

Crossing either threshold revokes the token at once (with the reason stored on the token and
in the audit log), so the next request with it fails like any revoked token. The counters
live in this process's memory: enough for one server; several API processes each watch
their own share of the traffic, which still catches a leak, only later.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from openreel.trust.auth import AuthService

__all__ = ["AbuseMonitor", "AbuseThresholds"]


@dataclass(frozen=True, slots=True)
class AbuseThresholds:
    """When to suspend a token; 0 turns a signal off.

    Attributes:
        max_addresses: Distinct client addresses allowed per window.
        max_seconds: Seconds of video a token may request per window.
        window_seconds: Length of the sliding window.
    """

    max_addresses: int = 20
    max_seconds: float = 0.0
    window_seconds: float = 600.0


@dataclass
class _Seen:
    addresses: dict[str, float] = field(default_factory=dict)  # address -> last seen
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (when, seconds)


class AbuseMonitor:
    """Watches every authenticated request and every creation, per token."""

    def __init__(
        self,
        thresholds: AbuseThresholds,
        auth: AuthService,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = thresholds
        self._auth = auth
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}

    def request(self, token_id: str, address: str | None) -> str | None:
        """Records a request; returns the reason when the token must now be suspended."""
        limit = self._limits.max_addresses
        if not limit or not address:
            return None
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(token_id, _Seen())
            seen.addresses[address] = now
            horizon = now - self._limits.window_seconds
            for old in [a for a, t in seen.addresses.items() if t < horizon]:
                del seen.addresses[old]
            count = len(seen.addresses)
        if count > limit:
            return (
                f"used from {count} client addresses within "
                f"{self._limits.window_seconds / 60:g} minutes (limit {limit})"
            )
        return None

    def created(self, token_id: str, seconds: float) -> str | None:
        """Records a creation; returns the reason when the token must now be suspended."""
        limit = self._limits.max_seconds
        if not limit:
            return None
        now = self._clock()
        with self._lock:
            spent = self._seen.setdefault(token_id, _Seen()).spent
            spent.append((now, seconds))
            while spent and spent[0][0] < now - self._limits.window_seconds:
                spent.popleft()
            total = sum(s for _, s in spent)
        if total > limit:
            return (
                f"requested {total:g} seconds of video within "
                f"{self._limits.window_seconds / 60:g} minutes (limit {limit:g})"
            )
        return None

    def suspend(self, token_id: str, reason: str) -> None:
        """Revokes the token with ``reason`` (audited as ``token.revoked`` by no one)."""
        self._auth.revoke(token_id, reason=f"suspended automatically: {reason}")
        with self._lock:
            self._seen.pop(token_id, None)
