"""What every hosted provider's tests share: a fake clock, a run that records progress, and the
switches every scripted fake provider offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import numpy as np

from openreel.backends.hosted.base import HostedBackend
from openreel.domain import VideoRequest

from .fake_upstream import make_mp4


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


@dataclass
class ScriptedProvider:
    """Switches and records shared by the scripted fakes of fal, Replicate and Luma.

    Attributes:
        refuse_later: The job ends refused on content grounds.
        fail_later: The job ends failed for another reason.
        throttle_first: Answer this many requests with 429 and ``retry_after``.
        server_errors: Answer this many requests with a 5xx.
        timeouts: Time out this many requests.
        malformed: Answer this many requests with broken JSON.
        url_expired: The CDN says the result is gone.
        wrong_key: Reject the key.
        never_finish: The job stays in progress.
        video: The MP4 the CDN serves.
        requests: ``METHOD path`` of every API request.
        auth_headers: The Authorization header of every API request.
        cdn_auth: The Authorization header of every CDN request (must stay empty).
    """

    refuse_later: bool = False
    fail_later: bool = False
    throttle_first: int = 0
    retry_after: str = "3"
    server_errors: int = 0
    timeouts: int = 0
    malformed: int = 0
    url_expired: bool = False
    wrong_key: bool = False
    never_finish: bool = False
    video: bytes = field(default_factory=make_mp4)
    requests: list[str] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    cdn_auth: list[str] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError
