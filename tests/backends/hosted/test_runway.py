"""The Runway client and backend, against a scripted fake Runway API and CDN, and held to
Runway's own SDK (``runwayml``): every body it builds, every status it maps, its retry rule."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import runwayml
from PIL import Image
from runwayml.types.image_to_video_create_params import ImageToVideoCreateParams
from runwayml.types.task_retrieve_response import TaskRetrieveResponse
from runwayml.types.text_to_video_create_params import TextToVideoCreateParams
from runwayml.types.video_to_video_create_params import VideoToVideoCreateParams
from tests.support.hosted import sdk
from tests.support.hosted.fake_runway import API_HOST, KEY, VERSION, FakeRunway
from tests.support.hosted.harness import FakeTime, make_mp4
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import RUNWAY

from openreel.backends.hosted.base import TransientProviderError
from openreel.backends.hosted.runway import (
    ACCEPTS,
    DURATIONS,
    MODELS,
    VIDEO_LIMIT,
    RunwayBackend,
    RunwayClient,
    endpoint,
    task_body,
)
from openreel.domain import ImageInput, SourceVideo, VideoRequest
from openreel.errors import (
    BackendError,
    InvalidRequestError,
)

_backend = RUNWAY.backend
_request = RUNWAY.request


def test_runway_success_fits_frames_to_the_request_and_progress_only_rises() -> None:
    fake, time = FakeRunway(progress=[0.1, 0.6, 0.3, 0.9]), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 48
    assert all(f.shape == (720, 1280, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)  # Runway's 0.6 -> 0.3 never shows as going back
    assert seen[-1] == 48
    assert max(s for s in seen if s < 48 * 0.9) >= int(48 * 0.9 * 0.6)  # 0-1 read as 0-100
    # Runway's 6 s pace, not our 2 s default.
    assert time.sleeps
    assert set(time.sleeps) == {1.0}  # waits are sliced into cancel checks of 1 s...
    assert time.now == pytest.approx(6.0 * 4)  # ...adding up to 6 s after each of 4 polls
    # The source is 12 fps, ours 24: each source frame is shown twice, in order (its red
    # channel rises by 20 a frame and wraps after 12 frames, one second).
    reds = [int(f[360, 640, 0]) for f in frames[:24]]
    assert reds == sorted(reds)
    assert reds[0] == reds[1]
    assert reds[0] != reds[-1]


def test_runway_sends_the_exact_camelcase_body_and_the_version_header() -> None:
    fake, time = FakeRunway(), FakeTime()
    request = _request(
        model="runway/veo3.1",
        seconds=4.0,
        width=720,
        height=1280,
        seed=123,
        negative_prompt="blurry",
    )
    _run(_backend(fake, time), request)
    assert fake.tasks["task-0001"].body == {
        "model": "veo3.1",
        "promptText": "a lighthouse at dusk",
        "ratio": "720:1280",
        "duration": 4,
        "seed": 123,
        "negativePrompt": "blurry",
        "audio": False,
    }
    assert fake.requests[0] == "POST /v1/text_to_video"
    assert all(h["x-runway-version"] == VERSION for h in fake.headers)
    assert all(h["authorization"] == f"Bearer {KEY}" for h in fake.headers)


@pytest.mark.parametrize(
    ("model", "seconds", "image"),
    [("runway/gen4.5", 5.0, False), ("runway/gen4.5", 5.0, True), ("runway/gen4_turbo", 5.0, True)],
)
def test_runway_gen45_and_gen4_turbo_send_the_seed_their_schemas_take(
    model: str, seconds: float, image: bool
) -> None:
    fake = FakeRunway()
    reference = _png() if image else None
    _run(
        _backend(fake, FakeTime()),
        _request(model=model, seconds=seconds, seed=9, input_reference=reference),
    )
    body = fake.tasks["task-0001"].body
    assert body["seed"] == 9  # the same seed makes the same video again
    assert body["duration"] == 5


def test_runway_statuses_map_to_remote_jobs() -> None:
    fake = FakeRunway(pending_polls=1, throttled_polls=1, progress=[0.25])
    client = RunwayClient(KEY, base_url=f"https://{API_HOST}", transport=fake.transport())
    task = client.submit("gen4.5", _request())
    jobs = [client.status(task) for _ in range(4)]
    assert [j.state for j in jobs] == ["queued", "queued", "running", "succeeded"]
    assert jobs[2].progress == pytest.approx(25.0)
    assert all(j.poll_after_s == 6.0 for j in jobs)
    client.cancel(task)
    assert client.status(task).state == "cancelled"
    client.close()


def test_runway_throttled_then_running_succeeds() -> None:
    fake, time = FakeRunway(throttled_polls=3), FakeTime()
    frames, seen = _run(_backend(fake, time), _request())
    assert len(frames) == 48
    assert seen == sorted(seen)
    # Three THROTTLED, three RUNNING, SUCCEEDED, then the download reads the task once more.
    assert fake.tasks["task-0001"].polls == 3 + 3 + 1 + 1


def test_runway_bad_request_is_a_backend_error_with_runways_message() -> None:
    # 9 s is not a Veo length; the backend would refuse it first, so the client is asked.
    client = RunwayClient(KEY, base_url=f"https://{API_HOST}", transport=FakeRunway().transport())
    with pytest.raises(BackendError, match="duration: Input should be 4, 6 or 8") as info:
        client.submit("veo3.1", _request(model="runway/veo3.1", seconds=9.0))
    assert info.value.code == "backend_error"
    client.close()


def test_runway_catalogue_and_limits() -> None:
    backend = _backend(FakeRunway(), FakeTime())
    assert isinstance(backend, RunwayBackend)
    assert backend.models == (
        "runway/gen4.5",
        "runway/veo3.1",
        "runway/veo3.1_fast",
        "runway/kling2.5_turbo_pro",
        "runway/seedance2",
        "runway/wan3",
        "runway/gen4_turbo",
        "runway/aleph2",
    )
    assert all(not m.capabilities.deterministic for m in MODELS)
    makers = [m for m in MODELS if m.capabilities.create]
    assert all(m.capabilities.image_input for m in makers)  # via image_to_video
    assert backend.describe(_request()) == {"provider": "runway", "remote_model": "gen4.5"}

    for ok in (
        _request(seconds=2.0),
        _request(seconds=10.0, width=720, height=1280),
        _request(model="runway/veo3.1", seconds=8.0, width=1920, height=1080),
        _request(model="runway/veo3.1_fast", seconds=6.0, width=1080, height=1920),
        _request(model="runway/kling2.5_turbo_pro", seconds=10.0),
        _request(model="runway/seedance2", seconds=15.0),
        _request(model="runway/wan3", seconds=10.0, width=720, height=1280),
        _request(
            model="runway/gen4_turbo", seconds=5.0, width=960, height=960, input_reference=_png()
        ),
    ):
        backend.check(ok)

    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(model="runway/veo3.1", seconds=7.0))
    assert info.value.param == "seconds"
    assert "must be one of 4, 6, 8 for model runway/veo3.1" in info.value.message

    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(width=1920, height=1080))
    assert info.value.param == "size"
    assert "runway/gen4.5" in info.value.message

    with pytest.raises(InvalidRequestError, match="whole number from 2 to 10") as info:
        backend.check(_request(seconds=2.5))
    assert info.value.param == "seconds"

    with pytest.raises(InvalidRequestError, match="one of 5, 10") as info:
        backend.check(_request(model="runway/kling2.5_turbo_pro", seconds=6.0))
    assert info.value.param == "seconds"

    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(seconds=12.0))
    assert info.value.param == "seconds"

    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(prompt="x" * 1001))
    assert info.value.param == "prompt"


def _png(size: tuple[int, int] = (64, 36)) -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "PNG")
    return ImageInput(buffer.getvalue(), "image/png", *size)


def test_runway_reference_image_goes_to_image_to_video_as_a_data_uri() -> None:
    fake, image = FakeRunway(), _png()
    frames, _ = _run(_backend(fake, FakeTime()), _request(seconds=5.0, input_reference=image))
    assert len(frames) == 5 * 24
    assert fake.requests[0] == "POST /v1/image_to_video"
    body = fake.tasks["task-0001"].body
    assert body["promptImage"] == "data:image/png;base64," + base64.b64encode(image.data).decode()
    assert body["promptText"] == "a lighthouse at dusk"


def test_runway_refuses_a_reference_image_over_its_limit_naming_input_reference() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (1500, 1500, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    big = ImageInput(buffer.getvalue(), "image/png", 1500, 1500)
    with pytest.raises(InvalidRequestError) as info:
        _backend(FakeRunway(), FakeTime()).check(_request(seconds=5.0, input_reference=big))
    assert info.value.param == "input_reference"
    assert "at most 5 MB" in info.value.message


def test_runway_gen4_turbo_needs_an_image_and_goes_to_image_to_video() -> None:
    backend = _backend(FakeRunway(), FakeTime())
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(model="runway/gen4_turbo", seconds=5.0))
    assert info.value.param == "input_reference"
    assert "makes video from an image" in info.value.message
    fake = FakeRunway()
    request = _request(
        model="runway/gen4_turbo", seconds=5.0, width=1584, height=672, input_reference=_png()
    )
    frames, _ = _run(_backend(fake, FakeTime()), request)
    assert fake.requests[0] == "POST /v1/image_to_video"
    assert fake.tasks["task-0001"].body["ratio"] == "1584:672"
    assert frames[0].shape == (672, 1584, 3)


def test_runway_seedance2_takes_up_to_15_whole_seconds() -> None:
    backend = _backend(FakeRunway(), FakeTime())
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(model="runway/seedance2", seconds=3.0))
    assert info.value.param == "seconds"
    assert "whole number from 4 to 15" in info.value.message


# ----- held to Runway's own SDK (runwayml, the dev extra) ---------------------------------

_OPTIONAL = frozenset({"ratio", "seed", "negativePrompt", "audio"})
_SCHEMAS = {
    "/v1/text_to_video": TextToVideoCreateParams,
    "/v1/image_to_video": ImageToVideoCreateParams,
}


def test_runway_accepts_table_is_the_sdks_schema_for_every_model() -> None:
    for model in MODELS:
        assert model.remote in ACCEPTS, model.remote
        for path, schema in _SCHEMAS.items():
            member = sdk.member_for(schema, "model", model.remote)
            accepts = ACCEPTS[model.remote].get(path)
            # Offered on an endpoint exactly when the SDK lists the model there.
            assert (member is None) == (accepts is None), (model.remote, path)
            if member is not None and accepts is not None:
                assert accepts == _OPTIONAL & set(sdk.wire_fields(member)), (model.remote, path)


def _bodies() -> list[tuple[str, VideoRequest]]:
    cases: list[tuple[str, VideoRequest]] = []
    backend = _backend(FakeRunway(), FakeTime())
    for model in MODELS:
        if not model.capabilities.create:  # aleph2 only edits (tested below)
            continue
        lengths = DURATIONS[model.id]
        for size in model.capabilities.sizes:
            width, height = (int(side) for side in size.split("x"))
            for seconds in (lengths[0], lengths[-1]):
                for image in (None, _png()):
                    for negative in ("", "blurry"):
                        request = _request(
                            model=model.id,
                            seconds=float(seconds),
                            width=width,
                            height=height,
                            seed=4294967295,
                            negative_prompt=negative,
                            input_reference=image,
                        )
                        try:
                            backend.check(request)
                        except InvalidRequestError:
                            continue  # refused at admission: never sent
                        cases.append((model.remote, request))
    return cases


def test_runway_every_admitted_body_is_valid_for_the_sdks_schema() -> None:
    cases = _bodies()
    assert {remote for remote, _ in cases} == {m.remote for m in MODELS if m.capabilities.create}
    assert any(r.input_reference is not None for _, r in cases)
    for remote, request in cases:
        body = task_body(remote, request)
        issues = sdk.body_issues(_SCHEMAS[endpoint(request)], body, discriminator="model")
        assert issues == [], (remote, request.size, request.seconds, body.keys(), issues)
        if "seed" in ACCEPTS[remote][endpoint(request)]:
            assert body["seed"] == request.seed % (1 << 32)
        else:
            assert "seed" not in body


def test_runway_wan3_image_to_video_asks_for_the_auto_ratio_of_keyframes() -> None:
    request = _request(model="runway/wan3", seconds=5.0, input_reference=_png())
    assert task_body("wan3", request)["ratio"] == "auto_720p"
    assert task_body("wan3", _request(model="runway/wan3", seconds=5.0))["ratio"] == "1280:720"
    kling = _request(model="runway/kling2.5_turbo_pro", seconds=5.0, input_reference=_png())
    assert "ratio" not in task_body("kling2.5_turbo_pro", kling)  # its i2v schema has none


def test_runway_maps_every_status_the_sdk_knows_and_the_fake_answers_them() -> None:
    statuses = sdk.model_literal(TaskRetrieveResponse, "status")
    assert statuses == {"PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"}
    fake = FakeRunway(pending_polls=1, throttled_polls=1, progress=[0.5], fail_later=True)
    client = RunwayClient(KEY, base_url=f"https://{API_HOST}", transport=fake.transport())
    task = client.submit("gen4.5", _request())
    seen = [client.status(task).state for _ in range(4)]  # each answer checked by the fake
    assert seen == ["queued", "queued", "running", "failed"]
    client.cancel(task)
    assert client.status(task).state == "cancelled"
    client.close()


def test_runway_prompt_limits_hold_for_gen4_turbo_too() -> None:
    backend = _backend(FakeRunway(), FakeTime())
    long = "x" * 1001
    with pytest.raises(InvalidRequestError, match="at most 1000 UTF-16") as info:
        backend.check(
            _request(model="runway/gen4_turbo", seconds=5.0, prompt=long, input_reference=_png())
        )
    assert info.value.param == "prompt"
    with pytest.raises(InvalidRequestError, match="at most 3500"):
        backend.check(_request(model="runway/seedance2", seconds=5.0, prompt="y" * 3501))
    backend.check(_request(model="runway/seedance2", seconds=5.0, prompt="y" * 3500))
    # An astral character is two UTF-16 code units, as Runway counts them.
    with pytest.raises(InvalidRequestError, match="got 1002"):
        backend.check(_request(prompt="🎬" * 501))


def test_runway_retries_409_as_its_sdk_does() -> None:
    fake, time = FakeRunway(conflicts=2), FakeTime()
    frames, _ = _run(_backend(fake, time), _request())
    assert len(frames) == 48
    assert fake.requests[:3] == ["POST /v1/text_to_video"] * 3
    assert len(fake.tasks) == 1


@pytest.mark.parametrize(
    ("status", "header", "retried"),
    [
        (409, None, True),
        (408, None, True),
        (429, None, True),
        (500, None, True),
        (400, None, False),
        (404, None, False),
        (400, "true", True),
        (503, "false", False),
    ],
)
def test_runway_retry_rule_is_the_sdks(status: int, header: str | None, retried: bool) -> None:
    headers = {"x-should-retry": header} if header else {}
    response = httpx.Response(status, json={"error": "e"}, headers=headers)
    response.request = httpx.Request("GET", f"https://{API_HOST}/v1/tasks/x")
    runway = runwayml.RunwayML(api_key=KEY, base_url=f"https://{API_HOST}")
    assert runway._should_retry(response) is retried  # the SDK's own rule
    client = RunwayClient(
        KEY, base_url=f"https://{API_HOST}", transport=httpx.MockTransport(lambda request: response)
    )
    with pytest.raises((TransientProviderError, BackendError)) as info:
        client.status("x")
    assert isinstance(info.value, TransientProviderError) is retried
    client.close()


def test_runway_sound_is_asked_for_by_the_models_whose_schema_has_audio() -> None:
    for model in MODELS:
        takes_audio = any("audio" in fields for fields in ACCEPTS[model.remote].values())
        assert model.capabilities.audio == takes_audio, model.id
    fake = FakeRunway()
    request = _request(model="runway/veo3.1", seconds=4.0, width=1280, height=720, audio=True)
    _run(_backend(fake, FakeTime()), request)
    assert fake.tasks["task-0001"].body["audio"] is True
    with pytest.raises(InvalidRequestError) as info:
        _backend(FakeRunway(), FakeTime()).check(
            _request(model="runway/gen4.5", seconds=4.0, audio=True)
        )
    assert info.value.param == "audio"
    assert "runway/gen4.5" in info.value.message


def _edit(tmp_path: Path, data: bytes, suffix: str = ".mp4", **kw: object) -> VideoRequest:
    """An edit for runway/aleph2 of ``data``, kept where a worker keeps an upload."""
    source = tmp_path / f"source{suffix}"
    source.write_bytes(data)
    args: dict[str, Any] = {
        "model": "runway/aleph2",
        "seconds": 2.0,
        "width": 320,
        "height": 180,
        "fps": 12,
        "operation": "edit",
        "source": SourceVideo(str(source), frames=24, fps=12.0, width=320, height=180),
    }
    return _request(**(args | kw))


def test_runway_edits_with_its_video_to_video_sending_the_video_as_a_data_uri(
    tmp_path: Path,
) -> None:
    fake, time = FakeRunway(), FakeTime()
    data = make_mp4(2.0)
    request = _edit(tmp_path, data, prompt="make it snow", seed=5)
    backend = _backend(fake, time)
    backend.check(request)
    frames, _ = _run(backend, request)
    assert len(frames) == 24
    assert frames[0].shape == (180, 320, 3)
    assert fake.requests[0] == "POST /v1/video_to_video"
    body = fake.tasks["task-0001"].body
    assert body == {
        "model": "aleph2",
        "videoUri": "data:video/mp4;base64," + base64.b64encode(data).decode("ascii"),
        "promptText": "make it snow",
        "seed": 5,
    }
    assert sdk.body_issues(VideoToVideoCreateParams, body, discriminator="model") == []
    webm = task_body("aleph2", _edit(tmp_path, data, suffix=".webm"))
    assert str(webm["videoUri"]).startswith("data:video/webm;base64,")


def test_runway_refuses_a_video_over_its_data_uri_limit_naming_video(tmp_path: Path) -> None:
    fake, time = FakeRunway(), FakeTime()
    request = _edit(tmp_path, bytes(VIDEO_LIMIT * 3 // 4 + 1))
    with pytest.raises(InvalidRequestError) as info:
        _run(_backend(fake, time), request)
    assert info.value.param == "video"
    assert "5 MB" in info.value.message
    assert "runway/aleph2" in info.value.message
    assert fake.tasks == {}  # nothing was sent


def test_runway_other_models_refuse_edits_and_aleph2_refuses_creates(tmp_path: Path) -> None:
    backend = _backend(FakeRunway(), FakeTime())
    edit = _edit(tmp_path, make_mp4(1.0))
    with pytest.raises(InvalidRequestError) as info:
        backend.check(replace(edit, model="runway/gen4.5", width=1280, height=720))
    assert info.value.param == "model"
    assert "runway/gen4.5" in info.value.message
    with pytest.raises(InvalidRequestError) as info:
        backend.check(replace(edit, operation="create", source=None))
    assert info.value.param == "model"
    assert "only edits" in info.value.message
