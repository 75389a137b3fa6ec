"""The Luma Dream Machine client and its backend, against a scripted fake Luma."""

from __future__ import annotations

import logging

import httpx
import numpy as np
import pytest

from openreel.backends.hosted.base import HostedBackend, PollPolicy
from openreel.backends.hosted.luma import MODELS, LumaClient, build_luma, generation_body
from openreel.domain import VideoRequest
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    InvalidRequestError,
    ModerationBlockedError,
)

from .fake_luma import CDN, KEY, PREFIX, FakeLuma
from .harness import FakeTime
from .harness import run as _run

GEN = "0f3e0001-aaaa-bbbb-cccc-000000000000"


def _backend(fake: FakeLuma, time: FakeTime, policy: PollPolicy | None = None) -> HostedBackend:
    return build_luma(
        KEY,
        transport=fake.transport(),
        policy=policy or PollPolicy(interval_s=3.0, retries=3, deadline_s=600),
        sleep=time.sleep,
        clock=time.clock,
    )


def _request(**kw: object) -> VideoRequest:
    args: dict[str, object] = {
        "prompt": "a lighthouse at dusk",
        "model": "luma/ray-2",
        "seconds": 1.0,
        "width": 960,
        "height": 540,
        "fps": 24,
        "seed": 3,
    }
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


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


def test_luma_moderation_failure_is_moderation_blocked_with_the_reason() -> None:
    with pytest.raises(ModerationBlockedError) as info:
        _run(_backend(FakeLuma(refuse_later=True), FakeTime()), _request())
    assert info.value.category == "provider"
    assert "content moderation" in info.value.message


def test_luma_moderation_400_at_create_is_moderation_blocked() -> None:
    fake = FakeLuma(refuse_at_create=True)
    with pytest.raises(ModerationBlockedError) as info:
        _run(_backend(fake, FakeTime()), _request())
    assert info.value.category == "provider"
    assert "failed content moderation" in info.value.message
    assert fake.requests == [f"POST {PREFIX}/generations/video"]


def test_luma_failure_is_a_backend_error_naming_the_cause() -> None:
    with pytest.raises(BackendError, match="Internal error while rendering") as info:
        _run(_backend(FakeLuma(fail_later=True), FakeTime()), _request())
    assert not isinstance(info.value, ModerationBlockedError)


def test_luma_429_waits_for_retry_after_then_succeeds() -> None:
    fake, time = FakeLuma(throttle_first=2, retry_after="7"), FakeTime()
    frames, _ = _run(_backend(fake, time), _request())
    assert len(frames) == 24
    assert time.sleeps[:14] == [1.0] * 14  # two Retry-After waits of 7 s, cancel checked
    assert time.now >= 14
    assert fake.requests[:3] == [f"POST {PREFIX}/generations/video"] * 3
    assert len(fake.generations) == 1


def test_luma_5xx_timeouts_and_bad_json_are_retried_then_bounded() -> None:
    frames, _ = _run(
        _backend(FakeLuma(server_errors=1, timeouts=1, malformed=1), FakeTime()), _request()
    )
    assert len(frames) == 24
    fake = FakeLuma(server_errors=10)
    with pytest.raises(BackendError, match="kept failing") as info:
        _run(_backend(fake, FakeTime()), _request())
    assert info.value.code == "backend_unavailable"
    assert len(fake.requests) == 4
    with pytest.raises(BackendError, match="kept failing"):
        _run(_backend(FakeLuma(timeouts=10), FakeTime()), _request())


def test_luma_expired_video_url_says_so() -> None:
    with pytest.raises(BackendError, match="expired") as info:
        _run(_backend(FakeLuma(url_expired=True), FakeTime()), _request())
    assert KEY not in info.value.message
    assert CDN not in info.value.message


def test_luma_key_never_reaches_the_cdn() -> None:
    fake = FakeLuma()
    _run(_backend(fake, FakeTime()), _request())
    assert fake.cdn_auth == [""]


def test_luma_bad_key_is_unavailable_to_users_and_logged_for_admins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailableError) as info:
        _run(_backend(FakeLuma(wrong_key=True), FakeTime()), _request())
    assert "unavailable" in info.value.message
    assert "credentials" in caplog.text
    assert KEY not in info.value.message
    assert KEY not in caplog.text


def test_luma_cancel_while_waiting_deletes_the_generation() -> None:
    fake, time = FakeLuma(never_finish=True), FakeTime()
    with pytest.raises(CancelledError):
        _run(_backend(fake, time), _request(), cancelled=lambda: time.now >= 5)
    assert fake.generations[GEN].deleted
    assert f"DELETE {PREFIX}/generations/{GEN}" in fake.requests
    assert time.now < 7


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
