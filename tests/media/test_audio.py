"""Sound in the MP4: an AAC-LC stream at 48 kHz stereo exactly as long as the picture,
interleaved with it; soundtracks read back in place, fitted, resampled and joined without
a click."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from openreel.errors import MediaError
from openreel.media.audio import (
    AAC_FRAME,
    SAMPLE_RATE,
    Soundtrack,
    join,
    read_soundtrack,
    samples_for,
)
from openreel.media.encode import VideoWriter


def _tone(seconds: float, hz: float = 440.0, level: float = 0.3) -> Soundtrack:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wave = (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return Soundtrack(np.stack([wave, wave], axis=1))


def _clicks(seconds: float, at: list[float]) -> Soundtrack:
    data = np.zeros((round(seconds * SAMPLE_RATE), 2), np.float32)
    for when in at:
        start = round(when * SAMPLE_RATE)
        data[start : start + 48] = 0.8
    return Soundtrack(data)


def _write(path: Path, frames: int, fps: int, track: Soundtrack | None, *, audio: bool) -> None:
    with VideoWriter(path, width=160, height=96, fps=fps, audio=audio) as writer:
        if track is not None:
            writer.provide_soundtrack(track)
        for index in range(frames):
            writer.write(np.full((96, 160, 3), index * 3 % 256, np.uint8))


def _onset(track: Soundtrack) -> float:
    """Seconds to the first sample above half the peak."""
    level = np.abs(track.samples[:, 0])
    return float(np.argmax(level > level.max() / 2)) / SAMPLE_RATE


def test_aac_lc_48k_stereo_as_long_as_the_picture_and_interleaved(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _write(path, 36, 24, _tone(1.5), audio=True)
    with av.open(str(path)) as container:
        (video,) = container.streams.video
        (audio,) = container.streams.audio
        context = audio.codec_context
        assert (context.name, context.profile, audio.rate, context.layout.name) == (
            "aac",
            "LC",
            48_000,
            "stereo",
        )
        picture = float(video.duration * video.time_base)
        sound = float(audio.duration * audio.time_base)
        assert picture == pytest.approx(1.5)
        assert abs(sound - picture) <= AAC_FRAME / SAMPLE_RATE
        kinds = "".join(p.stream.type[0] for p in container.demux() if p.size)
    # Interleaved: sound and picture alternate through the file, neither comes in one block.
    assert kinds.count("a") > 20
    assert "v" * 10 not in kinds
    assert "a" * 10 not in kinds[: len(kinds) - 12]


def test_a_writer_without_audio_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    _write(path, 12, 12, None, audio=False)
    with av.open(str(path)) as container:
        assert not container.streams.audio
    assert read_soundtrack(path) is None
    writer = VideoWriter(tmp_path / "x.mp4", width=160, height=96, fps=12)
    try:
        with pytest.raises(MediaError, match="without a sound stream"):
            writer.provide_soundtrack(_tone(0.5))
    finally:
        writer.abort()


def test_a_soundtrack_given_late_or_never_still_spans_the_picture(tmp_path: Path) -> None:
    late = tmp_path / "late.mp4"
    with VideoWriter(late, width=160, height=96, fps=12, audio=True) as writer:
        for index in range(24):
            if index == 10:
                writer.provide_soundtrack(_clicks(2.0, [1.0]))
            writer.write(np.zeros((96, 160, 3), np.uint8))
    track = read_soundtrack(late)
    assert track is not None
    assert abs(len(track.samples) - 2 * SAMPLE_RATE) <= AAC_FRAME
    assert _onset(track) == pytest.approx(1.0, abs=0.005)
    never = tmp_path / "never.mp4"
    _write(never, 12, 12, None, audio=True)
    quiet = read_soundtrack(never)
    assert quiet is not None
    assert abs(len(quiet.samples) - SAMPLE_RATE) <= AAC_FRAME
    assert float(np.abs(quiet.samples).max()) < 1e-3


def test_a_click_stays_at_its_time_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clicks.mp4"
    _write(path, 48, 24, _clicks(2.0, [0.5]), audio=True)
    track = read_soundtrack(path)
    assert track is not None
    assert _onset(track) == pytest.approx(0.5, abs=0.002)
    # From a later start (a trim on the file's clock) the click moves by exactly that much.
    later = read_soundtrack(path, start=0.25, seconds=1.0)
    assert later is not None
    assert len(later.samples) == SAMPLE_RATE
    assert _onset(later) == pytest.approx(0.25, abs=0.002)


def test_of_takes_any_waveform_to_48k_stereo() -> None:
    mono = (0.5 * np.sin(2 * np.pi * 200 * np.arange(16_000) / 16_000)).astype(np.float64)
    track = Soundtrack.of(mono, 16_000)
    assert track.samples.shape[1] == 2
    assert abs(len(track.samples) - SAMPLE_RATE) <= 64
    assert np.allclose(track.samples[:, 0], track.samples[:, 1])
    channels_first = Soundtrack.of(np.zeros((2, 4800), np.int16), SAMPLE_RATE)
    assert channels_first.samples.shape == (4800, 2)
    with pytest.raises(MediaError, match="soundtrack must be float32"):
        Soundtrack(np.zeros((10, 3), np.float32))


def _max_step(data: np.ndarray) -> float:
    return float(np.abs(np.diff(data, axis=0)).max())


def test_join_has_no_click_at_the_seam() -> None:
    # Two unrelated sounds: a low tone that ends at its peak (+0.5), then a high one that
    # starts at its trough (-0.5).
    before = _tone(1.0, hz=110.25, level=0.5)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wave = (-0.5 * np.cos(2 * np.pi * 523.0 * t)).astype(np.float32)
    after = Soundtrack(np.stack([wave, wave], axis=1))
    seam = len(before.samples)
    joined = join(before, after)
    assert len(joined.samples) == len(before.samples) + len(after.samples)
    window = 2400
    around = _max_step(joined.samples[seam - 8 : seam + 8])
    neighbours = max(
        _max_step(joined.samples[seam - window : seam - 8]),
        _max_step(joined.samples[seam + window : seam + 2 * window]),
    )
    assert around <= 1.5 * neighbours
    # A plain cut of the same two sounds clicks: the test can tell.
    cut = np.concatenate([before.samples, after.samples])
    assert _max_step(cut[seam - 8 : seam + 8]) > 10 * neighbours


def test_fitted_and_span_cut_or_hold_with_silence() -> None:
    track = _tone(0.5)
    assert len(track.fitted(samples_for(24, 24)).samples) == SAMPLE_RATE
    assert len(track.fitted(100).samples) == 100
    shifted = _clicks(1.0, [0.1]).span(-SAMPLE_RATE // 10, SAMPLE_RATE)
    assert _onset(shifted) == pytest.approx(0.2, abs=0.001)
