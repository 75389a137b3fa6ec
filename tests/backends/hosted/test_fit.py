"""fit="nearest": a request a hosted model does not make is sent as the nearest it does, and
the result is fitted back to exactly what was asked, with both recorded on the job."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from google.oauth2.credentials import Credentials
from tests.support.hosted.fake_runway import API_HOST, FakeRunway
from tests.support.hosted.fake_runway import KEY as RUNWAY_KEY
from tests.support.hosted.fake_veo import BASE, LOCATION, PROJECT, TOKEN, FakeVeo
from tests.support.hosted.harness import FakeTime, make_mp4
from tests.support.hosted.harness import run as _run

from openreel.backends.hosted.base import HostedBackend
from openreel.backends.hosted.runway import build_runway
from openreel.backends.hosted.veo import build_veo
from openreel.backends.providers import build_registry
from openreel.config import ProviderKeys, Settings
from openreel.domain import VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.audio import AAC_FRAME, SAMPLE_RATE, read_soundtrack
from openreel.media.encode import EncoderSettings
from openreel.media.probe import iter_frames, probe
from openreel.services.generation import render_video


def _veo(fake: FakeVeo, fit: str = "nearest") -> HostedBackend:
    time = FakeTime()
    return build_veo(
        project=PROJECT,
        location=LOCATION,
        client_kwargs={
            "credentials": Credentials(token=TOKEN),
            "base_url": BASE,
            "http_client": httpx.Client(transport=fake.transport()),
        },
        sleep=time.sleep,
        clock=time.clock,
        fit=fit,
    )


def _runway(fake: FakeRunway, fit: str = "nearest") -> HostedBackend:
    time = FakeTime()
    return build_runway(
        RUNWAY_KEY,
        transport=fake.transport(),
        base_url=f"https://{API_HOST}",
        sleep=time.sleep,
        clock=time.clock,
        fit=fit,
    )


def _request(model: str, **kw: object) -> VideoRequest:
    args: dict[str, object] = {
        "prompt": "a lighthouse at dusk",
        "model": model,
        "seconds": 5.0,
        "width": 1280,
        "height": 720,
        "fps": 12,
        "seed": 3,
    }
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


def _parameters(fake: FakeVeo) -> dict[str, object]:
    (operation,) = fake.operations.values()
    return operation.body["parameters"]  # type: ignore[return-value]


def test_by_default_a_length_the_model_does_not_make_is_refused_naming_seconds() -> None:
    with pytest.raises(InvalidRequestError) as info:
        _veo(FakeVeo(), fit="reject").check(_request("veo/veo-3.1-fast"))
    assert info.value.param == "seconds"
    assert "5" in info.value.message


def test_nearest_asks_for_the_next_length_and_trims_back() -> None:
    fake = FakeVeo(running=0)
    backend = _veo(fake)
    request = _request("veo/veo-3.1-fast", seconds=5.0)
    backend.check(request)
    frames, _ = _run(backend, request)
    assert len(frames) == 5 * 12
    assert frames[0].shape == (720, 1280, 3)
    assert _parameters(fake)["durationSeconds"] == 6
    described = backend.describe(request)
    assert described["sent"] == {"seconds": 6.0, "size": "1280x720", "fps": 12}
    assert "trimmed to 5 s" in described["fitted"]


def test_nearest_keeps_1080p_by_going_to_the_length_that_allows_it() -> None:
    fake = FakeVeo(running=0)
    request = _request("veo/veo-3.1-fast", width=1920, height=1080, seconds=5.0)
    frames, _ = _run(_veo(fake), request)
    assert frames[0].shape == (1080, 1920, 3)
    assert _parameters(fake)["durationSeconds"] == 8
    assert _parameters(fake)["resolution"] == "1080p"


def test_nearest_size_keeps_the_aspect_ratio_and_scales_back() -> None:
    fake = FakeRunway()
    backend = _runway(fake)
    request = _request("runway/gen4.5", width=1920, height=1080, seconds=4.0, fps=60)
    frames, _ = _run(backend, request)
    assert fake.tasks["task-0001"].body["ratio"] == "1280:720"
    assert len(frames) == 4 * 60  # the rate asked, though Runway takes at most 30
    assert frames[0].shape == (1080, 1920, 3)
    assert backend.describe(request)["sent"] == {"seconds": 4.0, "size": "1280x720", "fps": 30}
    portrait = _request("runway/gen4.5", width=1080, height=1920, seconds=4.0)
    assert backend.sent(portrait).size == "720x1280"


def test_what_nothing_can_fill_or_fitting_cannot_fix_is_still_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        _veo(FakeVeo()).check(_request("veo/veo-3.1-fast", seconds=10.0))
    assert info.value.param == "seconds"
    with pytest.raises(InvalidRequestError) as info:
        _runway(FakeRunway()).check(_request("runway/gen4.5", prompt="x" * 1001, seconds=4.0))
    assert info.value.param == "prompt"


def test_a_request_made_as_asked_is_sent_unchanged_and_records_nothing() -> None:
    backend = _runway(FakeRunway())
    request = _request("runway/gen4.5", seconds=4.0)
    assert backend.sent(request) is request
    assert "sent" not in backend.describe(request)


def test_the_fitted_video_and_its_record_through_the_pipeline(tmp_path: Path) -> None:
    request = _request("veo/veo-3.1-fast", width=960, height=540, seconds=5.0)
    result = render_video(
        _veo(FakeVeo(running=0)), request, tmp_path / "clip.mp4", encoder=EncoderSettings()
    )
    assert result.interpretation["sent"] == {"seconds": 6.0, "size": "1280x720", "fps": 12}
    info = probe(tmp_path / "clip.mp4")
    assert (info.width, info.height) == (960, 540)
    assert info.frames == 5 * 12


def test_the_setting_reaches_every_provider() -> None:
    settings = Settings(providers=ProviderKeys(runway="k"), hosted_fit="nearest")
    backend = build_registry(settings).for_model("runway/gen4.5")
    assert backend.sent(_request("runway/gen4.5", width=1920, height=1080, seconds=4.0)).size == (
        "1280x720"
    )


def test_fitting_keeps_the_providers_sound_in_step_with_the_picture(tmp_path: Path) -> None:
    # Veo sends 6 s at 24 fps with a click at 2.5 s (its frame 60): asked for 5 s at 12 fps
    # in a smaller size, the click must stay with the picture of that moment (frame 30).
    fake = FakeVeo(running=0, video=make_mp4(6.0, (320, 180), 24, click_at=2.5))
    request = _request("veo/veo-3.1-fast", width=256, height=144, seconds=5.0, audio=True)
    out = tmp_path / "clip.mp4"
    render_video(_veo(fake), request, out, encoder=EncoderSettings())
    assert _parameters(fake)["generateAudio"] is True
    track = read_soundtrack(out)
    assert track is not None
    assert abs(len(track.samples) - 5 * SAMPLE_RATE) <= AAC_FRAME  # trimmed with the picture
    onset = float(np.argmax(np.abs(track.samples[:, 0]) > 0.4)) / SAMPLE_RATE
    assert onset == pytest.approx(2.5, abs=0.003)
    frames = list(iter_frames(out))
    clicked = round(onset * 12)
    # The source's red channel rises by 20 a frame: frame 60 is 176, its neighbours 136, 216.
    red = [float(frames[i][..., 0].mean()) for i in (clicked - 1, clicked, clicked + 1)]
    assert red[1] == pytest.approx(176, abs=12)
    assert red[0] < red[1] - 20
    assert red[2] > red[1] + 10


def test_a_silent_request_to_a_sounding_model_asks_for_no_sound(tmp_path: Path) -> None:
    fake = FakeVeo(running=0, video=make_mp4(4.0, (320, 180), 12, click_at=1.0))
    request = _request("veo/veo-3.1-fast", width=256, height=144, seconds=4.0, audio=False)
    out = tmp_path / "quiet.mp4"
    render_video(_veo(fake), request, out, encoder=EncoderSettings())
    assert _parameters(fake)["generateAudio"] is False
    assert read_soundtrack(out) is None
