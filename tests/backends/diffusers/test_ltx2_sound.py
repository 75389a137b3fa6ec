"""LTX-2 keeps its sound: a tiny random LTX-2 pipeline (built offline, tests/conftest.py)
run through the real catalogue, loader and backend gives frames and the pipeline's own
waveform, muxed by render_video as an AAC stream as long as the picture; ``audio: false``
gives none; a clip longer than one call joins its calls' sounds at the frames' seams."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from tests.support.tiny_diffusers import TINY_LTX2, TINY_LTX2_RATE

from openreel.backends.base import Clip
from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.registry import BackendRegistry
from openreel.domain import VideoRequest
from openreel.errors import BackendError
from openreel.media.audio import AAC_FRAME, SAMPLE_RATE, Soundtrack, samples_for
from openreel.media.encode import EncoderSettings
from openreel.services.generation import render_video


def _request(**changes: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "thunder over a harbour",
        "seconds": 1.0,
        "width": 64,
        "height": 64,
        "fps": 8,
        "seed": 3,
        "model": TINY_LTX2,
        "audio": True,
    }
    return VideoRequest(**(args | changes))


@pytest.fixture(scope="module")
def backend(tiny_registry: BackendRegistry) -> DiffusersBackend:
    found = tiny_registry.for_model(TINY_LTX2)
    assert isinstance(found, DiffusersBackend)
    return found


@pytest.fixture
def waveforms(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``output.audio`` of every LTX-2 pipeline call (text- and image-to-video)."""
    import diffusers

    seen: list[Any] = []
    for name in ("LTX2Pipeline", "LTX2ImageToVideoPipeline"):
        cls = getattr(diffusers, name)
        original = cls.__call__

        def spied(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            output = _original(self, *args, **kwargs)
            seen.append(output.audio.detach().float().numpy()[0].copy())
            return output

        monkeypatch.setattr(cls, "__call__", functools.wraps(original)(spied))
    return seen


def _streams(path: Path) -> tuple[float, float | None]:
    """The picture's seconds and the AAC stream's (None with no audio stream)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        picture = float(video.duration * video.time_base)
        if not container.streams.audio:
            return picture, None
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate) == ("aac", SAMPLE_RATE)
        assert audio.codec_context.channels == 2
        return picture, float(audio.duration * audio.time_base)


def test_ltx2_is_listed_as_making_sound(backend: DiffusersBackend) -> None:
    assert backend.entry(TINY_LTX2).audio
    assert backend.capabilities(TINY_LTX2).audio


def test_ltx2_clip_carries_the_pipelines_own_waveform(
    backend: DiffusersBackend, waveforms: list[Any]
) -> None:
    request = _request()
    clip = backend.generate(request)
    assert isinstance(clip, Clip)
    frames = list(clip)
    assert len(frames) == request.frame_count
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    sound = clip.soundtrack()
    assert sound is not None
    assert len(waveforms) == 1  # one call makes a one-second clip
    wave = waveforms[0]
    assert wave.shape[0] == 2
    assert np.abs(wave).max() > 0
    # The clip's sound is that waveform, only converted to 48 kHz stereo: dropping it, or
    # putting anything else in its place, fails here.
    expected = Soundtrack.of(wave, TINY_LTX2_RATE)
    np.testing.assert_array_equal(sound.samples, expected.samples)
    # The waveform lasts as long as the call's native frames (8k+1 at 8 fps).
    native = backend.plan(request).segments.frames[0]
    assert abs(sound.seconds - native / 8) < 0.1


def test_ltx2_audio_false_gives_no_sound(backend: DiffusersBackend) -> None:
    clip = backend.generate(_request(audio=False))
    assert len(list(clip)) == 8
    assert isinstance(clip, Clip)
    assert clip.soundtrack() is None


def test_ltx2_render_muxes_an_aac_stream_as_long_as_the_picture(
    backend: DiffusersBackend, tmp_path: Path
) -> None:
    loud, quiet = tmp_path / "loud.mp4", tmp_path / "quiet.mp4"
    render_video(backend, _request(seconds=2.0), loud, encoder=EncoderSettings())
    picture, sound = _streams(loud)
    assert picture == 2.0
    assert sound is not None
    assert abs(sound - picture) <= AAC_FRAME / SAMPLE_RATE
    render_video(backend, _request(audio=False), quiet, encoder=EncoderSettings())
    assert _streams(quiet) == (1.0, None)


def test_ltx2_long_clip_joins_each_calls_sound_where_its_frames_start(
    backend: DiffusersBackend, waveforms: list[Any]
) -> None:
    request = _request(seconds=3.0)
    plan = backend.plan(request)
    counts, overlap = plan.segments.frames, plan.segments.overlap
    assert len(counts) == 2
    clip = backend.generate(request)
    assert len(list(clip)) == request.frame_count
    sound = clip.soundtrack()
    assert sound is not None
    assert len(waveforms) == 2
    first, second = (Soundtrack.of(w, TINY_LTX2_RATE) for w in waveforms)
    start = samples_for(counts[0] - overlap, plan.fps)
    assert len(sound.samples) == start + len(second.samples)
    # The first call's sound up to where the second call's frames start, then the second
    # call's sound (past the short cross-fade at the seam).
    np.testing.assert_array_equal(sound.samples[: start - 1], first.samples[: start - 1])
    fade = round(0.05 * SAMPLE_RATE)
    np.testing.assert_allclose(sound.samples[start + fade :], second.samples[fade:], atol=1e-6)


def test_ltx2_pipeline_without_a_waveform_is_a_backend_error(
    backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers

    original = diffusers.LTX2Pipeline.__call__

    def silent(self: Any, *args: Any, **kwargs: Any) -> Any:
        output = original(self, *args, **kwargs)
        output.audio = None
        return output

    monkeypatch.setattr(diffusers.LTX2Pipeline, "__call__", functools.wraps(original)(silent))
    with pytest.raises(BackendError, match="returned no waveform"):
        list(backend.generate(_request()))
