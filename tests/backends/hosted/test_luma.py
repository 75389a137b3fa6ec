"""The Luma Dream Machine client and its backend, against a scripted fake Luma."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from tests.support.hosted.fake_luma import KEY, PREFIX, FakeLuma
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import LUMA

from openreel.backends.hosted.luma import MODELS, LumaClient, build_luma, generation_body
from openreel.errors import (
    BackendError,
    InvalidRequestError,
    ModerationBlockedError,
)

GEN = "0f3e0001-aaaa-bbbb-cccc-000000000000"


_backend = LUMA.backend
_request = LUMA.request


def test_luma_success_fits_frames_and_progress_never_goes_back() -> None:
    fake, time = FakeLuma(queued=2, dreaming=3), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 24
    assert all(f.shape == (540, 960, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)
    assert seen[-1] == 24
    # Two queued and three dreaming polls report no percentage; completed is 90%.
    assert seen[:6] == [0, 0, 0, 0, 0, 21]
    reds = [int(f[270, 480, 0]) for f in frames]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]
    assert time.now >= 15  # five polls three seconds apart


def test_luma_sends_the_bearer_header_and_the_body_exactly() -> None:
    fake = FakeLuma()
    _run(_backend(fake, FakeTime()), _request())
    assert fake.generations[GEN].body == {
        "model": "ray-2",
        "prompt": "a lighthouse at dusk",
        "aspect_ratio": "16:9",
        "duration": "5s",
        "resolution": "540p",
    }
    assert set(fake.auth_headers) == {f"Bearer {KEY}"}
    assert fake.requests[0] == f"POST {PREFIX}/generations/video"
    assert set(fake.requests[1:]) == {f"GET {PREFIX}/generations/{GEN}"}


@pytest.mark.parametrize(
    ("size", "seconds", "ratio", "duration", "resolution"),
    [
        ("1280x720", 5.0, "16:9", "5s", "720p"),
        ("720x1280", 5.5, "9:16", "9s", "720p"),
        ("1920x1080", 9.0, "16:9", "9s", "1080p"),
        ("1080x1920", 2.0, "9:16", "5s", "1080p"),
        ("540x960", 4.0, "9:16", "5s", "540p"),
    ],
)
def test_luma_body_maps_size_and_length(
    size: str, seconds: float, ratio: str, duration: str, resolution: str
) -> None:
    width, height = (int(v) for v in size.split("x"))
    request = _request(model="luma/ray-flash-2", width=width, height=height, seconds=seconds)
    build_luma(KEY, transport=FakeLuma().transport()).check(request)
    body = generation_body("ray-flash-2", request)
    assert (body["aspect_ratio"], body["duration"], body["resolution"]) == (
        ratio,
        duration,
        resolution,
    )
    assert body["model"] == "ray-flash-2"


def test_luma_catalogue_limits_are_checked_at_admission() -> None:
    backend = build_luma(KEY, transport=FakeLuma().transport())
    assert backend.models == ("luma/ray-2", "luma/ray-flash-2")
    assert [m.id for m in MODELS] == list(backend.models)
    assert [m.remote for m in MODELS] == ["ray-2", "ray-flash-2"]
    assert not any(m.capabilities.deterministic for m in MODELS)
    backend.check(_request(width=1920, height=1080, seconds=9.0))
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(seconds=10.0))
    assert info.value.param == "seconds"
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(width=1024, height=1024))
    assert info.value.param == "size"


def test_luma_dreaming_has_no_percentage_and_unknown_states_are_transient() -> None:
    replies = iter(["dreaming", "queued", "mystery"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "g", "state": next(replies)})

    client = LumaClient(KEY, transport=httpx.MockTransport(handler))
    job = client.status("g")
    assert (job.state, job.progress) == ("running", None)
    assert client.status("g").state == "queued"
    with pytest.raises(Exception, match="unknown state"):
        client.status("g")


def test_luma_bad_request_is_a_backend_error_with_the_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"detail": "aspect_ratio: invalid value '5:4'"})

    client = LumaClient(KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(BackendError, match="invalid value") as info:
        client.submit("ray-2", _request())
    assert not isinstance(info.value, ModerationBlockedError)
