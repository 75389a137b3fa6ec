"""The fal queue client and its backend, against a scripted fake fal (no network, no sleeping)."""

from __future__ import annotations

import json
import logging

import httpx
import numpy as np
import pytest

from openreel.backends.hosted.base import HostedBackend, PollPolicy
from openreel.backends.hosted.fal import MODELS, FalClient, build_fal
from openreel.domain import VideoRequest
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    InvalidRequestError,
    ModerationBlockedError,
)

from .fake_fal import CDN, KEY, FakeFal
from .harness import FakeTime
from .harness import run as _run


def _backend(fake: FakeFal, time: FakeTime, policy: PollPolicy | None = None) -> HostedBackend:
    return build_fal(
        KEY,
        transport=fake.transport(),
        policy=policy or PollPolicy(interval_s=2.0, retries=3, deadline_s=600),
        sleep=time.sleep,
        clock=time.clock,
    )


def _request(**kw: object) -> VideoRequest:
    args: dict[str, object] = {
        "prompt": "a lighthouse at dusk",
        "model": "fal/ltx-video",
        "seconds": 1.0,
        "width": 768,
        "height": 512,
        "fps": 24,
        "seed": 3,
    }
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


def test_fal_success_fits_frames_to_the_request_and_progress_only_rises() -> None:
    fake, time = FakeFal(), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 24
    assert all(f.shape == (512, 768, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)
    assert seen[-1] == 24
    # fal gives no poll hint: 2 s between the 4 polls (queued, running x2, completed).
    assert time.now == 6.0
    reds = [int(f[256, 384, 0]) for f in frames]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]


def test_fal_sends_the_key_header_and_the_apps_input_exactly() -> None:
    fake = FakeFal()
    _run(_backend(fake, FakeTime()), _request(negative_prompt="blurry"))
    assert fake.jobs["req-1"].body == {
        "prompt": "a lighthouse at dusk",
        "seed": 3,
        "negative_prompt": "blurry",
    }
    assert fake.jobs["req-1"].app == "fal-ai/ltx-video"
    assert set(fake.auth_headers) == {f"Key {KEY}"}
    assert fake.requests[0] == "POST /fal-ai/ltx-video"
    assert "GET /fal-ai/ltx-video/requests/req-1/status" in fake.requests
    assert fake.requests[-1] == "GET /fal-ai/ltx-video/requests/req-1"


def test_fal_wan_input_and_the_returned_urls_under_the_apps_root() -> None:
    fake = FakeFal()
    request = _request(model="fal/wan-t2v", width=832, height=480, fps=16, seed=11)
    frames, _ = _run(_backend(fake, FakeTime()), request)
    assert len(frames) == 16
    assert frames[0].shape == (480, 832, 3)
    assert fake.jobs["req-1"].body == {
        "prompt": "a lighthouse at dusk",
        "num_frames": 17,
        "frames_per_second": 16,
        "resolution": "480p",
        "aspect_ratio": "16:9",
        "seed": 11,
    }
    assert fake.requests[0] == "POST /fal-ai/wan/v2.2-a14b/text-to-video"
    # Polled where fal said, not under the full app path.
    assert "GET /fal-ai/wan/requests/req-1/status" in fake.requests


def test_fal_wan_portrait_720p_asks_for_720p_9_16() -> None:
    fake = FakeFal()
    request = _request(model="fal/wan-t2v", width=720, height=1280, fps=16, seconds=0.5)
    _run(_backend(fake, FakeTime()), request)
    body = fake.jobs["req-1"].body
    assert (body["resolution"], body["aspect_ratio"], body["num_frames"]) == ("720p", "9:16", 17)


def test_fal_catalogue_limits_are_checked_at_admission() -> None:
    backend = build_fal(KEY, transport=FakeFal().transport())
    assert backend.models == ("fal/ltx-video", "fal/wan-t2v")
    assert [m.id for m in MODELS] == list(backend.models)
    assert not any(m.capabilities.deterministic for m in MODELS)
    backend.check(_request())
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(seconds=8.0))
    assert info.value.param == "seconds"
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(model="fal/wan-t2v", width=1920, height=1080))
    assert info.value.param == "size"
    assert backend.describe(_request(model="fal/wan-t2v", width=1280, height=720)) == {
        "provider": "fal",
        "remote_model": "fal-ai/wan/v2.2-a14b/text-to-video",
    }


def test_fal_refusal_at_submit_is_moderation_blocked_with_the_reason() -> None:
    with pytest.raises(ModerationBlockedError) as info:
        _run(_backend(FakeFal(refuse_at_submit=True), FakeTime()), _request())
    assert info.value.category == "provider"
    assert "flagged as violating the content policy" in info.value.message


def test_fal_refusal_on_completion_is_moderation_blocked_with_the_reason() -> None:
    with pytest.raises(ModerationBlockedError) as info:
        _run(_backend(FakeFal(refuse_later=True), FakeTime()), _request())
    assert info.value.category == "provider"
    assert "safety checker as NSFW" in info.value.message


