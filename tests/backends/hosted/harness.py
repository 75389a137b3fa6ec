"""What every hosted provider's tests share: a fake clock and a run that records progress."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openreel.backends.hosted.base import HostedBackend
from openreel.domain import VideoRequest


class FakeTime:
    """A clock that only moves when the backend sleeps: retries and polls take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(
    backend: HostedBackend,
    request: VideoRequest,
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[list[np.ndarray], list[int]]:
    """All frames of ``request`` and every progress count reported on the way."""
    seen: list[int] = []
    frames = list(backend.generate(request, lambda done, _total: seen.append(done), cancelled))
    return frames, seen
