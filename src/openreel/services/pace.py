"""How long a client should wait before asking about a video again (``openai-poll-after-ms``).

The official SDK reads the hint from its first answer and keeps that pace until the video
ends, so the hint follows how long such renders took lately in this process rather than a
fixed second.
"""

from __future__ import annotations

import collections
import statistics
import threading

from openreel.domain import Job, VideoRequest

__all__ = ["POLL_AFTER_SHORTEST_MS", "PaceBook", "poll_after_ms"]


POLL_AFTER_SHORTEST_MS = 100
"""The shortest ``openai-poll-after-ms`` ever sent: ten polls a second at most."""


def poll_after_ms(
    job: Job, now: float, *, longest_ms: int, expected_seconds: float | None = None
) -> int:
    """How long a client polling ``job`` should wait before asking again.

    Sent as ``openai-poll-after-ms``. The official SDK reads it from the first answer and keeps
    that pace until the video ends, so a fixed second made a video rendered in a fraction of a
    second wait a whole one to be collected (benchmarks/api.py). The hint is half the time the
    job probably has left, between :data:`POLL_AFTER_SHORTEST_MS` and ``longest_ms`` (the
    operator's setting): left is what the job's pace so far says once it shows progress, or else
    ``expected_seconds`` (how long such a job took lately) less the time it has run. A queued
    job, or a running one with neither, gets ``longest_ms``.
    """
    longest = max(POLL_AFTER_SHORTEST_MS, longest_ms)
    if job.status.is_final or job.started_at is None:
        return longest
    elapsed = max(0.0, now - job.started_at)
    if job.progress > 0:
        left = elapsed * (100 - min(job.progress, 100)) / job.progress
    elif expected_seconds is not None:
        left = max(0.0, expected_seconds - elapsed)
    else:
        return longest
    return int(min(longest, max(POLL_AFTER_SHORTEST_MS, 1000 * left / 2)))


class PaceBook:
    """How long each model's renders took lately, per megapixel-frame (for poll hints).

    The median of the model's last few finished renders in this process: a process's first
    render pays for imports and warm-ups and must not set the pace for long. Nothing is
    stored; a server whose renders run elsewhere (Celery workers) learns nothing and hints
    the operator's setting.
    """

    KEPT = 5
    """How many recent renders of a model count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, collections.deque[float]] = {}

    @staticmethod
    def units(request: VideoRequest) -> float:
        """The work in a request: its frames times its megapixels."""
        return request.frame_count * request.width * request.height / 1e6

    def record(self, request: VideoRequest, seconds: float) -> None:
        """Notes that ``request`` took ``seconds`` to render."""
        units = self.units(request)
        if units <= 0 or seconds <= 0:
            return
        with self._lock:
            rates = self._rates.setdefault(request.model, collections.deque(maxlen=self.KEPT))
            rates.append(seconds / units)

    def expected(self, request: VideoRequest) -> float | None:
        """How long ``request`` should take to render, or None before any such render."""
        with self._lock:
            rates = self._rates.get(request.model)
            rate = statistics.median(rates) if rates else None
        return None if rate is None else rate * self.units(request)