def test_fal_failure_is_a_backend_error_naming_the_cause() -> None:
    with pytest.raises(BackendError, match="CUDA out of memory") as info:
        _run(_backend(FakeFal(fail_later=True), FakeTime()), _request())
    assert not isinstance(info.value, ModerationBlockedError)


def test_fal_429_waits_for_retry_after_then_succeeds() -> None:
    fake, time = FakeFal(throttle_first=2, retry_after="7"), FakeTime()
    frames, _ = _run(_backend(fake, time), _request())
    assert len(frames) == 24
    assert time.sleeps[:2] == [1.0] * 2  # cancel checks every second while waiting...
    assert time.now >= 14  # ...for two Retry-After waits of 7 s
    assert fake.requests[:3] == ["POST /fal-ai/ltx-video"] * 3


def test_fal_5xx_timeouts_and_bad_json_are_retried_then_bounded() -> None:
    frames, _ = _run(
        _backend(FakeFal(server_errors=1, timeouts=1, malformed=1), FakeTime()), _request()
    )
    assert len(frames) == 24
    fake = FakeFal(server_errors=10)
    with pytest.raises(BackendError, match="kept failing") as info:
        _run(_backend(fake, FakeTime()), _request())
    assert info.value.code == "backend_unavailable"
    assert len(fake.requests) == 4  # the first try and three retries
    with pytest.raises(BackendError, match="kept failing"):
        _run(_backend(FakeFal(timeouts=10), FakeTime()), _request())


def test_fal_expired_result_url_says_so_without_leaking_the_url() -> None:
    fake = FakeFal(url_expired=True)
    with pytest.raises(BackendError, match="expired") as info:
        _run(_backend(fake, FakeTime()), _request())
    assert "sig=" not in info.value.message
    assert KEY not in info.value.message


def test_fal_key_never_reaches_the_cdn() -> None:
    fake = FakeFal()
    _run(_backend(fake, FakeTime()), _request())
    assert fake.cdn_auth == [""]  # fetched once, with no Authorization header at all


def test_fal_bad_key_is_unavailable_to_users_and_logged_for_admins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailableError) as info:
        _run(_backend(FakeFal(wrong_key=True), FakeTime()), _request())
    assert "unavailable" in info.value.message
    assert "credentials" in caplog.text
    assert KEY not in info.value.message
    assert KEY not in caplog.text


def test_fal_cancel_while_waiting_calls_the_providers_cancel() -> None:
    fake, time = FakeFal(never_finish=True), FakeTime()
    with pytest.raises(CancelledError):
        _run(_backend(fake, time), _request(), cancelled=lambda: time.now >= 5)
    assert fake.jobs["req-1"].cancelled
    assert "PUT /fal-ai/ltx-video/requests/req-1/cancel" in fake.requests
    assert time.now < 7  # noticed within a second or so


def test_fal_deadline_cancels_the_remote_request() -> None:
    fake, time = FakeFal(never_finish=True), FakeTime()
    policy = PollPolicy(interval_s=2.0, retries=3, deadline_s=30)
    with pytest.raises(BackendError, match="did not finish within 30 s"):
        _run(_backend(fake, time, policy), _request())
    assert fake.jobs["req-1"].cancelled


def test_fal_urls_on_another_host_are_ignored_so_the_key_stays_home() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.url.path))
        if request.method == "POST":
            evil = "https://evil.example/requests/r1"
            return httpx.Response(
                200,
                json={
                    "request_id": "r1",
                    "status_url": f"{evil}/status",
                    "response_url": evil,
                    "cancel_url": f"{evil}/cancel",
                },
            )
        return httpx.Response(200, json={"status": "IN_QUEUE", "queue_position": 0})

    client = FalClient(KEY, transport=httpx.MockTransport(handler))
    job_id = client.submit("fal-ai/wan/v2.2-a14b/text-to-video", _request(model="fal/wan-t2v"))
    assert client.status(job_id).state == "queued"
    client.cancel(job_id)
    assert seen[1:] == [
        ("queue.fal.run", "/fal-ai/wan/requests/r1/status"),
        ("queue.fal.run", "/fal-ai/wan/requests/r1/cancel"),
    ]
    assert CDN not in {host for host, _ in seen}


def test_fal_completed_result_with_a_policy_error_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "r1"})
        if request.url.path.endswith("/status"):
            return httpx.Response(200, json={"status": "COMPLETED"})
        return httpx.Response(
            200,
            json={"error": {"msg": "output blocked"}, "error_type": "content_policy_violation"},
        )

    client = FalClient(KEY, transport=httpx.MockTransport(handler))
    job = client.status(client.submit("fal-ai/ltx-video", _request()))
    assert (job.state, job.message) == ("refused", "output blocked")


def test_fal_unprocessable_input_is_a_backend_error_with_fals_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        detail = [{"loc": ["body", "num_frames"], "msg": "must be <= 161", "type": "value_error"}]
        return httpx.Response(422, content=json.dumps({"detail": detail}).encode())

    client = FalClient(KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(BackendError, match="must be <= 161"):
        client.submit("fal-ai/ltx-video", _request())
