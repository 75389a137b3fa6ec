"""The Luma Dream Machine client and its backend, against a scripted fake Luma, and held to
Luma's own SDK (``lumaai``): bodies, states, retries, and what its delete does not promise."""

from __future__ import annotations

import httpx
import lumaai
import numpy as np
import pytest
from lumaai.types.generation import Generation
from lumaai.types.generation_create_params import GenerationCreateParams
from lumaai.types.generations.video_modify_params import VideoModifyParams
from tests.support.hosted import sdk
from tests.support.hosted.fake_luma import KEY, PREFIX, FakeLuma
from tests.support.hosted.harness import FakeTime, make_mp4
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import LUMA

from openreel.backends.hosted.base import TransientProviderError
from openreel.backends.hosted.luma import (
    MODELS,
    MODIFY_MODE,
    LumaClient,
    build_luma,
    generation_body,
    modify_body,
)
from openreel.domain import SourceVideo, VideoRequest
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


# ----- held to Luma's own SDK (lumaai, the dev extra) -------------------------------------


def test_luma_every_body_is_valid_for_the_sdks_params() -> None:
    backend = build_luma(KEY, transport=FakeLuma().transport())
    checked = 0
    for model in MODELS:
        for size in model.capabilities.sizes:
            width, height = (int(side) for side in size.split("x"))
            for seconds in (1.0, 5.0, 5.5, model.capabilities.max_seconds):
                request = _request(model=model.id, width=width, height=height, seconds=seconds)
                backend.check(request)
                body = generation_body(model.remote, request)
                assert sdk.body_issues(GenerationCreateParams, body) == [], (model.id, size)
                assert body["duration"] in sdk.literal_values(
                    sdk.wire_fields(GenerationCreateParams)["duration"][1]
                )
                checked += 1
    assert checked == len(MODELS) * len(MODELS[0].capabilities.sizes) * 4


def test_luma_maps_every_state_of_the_sdks_generation() -> None:
    states = sdk.model_literal(Generation, "state")
    assert states == {"queued", "dreaming", "completed", "failed"}
    mapped = {}
    for state in states:
        reply = {"id": GEN, "state": state, "assets": {"video": "https://x/v.mp4"}}
        client = LumaClient(
            KEY, transport=httpx.MockTransport(lambda request, r=reply: httpx.Response(200, json=r))
        )
        mapped[state] = client.status(GEN).state
        client.close()
    assert mapped == {
        "queued": "queued",
        "dreaming": "running",
        "completed": "succeeded",
        "failed": "failed",
    }


def test_luma_cancel_removes_the_generation_and_says_it_may_still_be_billed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeLuma(never_finish=True)
    client = LumaClient(KEY, transport=fake.transport())
    job = client.submit("ray-2", _request())
    with caplog.at_level("WARNING", logger="openreel.backends.hosted.luma"):
        client.cancel(job)
    assert fake.requests[-1] == f"DELETE {PREFIX}/generations/{job}"
    assert fake.generations[job].deleted
    # Luma documents DELETE as removing a generation, not stopping one: the log says so.
    assert any("may still render and be billed" in r.getMessage() for r in caplog.records)
    client.close()


def test_luma_retries_409_and_x_should_retry_as_its_sdk_does() -> None:
    for status, header, retried in ((409, None, True), (400, "true", True), (503, "false", False)):
        headers = {"x-should-retry": header} if header else {}
        response = httpx.Response(status, json={"detail": "d"}, headers=headers)
        response.request = httpx.Request("GET", "https://api.lumalabs.ai/x")
        assert lumaai.LumaAI(auth_token=KEY)._should_retry(response) is retried
        client = LumaClient(KEY, transport=httpx.MockTransport(lambda request, r=response: r))
        with pytest.raises((TransientProviderError, BackendError)) as info:
            client.status(GEN)
        assert isinstance(info.value, TransientProviderError) is retried, status
        client.close()


# ----- edits: Luma's modify, by a link Luma fetches -------------------------------------


def _edit_request(url: str | None) -> VideoRequest:
    source = SourceVideo(
        path="/nowhere/source.mp4", frames=24, fps=24.0, width=640, height=360, url=url
    )
    return _request(
        model="luma/ray-flash-2",
        width=640,
        height=360,
        prompt="make it snow",
        operation="edit",
        source=source,
    )


def test_luma_modify_body_is_valid_for_the_sdks_params_and_needs_the_link() -> None:
    body = modify_body("ray-flash-2", _edit_request("https://reel.example/v1/videos/v/source"))
    assert sdk.body_issues(VideoModifyParams, body) == []
    assert body == {
        "generation_type": "modify_video",
        "model": "ray-flash-2",
        "mode": MODIFY_MODE,
        "prompt": "make it snow",
        "media": {"url": "https://reel.example/v1/videos/v/source"},
    }
    modes = sdk.literal_values(sdk.wire_fields(VideoModifyParams)["mode"][1])
    assert MODIFY_MODE in modes
    with pytest.raises(BackendError, match="OPENREEL_PUBLIC_URL"):
        modify_body("ray-flash-2", _edit_request(None))


def test_luma_edit_is_a_modify_whose_video_luma_fetches_from_the_link() -> None:
    served: list[str] = []

    def fetch(url: str) -> httpx.Response:
        served.append(url)
        return httpx.Response(200, content=make_mp4(), headers={"content-type": "video/mp4"})

    fake = FakeLuma(queued=0, dreaming=1, fetch=fetch)
    backend = build_luma(KEY, edits=True, transport=fake.transport(), sleep=FakeTime().sleep)
    caps = backend.capabilities("luma/ray-flash-2")
    assert (caps.edit, caps.source_url) == (True, True)
    request = _edit_request("https://reel.example/v1/videos/v/source?expires=1&signature=s")
    backend.check(request)  # the source's own size, though Luma makes no 640x360
    frames, _ = _run(backend, request)
    assert len(frames) == 24
    assert frames[0].shape == (360, 640, 3)
    assert fake.requests[0] == f"POST {PREFIX}/generations/video/modify"
    assert served == ["https://reel.example/v1/videos/v/source?expires=1&signature=s"]


def test_luma_edit_whose_link_fails_fails_with_lumas_reason() -> None:
    fake = FakeLuma(queued=0, dreaming=0, fetch=lambda url: httpx.Response(410))
    backend = build_luma(KEY, edits=True, transport=fake.transport(), sleep=FakeTime().sleep)
    with pytest.raises(BackendError, match="Failed to download media") as failed:
        _run(backend, _edit_request("https://reel.example/v1/videos/v/source"))
    assert not isinstance(failed.value, ModerationBlockedError)
    assert fake.fetched[0][1] == 410


def test_luma_without_links_refuses_edits_naming_the_setting() -> None:
    backend = build_luma(KEY, transport=FakeLuma().transport())
    assert "edit" not in backend.capabilities("luma/ray-2").operations
    with pytest.raises(InvalidRequestError, match="OPENREEL_PUBLIC_URL") as refused:
        backend.check(_edit_request("https://x/source"))
    assert refused.value.param == "model"
