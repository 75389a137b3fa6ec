"""The hosted loop and the ``/v1/videos`` upstream client, against a scripted fake upstream, and
held to OpenAI's SDK: the same multipart create, no DELETE posing as a cancel."""

from __future__ import annotations

import io
import logging
import threading

import httpx
import numpy as np
import openai
import openai.resources.videos
import pytest
from openai.types.video import Video
from PIL import Image
from tests.support.hosted import sdk
from tests.support.hosted.fake_upstream import KEY, FakeUpstream
from tests.support.hosted.harness import FakeTime, make_mp4
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import UPSTREAM, UPSTREAM_CAPS

from openreel.backends.base import soundtrack_of
from openreel.backends.hosted.base import HostedBackend, HostedModel, PollPolicy
from openreel.backends.hosted.listing import SharedListing
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.providers import build_registry
from openreel.config import ProviderKeys, Settings, UpstreamConfig
from openreel.domain import ImageInput
from openreel.errors import (
    CancelledError,
)

_backend = UPSTREAM.backend
_request = UPSTREAM.request


def test_upstream_success_fits_frames_to_the_request_and_progress_only_rises() -> None:
    fake, time = FakeUpstream(progress=[10, 60, 30, 90]), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 24
    assert all(f.shape == (360, 640, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)  # the provider's 60 -> 30 never shows as going back
    assert seen[-1] == 24
    assert fake.jobs["video_1"].body == {
        "model": "openreel-sketch",
        "prompt": "a lighthouse at dusk",
        "seconds": "1",
        "size": "640x360",
    }
    # The provider's openai-poll-after-ms (1 s) set the pace, not our 2 s default.
    assert time.sleeps
    assert set(time.sleeps) == {1.0}
    # The source is 12 fps, ours 24: each source frame is shown twice, in order.
    reds = [int(f[180, 320, 0]) for f in frames]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]


def test_upstream_models_are_registered_only_with_url_key_and_models(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def served(keyed: bool = True, **upstream: object) -> list[str]:
        keys = ProviderKeys(upstream=KEY) if keyed else ProviderKeys()  # type: ignore[arg-type]
        settings = Settings(upstream=UpstreamConfig(**upstream), providers=keys)  # type: ignore[arg-type]
        return [m.model for m in build_registry(settings).models()]

    assert served() == ["openreel-sketch"]
    with caplog.at_level(logging.WARNING, logger="openreel.backends.providers"):
        assert served(url="http://up.test/v1", models=["m1"], keyed=False) == ["openreel-sketch"]
    assert "OPENREEL_PROVIDERS__UPSTREAM is not: no upstream models" in caplog.text
    assert served(url="http://up.test/v1", models=["m1", "m2"]) == [
        "openreel-sketch",
        "upstream/m1",
        "upstream/m2",
    ]
    assert served(url="http://up.test/v1", models=["m1"], prefix="studio") == [
        "openreel-sketch",
        "studio/m1",
    ]


def _png() -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (250, 200, 10)).save(buffer, "PNG")
    return ImageInput(buffer.getvalue(), "image/png", 64, 36)


@pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
@pytest.mark.parametrize("image", [False, True])
def test_upstream_creates_as_the_openai_sdk_does_a_multipart_form(image: bool) -> None:
    fake = FakeUpstream()
    request = _request(input_reference=_png() if image else None)
    sdk_client = openai.OpenAI(
        api_key=KEY,
        base_url="http://upstream.test/v1",
        http_client=httpx.Client(transport=fake.transport()),
        max_retries=0,
    )
    reference = request.input_reference
    sdk_client.videos.create(
        prompt=request.prompt,
        model="openreel-sketch",
        seconds=f"{request.seconds:g}",  # type: ignore[arg-type]
        size=request.size,  # type: ignore[arg-type]
        **(
            {"input_reference": ("input_reference.png", reference.data, reference.media_type)}
            if reference is not None
            else {}
        ),
    )
    _run(_backend(fake, FakeTime()), request)
    ours, theirs = fake.jobs["video_2"], fake.jobs["video_1"]
    assert (
        ours.body
        == theirs.body
        == {
            "prompt": "a lighthouse at dusk",
            "model": "openreel-sketch",
            "seconds": "1",
            "size": "640x360",
        }
    )
    assert fake.files["video_2"] == fake.files["video_1"]
    if reference is not None:
        assert fake.files["video_2"]["input_reference"] == (
            "input_reference.png",
            "image/png",
            reference.data,
        )
    else:
        assert fake.files["video_2"] == {}


