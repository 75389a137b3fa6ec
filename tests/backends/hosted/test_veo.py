"""Google Veo on Vertex through google-genai, against a scripted fake of the Vertex endpoint."""

from __future__ import annotations

import base64
import io
import sys

import pytest
from PIL import Image
from tests.support.hosted.fake_veo import PROJECT, TOKEN, FakeVeo
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import VEO

from openreel.backends.hosted.veo import INSTALL_HINT, build_veo
from openreel.backends.providers import build_registry
from openreel.config import ProviderKeys, Settings, VeoConfig
from openreel.domain import ImageInput
from openreel.errors import (
    BackendUnavailableError,
    InvalidRequestError,
)

_backend = VEO.backend
_request = VEO.request


def _sent(fake: FakeVeo) -> dict[str, object]:
    (operation,) = fake.operations.values()
    return operation.body


def test_veo_success_sends_vertex_fields_and_fits_frames() -> None:
    fake, time = FakeVeo(running=2), FakeTime()
    frames, seen = _run(_backend(fake, time), _request(negative_prompt="text, watermark"))
    assert len(frames) == 48
    assert frames[0].shape == (720, 1280, 3)
    assert seen == sorted(seen)
    assert seen[-1] == 48
    assert _sent(fake) == {
        "instances": [{"prompt": "a lighthouse at dusk"}],
        "parameters": {
            "sampleCount": 1,
            "durationSeconds": 4,
            "seed": 3,
            "aspectRatio": "16:9",
            "resolution": "720p",
            "negativePrompt": "text, watermark",
            "generateAudio": False,
        },
    }
    assert fake.requests[0].endswith("/models/veo-3.1-fast-generate-001:predictLongRunning")
    assert set(fake.auth_headers) == {f"Bearer {TOKEN}"}
    assert time.now == 20.0  # two polls that found it running, 10 s apart (Google's example)


def test_veo_reference_image_is_the_first_frame() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 30, 30)).save(buffer, "PNG")
    image = ImageInput(buffer.getvalue(), "image/png", 64, 36)
    fake, time = FakeVeo(running=0), FakeTime()
    _run(_backend(fake, time), _request(input_reference=image))
    instance = _sent(fake)["instances"][0]  # type: ignore[index]
    assert instance["image"]["mimeType"] == "image/png"
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == buffer.getvalue()


def test_veo_checks_its_lengths_and_1080p_rule() -> None:
    backend = _backend(FakeVeo(), FakeTime())
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(seconds=5.0))
    assert info.value.param == "seconds"
    assert "must be 4, 6 or 8" in info.value.message
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(width=1920, height=1080, seconds=6.0))
    assert info.value.param == "size"
    assert "1920x1080" in info.value.message
    backend.check(_request(width=1080, height=1920, seconds=8.0))


def test_veo_portrait_1080p_is_asked_as_9_16_1080p() -> None:
    fake, time = FakeVeo(running=0), FakeTime()
    _run(_backend(fake, time), _request(width=1080, height=1920, seconds=8.0, fps=12))
    parameters = _sent(fake)["parameters"]
    assert parameters["aspectRatio"] == "9:16"  # type: ignore[index]
    assert parameters["resolution"] == "1080p"  # type: ignore[index]


def test_veo_without_the_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.genai", None)
    with pytest.raises(BackendUnavailableError) as info:
        build_veo(project=PROJECT)
    assert INSTALL_HINT in info.value.message


def test_veo_models_are_offered_only_when_configured() -> None:
    assert not [m for m in build_registry(Settings()).models() if m.backend == "veo"]
    by_project = build_registry(Settings(veo=VeoConfig(project="p")))
    by_key = build_registry(Settings(providers=ProviderKeys(google="AIza-fake")))
    for registry in (by_project, by_key):
        veo = [m for m in registry.models() if m.backend == "veo"]
        assert [m.model for m in veo] == ["veo/veo-3.1", "veo/veo-3.1-fast", "veo/veo-3.1-lite"]
        assert all(m.hosted for m in veo)


def test_veo_downloads_the_video_from_the_poll_that_saw_it_done() -> None:
    fake = FakeVeo(running=2)
    _run(_backend(fake, FakeTime()), _request())
    polls = [r for r in fake.requests if r.endswith(":fetchPredictOperation")]
    assert len(polls) == 3  # two running, one done; the download asks nothing more
