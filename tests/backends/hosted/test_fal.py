"""The fal queue client and its backend, against a scripted fake fal (no network, no sleeping),
held to fal's own client (``fal_client``): its retry rule and its status parser."""

from __future__ import annotations

import json

import fal_client
import fal_client.client
import httpx
import numpy as np
import pytest
from tests.support.hosted.fake_fal import CDN, KEY, FakeFal
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import FAL

from openreel.backends.hosted.base import TransientProviderError
from openreel.backends.hosted.fal import MODELS, FalClient, build_fal
from openreel.errors import (
    BackendError,
    InvalidRequestError,
)

_backend = FAL.backend
_request = FAL.request


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


# ----- held to fal's own client (fal_client, the dev extra) -------------------------------

_REPLIES = [
    (408, {}, "timeout"),
    (409, {}, "conflict"),
    (429, {"retry-after": "1"}, "slow down"),
    (500, {}, "nginx"),
    (502, {}, "<center>nginx</center>"),
    (503, {}, "<center>nginx</center>"),
    (504, {}, "<center>nginx</center>"),
    (502, {"x-fal-request-id": "r"}, "nginx"),
    (503, {"x-fal-request-id": "r"}, '{"detail": "runner unavailable"}'),
    (503, {}, '{"detail": "service unavailable"}'),
    (504, {"x-fal-request-timeout-type": "user"}, "<center>nginx</center>"),
    (504, {"x-fal-request-id": "r", "x-fal-request-timeout-type": "user"}, "timeout"),
    (400, {}, "bad"),
    (422, {}, "unprocessable"),
]


@pytest.mark.parametrize(("status", "headers", "text"), _REPLIES)
def test_fal_retries_exactly_the_replies_fal_client_retries(
    status: int, headers: dict[str, str], text: str
) -> None:
    response = httpx.Response(status, text=text, headers=headers)
    response.request = httpx.Request("GET", "https://queue.fal.run/fal-ai/x/requests/r/status")
    theirs = fal_client.client._should_retry(
        httpx.HTTPStatusError("e", request=response.request, response=response)
    )
    client = FalClient(KEY, transport=httpx.MockTransport(lambda request: response))
    client._urls["r"] = {"status": "https://queue.fal.run/s", "response": "", "cancel": ""}
    with pytest.raises((TransientProviderError, BackendError)) as info:
        client.status("r")
    assert isinstance(info.value, TransientProviderError) is theirs, (status, headers, text)
    client.close()


def test_fal_an_app_5xx_and_a_request_timeout_504_fail_without_retries() -> None:
    for switch in ("app_errors", "request_timeouts"):
        fake = FakeFal(**{switch: 1})
        with pytest.raises(BackendError) as info:
            _run(_backend(fake, FakeTime()), _request())
        assert info.value.code == "backend_error", switch
        assert fake.requests == ["POST /fal-ai/ltx-video"], switch  # sent once, not again
    fake = FakeFal(server_errors=2)  # the ingress's nginx 503: retried, as fal_client does
    frames, _ = _run(_backend(fake, FakeTime()), _request())
    assert len(frames) == 24
    assert fake.requests[:3] == ["POST /fal-ai/ltx-video"] * 3


def test_fal_maps_every_status_fal_client_knows() -> None:
    known = {cls.__name__ for cls in fal_client.Status.__subclasses__()}
    assert known == {"Queued", "InProgress", "Completed"}
    fake = FakeFal(running_polls=1)
    client = FalClient(KEY, transport=fake.transport())
    job = client.submit("fal-ai/ltx-video", _request())
    # Each answer is parsed by fal_client inside the fake before it reaches us.
    assert [client.status(job).state for _ in range(3)] == ["queued", "running", "succeeded"]
    client.close()