def test_upstream_never_sends_a_json_create() -> None:
    fake = FakeUpstream()
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport())
    client.submit("openreel-sketch", _request())
    assert fake.jobs["video_1"].body["prompt"] == "a lighthouse at dusk"  # the fake refuses JSON
    client.close()


def test_upstream_cancel_never_falls_back_to_delete(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeUpstream(cancel_route=False, never_finish=True)
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport())
    job = client.submit("openreel-sketch", _request())
    with caplog.at_level("WARNING", logger="openreel.backends.hosted.upstream"):
        client.cancel(job)
    assert fake.requests[-1] == f"POST /v1/videos/{job}/cancel"
    assert not any(r.startswith("DELETE") for r in fake.requests)
    assert any("may run to the end" in r.getMessage() for r in caplog.records)
    client.close()


def test_the_openai_sdk_has_no_video_cancel_and_delete_is_a_delete() -> None:
    # Why cancel is OpenReel's route and never DELETE: the SDK this API follows has none.
    assert not hasattr(openai.resources.videos.Videos, "cancel")
    doc = openai.resources.videos.Videos.delete.__doc__ or ""
    assert "delete a completed or failed video" in doc  # not a running one


def _slotted(slots: threading.Semaphore) -> HostedBackend:
    time = FakeTime()
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=FakeUpstream().transport())
    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", UPSTREAM_CAPS)
    policy = PollPolicy(interval_s=2.0, retries=3, deadline_s=600, cancel_check_s=0.05)
    return HostedBackend(
        "upstream", client, (model,), policy=policy, sleep=time.sleep, clock=time.clock,
        render_slots=slots,
    )  # fmt: skip


def test_finished_results_render_one_slot_at_a_time() -> None:
    slots = threading.Semaphore(1)
    first = _slotted(slots).generate(_request())
    next(first)  # the first result holds the only slot while it is rendered
    done: list[int] = []
    waiting = threading.Thread(
        target=lambda: done.append(len(list(_slotted(slots).generate(_request()))))
    )
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()
    assert not done
    rest = list(first)
    assert len(rest) == _request().frame_count - 1
    waiting.join(10)
    assert done == [_request().frame_count]


def test_waiting_for_a_render_slot_can_be_cancelled() -> None:
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 20

    with pytest.raises(CancelledError):
        list(_slotted(threading.Semaphore(0)).generate(_request(), cancelled=cancelled))


def test_upstream_maps_every_status_of_the_openai_sdks_video() -> None:
    statuses = sdk.model_literal(Video, "status")
    assert statuses == {"queued", "in_progress", "completed", "failed"}
    mapped = {}
    for status in statuses:
        video = {"id": "video_1", "status": status, "progress": 50}
        client = UpstreamClient(
            "http://upstream.test/v1",
            KEY,
            transport=httpx.MockTransport(lambda request, v=video: httpx.Response(200, json=v)),
        )
        client._listing = SharedListing(lambda wanted, pages: {})
        mapped[status] = client.status("video_1").state
        client.close()
    assert mapped == {
        "queued": "queued",
        "in_progress": "running",
        "completed": "succeeded",
        "failed": "failed",
    }


def test_upstream_sound_is_passed_through_in_step_with_the_picture() -> None:
    settings = Settings(
        upstream=UpstreamConfig(url="http://up.test/v1", models=["m1"]),
        providers=ProviderKeys(upstream=KEY),  # type: ignore[arg-type]
    )
    assert build_registry(settings).for_model("upstream/m1").capabilities("upstream/m1").audio
    fake = FakeUpstream(video=make_mp4(2.0, (640, 360), 12, click_at=0.5))
    clip = _backend(fake, FakeTime()).generate(_request(audio=True))
    frames = list(clip)
    track = soundtrack_of(clip)
    assert track is not None
    assert len(track.samples) == len(frames) * 48_000 // 24  # 1 s, as the picture
    onset = float(np.argmax(np.abs(track.samples[:, 0]) > 0.4)) / 48_000
    assert onset == pytest.approx(0.5, abs=0.003)
    quiet = _backend(FakeUpstream(video=make_mp4(2.0, (640, 360), 12, click_at=0.5)), FakeTime())
    muted = quiet.generate(_request(audio=False))
    list(muted)
    assert soundtrack_of(muted) is None
