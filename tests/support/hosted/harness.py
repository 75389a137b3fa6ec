"""What every hosted provider's fake and test share: a fake clock, a run that records
progress, the clip a fake serves, and the switches every scripted fake offers."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import httpx
import numpy as np

from openreel.backends.hosted.base import HostedBackend
from openreel.domain import VideoRequest


def make_mp4(
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 180),
    fps: int = 12,
    click_at: float | None = None,
) -> bytes:
    """A small H.264 clip whose frames change over time (so resampling is visible): the red
    channel rises by 20 a frame, so it wraps after 12 frames, one second. With ``click_at``
    it has sound as a provider sends it (AAC, here 44.1 kHz mono, so it must be resampled):
    silence with one click at that time."""
    width, height = size
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        if click_at is not None:
            _add_click(container, seconds, click_at)
        for index in range(round(seconds * fps)):
            rgb = np.zeros((height, width, 3), np.uint8)
            rgb[..., 0] = (index * 20) % 256
            rgb[:, : (index * 7) % width, 1] = 200
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _add_click(container: av.container.OutputContainer, seconds: float, at: float) -> None:
    rate = 44_100
    audio = container.add_stream("aac", rate=rate, layout="mono")
    wave = np.zeros((1, round(seconds * rate)), np.float32)
    start = round(at * rate)
    wave[0, start : start + 64] = 0.8
    frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
    for packet in [*audio.encode(frame), *audio.encode(None)]:
        container.mux(packet)


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
    """Switches and records shared by every scripted fake provider.

    Each fake answers these in its own provider's wire format (its status codes, error bodies
    and job states); the provider contract suite (tests/backends/hosted/
    test_provider_contract.py) drives them all through the same scenarios.

    Attributes:
        refuse_later: The job ends refused on content grounds.
        fail_later: The job ends failed for another reason.
        throttle_first: Answer this many requests with 429 (and ``retry_after`` where the
            provider sends Retry-After).
        server_errors: Answer this many requests with a 5xx.
        timeouts: Time out this many requests (a POST at connect, before it arrives;
            anything else waiting for the answer).
        malformed: Answer this many requests with broken JSON.
        create_read_timeouts: Make the job, then let this many creates time out waiting for
            the answer (the job exists, the client never hears of it).
        url_expired: The result's download says it is gone.
        wrong_key: Reject the key.
        never_finish: The job stays in progress.
        video: The MP4 the fake serves.
        requests: ``METHOD path`` of every API request.
        auth_headers: The Authorization header of every API request.
        cdn_requests: The headers of every request to the provider's CDN (a separate host
            that must never see the key).
    """

    refuse_later: bool = False
    fail_later: bool = False
    throttle_first: int = 0
    retry_after: str = "3"
    server_errors: int = 0
    timeouts: int = 0
    malformed: int = 0
    create_read_timeouts: int = 0
    url_expired: bool = False
    wrong_key: bool = False
    never_finish: bool = False
    video: bytes = field(default_factory=make_mp4)
    requests: list[str] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    cdn_requests: list[dict[str, str]] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def serve_cdn(
        self,
        request: httpx.Request,
        *,
        expired: httpx.Response,
        credentials_refused: str = "unexpected credentials",
    ) -> httpx.Response:
        """The provider's CDN: records every request's headers, refuses any that carries an
        Authorization header (a client leaking its key there fails loudly), answers
        ``expired`` (the provider's own reply) once ``url_expired`` is set, else the video."""
        self.cdn_requests.append(dict(request.headers))
        if "authorization" in request.headers:
            return httpx.Response(401, text=credentials_refused)
        if self.url_expired:
            return expired
        return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})

    def answer_lost(self, request: httpx.Request) -> None:
        """Called by a fake once it has made a job: with ``create_read_timeouts`` left, the
        answer to the create is lost on its way back."""
        if self.create_read_timeouts > 0:
            self.create_read_timeouts -= 1
            raise httpx.ReadTimeout("timed out", request=request)
