"""How long a client should wait before asking about a video again (``openai-poll-after-ms``).

The official SDK reads the hint from its first poll and keeps that pace until the video
ends, so the hint follows how long such renders took lately in this process and the job's own
pace, rather than a fixed second.
"""

from __future__ import annotations

import collections
import statistics
import threading

from openreel.domain import Job, VideoRequest

__all__ = [
    "FIRST_FRAME_PROGRESS",
    "POLL_AFTER_SHORTEST_MS",
    "SHARE_OF_WHAT_IS_LEFT",
    "TRUSTED_PROGRESS",
    "PaceBook",
    "poll_after_ms",
]


POLL_AFTER_SHORTEST_MS = 100
"""The shortest ``openai-poll-after-ms`` ever sent: ten polls a second at most."""

FIRST_FRAME_PROGRESS = 1
"""The progress a job shows once its first frame is made (services/worker.py): no pace yet."""

TRUSTED_PROGRESS = 50
"""From this progress on, the job's own pace alone says how long it has left."""

SHARE_OF_WHAT_IS_LEFT = 0.35
"""The hint as a share of the time a job probably has left. A client that keeps its first
hint's pace (the official SDK) then asks three times before the probable end and lands 5 %
past it on the third; a render later than thought costs it a third of the time left rather
than a half, and renders on a busy machine are often later than thought
(benchmarks/gateway_pace.py)."""


def poll_after_ms(
    job: Job, now: float, *, longest_ms: int, expected_seconds: float | None = None
) -> int:
    """How long a client polling ``job`` should wait before asking again.

    Sent as ``openai-poll-after-ms``. The official SDK reads it from its first poll and keeps
    that pace until the video ends, so a hint longer than the video has left makes a quick
    video wait for its collector (benchmarks/api.py). The hint is about a third of the time
    the job probably has left (:data:`SHARE_OF_WHAT_IS_LEFT`), between
    :data:`POLL_AFTER_SHORTEST_MS` and ``longest_ms`` (the operator's setting). What is left blends two guesses: the job's own pace (its elapsed time
    stretched to 100 %), trusted in proportion to its progress and fully from
    :data:`TRUSTED_PROGRESS` on; and before that a prior: ``expected_seconds`` (how long such
    renders took lately) less the time the job has run, or, with no such renders, as long
    again as it has run. The first frame is reported at once as 1 %, so a progress of 1 % or
    less is never stretched: it measures the start-up, and stretched 99 times it once told
    videos that needed a fifth of a second to come back in a second. A queued job gets
    ``longest_ms``: how long it waits for a worker is not known.
    """
    longest = max(POLL_AFTER_SHORTEST_MS, longest_ms)
    if job.status.is_final or job.started_at is None:
        return longest
    elapsed = max(0.0, now - job.started_at)
    prior = elapsed if expected_seconds is None else max(0.0, expected_seconds - elapsed)
    progress = min(job.progress, 100)
    if progress > FIRST_FRAME_PROGRESS:
        stretched = elapsed * (100 - progress) / progress
        trust = min(1.0, progress / TRUSTED_PROGRESS)
        left = trust * stretched + (1 - trust) * prior
    else:
        left = prior
    hint = 1000 * left * SHARE_OF_WHAT_IS_LEFT
    return round(min(longest, max(POLL_AFTER_SHORTEST_MS, hint)))


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
