"""A render with sound: the sketch engine's soundtrack muxed with its frames, switched off by
``audio: false``, continued across an extension's seam without a click, kept by an edit of
footage, covered by the signature and invisible to the content registry; a silent model
refuses ``audio: true``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from tests.support.clips import field_clip

from openreel.backends.base import BackendCapabilities, check_against_capabilities
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import SourceVideo, VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.audio import AAC_FRAME, SAMPLE_RATE, Soundtrack, read_soundtrack
from openreel.media.c2pa import verify_mp4
from openreel.media.certs import ensure_instance_identity
from openreel.media.encode import EncoderSettings, VideoWriter
from openreel.media.fingerprint import compare, fingerprint_file
from openreel.media.label import LabelSpec
from openreel.media.probe import iter_frames
from openreel.media.uploaded import fitted_frames
from openreel.services.generation import render_video
from openreel.trust.provenance import Provenance

W, H, FPS = 320, 180, 24


def _request(**changes: object) -> VideoRequest:
    base = VideoRequest(
        prompt="rain over a harbour at dusk", seconds=1.0, width=W, height=H, fps=FPS, seed=11
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _render(path: Path, request: VideoRequest, **kwargs: object) -> Path:
    render_video(SketchBackend(), request, path, encoder=EncoderSettings(), **kwargs)  # type: ignore[arg-type]
    return path


def _streams(path: Path) -> tuple[float, float | None, int | None, int | None]:
    """Picture seconds, then the sound's seconds, rate and channels (None without sound)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        picture = float(video.duration * video.time_base)
        if not container.streams.audio:
            return picture, None, None, None
        audio = container.streams.audio[0]
        return (
            picture,
            float(audio.duration * audio.time_base),
            audio.rate,
            audio.codec_context.channels,
        )


def _max_step(data: np.ndarray) -> float:
    return float(np.abs(np.diff(data, axis=0)).max())


def test_a_sketch_video_has_its_sound_and_audio_false_has_none(tmp_path: Path) -> None:
    loud = _render(tmp_path / "sound.mp4", _request(audio=True, seconds=1.5))
    picture, sound, rate, channels = _streams(loud)
    assert picture == pytest.approx(1.5)
    assert sound is not None
    assert abs(sound - picture) <= AAC_FRAME / SAMPLE_RATE
    assert (rate, channels) == (48_000, 2)
    track = read_soundtrack(loud)
    assert track is not None
    assert float(np.sqrt(np.mean(track.samples**2))) > 0.01  # sound, not silence
    assert float(np.abs(track.samples).max()) < 1.0
    silent = _render(tmp_path / "silent.mp4", _request(audio=False, seconds=1.5))
    assert _streams(silent)[1:] == (None, None, None)


def test_sound_leaves_the_picture_and_its_label_as_they_were(tmp_path: Path) -> None:
    label = LabelSpec()
    loud = _render(tmp_path / "a.mp4", _request(audio=True), label=label)
    quiet = _render(tmp_path / "b.mp4", _request(audio=False), label=label)
    for one, other in zip(iter_frames(loud), iter_frames(quiet), strict=True):
        assert np.array_equal(one, other)


def test_an_extension_continues_the_sound_without_a_click(tmp_path: Path) -> None:
    source = _render(tmp_path / "source.mp4", _request(audio=True))
    before = read_soundtrack(source)
    assert before is not None
    extension = _request(audio=True, operation="extend", frame_offset=FPS, prompt="thunder")
    out = _render(
        tmp_path / "extended.mp4",
        extension,
        prefix=fitted_frames(source, W, H, FPS),
        prefix_frames=FPS,
        prefix_sound=source,
    )
    picture, sound, _, _ = _streams(out)
    assert picture == pytest.approx(2.0)
    assert sound is not None
    assert abs(sound - picture) <= AAC_FRAME / SAMPLE_RATE
    track = read_soundtrack(out)
    assert track is not None
    seam = SAMPLE_RATE  # one second: the source's end
    # The source's sound is kept up to the seam.
    kept = track.samples[: seam - 4800]
    assert np.corrcoef(kept[:, 0], before.samples[: len(kept), 0])[0, 1] > 0.9
    around = _max_step(track.samples[seam - 240 : seam + 240])
    neighbours = max(
        _max_step(track.samples[seam - 12_000 : seam - 2400]),
        _max_step(track.samples[seam + 2400 : seam + 12_000]),
    )
    assert around <= 1.25 * neighbours


def test_an_edit_of_footage_keeps_its_sound(tmp_path: Path) -> None:
    footage = tmp_path / "footage.mp4"
    click = np.zeros((SAMPLE_RATE, 2), np.float32)
    click[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + 48] = 0.8
    field_clip(tmp_path / "field.mp4", frames=FPS, size=(W, H), fps=FPS)
    with VideoWriter(footage, width=W, height=H, fps=FPS, audio=True) as writer:
        writer.provide_soundtrack(Soundtrack(click))
        for frame in iter_frames(tmp_path / "field.mp4"):
            writer.write(frame)
    edit = _request(
        audio=True,
        operation="edit",
        prompt="at night",
        source=SourceVideo(path=str(footage), frames=FPS, fps=FPS, width=W, height=H),
    )
    out = _render(tmp_path / "edited.mp4", edit)
    track = read_soundtrack(out)
    assert track is not None
    level = np.abs(track.samples[:, 0])
    assert np.argmax(level > 0.4) / SAMPLE_RATE == pytest.approx(0.5, abs=0.003)


def test_a_silent_model_refuses_audio_naming_it() -> None:
    silent = BackendCapabilities(
        max_seconds=10, min_side=64, max_side=1920, fps_range=(1, 60), sizes=("320x180",)
    )
    request = _request(model="quiet-model", audio=True)
    with pytest.raises(InvalidRequestError) as info:
        check_against_capabilities(request, silent)
    assert info.value.param == "audio"
    assert "quiet-model" in info.value.message
    check_against_capabilities(replace(request, audio=False), silent)
    with pytest.raises(InvalidRequestError) as bad:
        _request(audio="yes")
    assert bad.value.param == "audio"


def _flip_in_audio(path: Path) -> None:
    """Flips one byte in the middle of an audio packet's data."""
    with av.open(str(path)) as container:
        packets = [
            (p.pos, p.size) for p in container.demux(container.streams.audio[0]) if p.size > 8
        ]
    pos, size = packets[len(packets) // 2]
    assert pos is not None
    data = bytearray(path.read_bytes())
    data[pos + size // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_signature_covers_the_sound(tmp_path: Path) -> None:
    identity = ensure_instance_identity(tmp_path / "keys")
    signed = _render(tmp_path / "signed.mp4", _request(audio=True), provenance=Provenance(identity))
    assert verify_mp4(signed, trust_anchors=[identity.anchor_pem]).status == "Trusted"
    _flip_in_audio(signed)
    verdict = verify_mp4(signed, trust_anchors=[identity.anchor_pem])
    assert verdict.status == "Invalid"
    assert any(m.startswith("assertion.bmffHash.mismatch") for m in verdict.messages)


def _reencode(source: Path, target: Path, *, sound: bool) -> Path:
    """A half-size copy, with the source's sound re-encoded or without any."""
    with VideoWriter(target, width=W // 2, height=H // 2, fps=FPS, audio=sound) as writer:
        if sound:
            track = read_soundtrack(source)
            assert track is not None
            writer.provide_soundtrack(track)
        for frame in iter_frames(source):
            small = frame[::2, ::2]
            writer.write(np.ascontiguousarray(small))
    return target


def test_the_content_registry_finds_a_copy_with_or_without_its_sound(tmp_path: Path) -> None:
    original = _render(tmp_path / "original.mp4", _request(audio=True, seconds=2.0))
    reference = fingerprint_file(original)
    for sound in (True, False):
        copy = _reencode(original, tmp_path / f"copy-{sound}.mp4", sound=sound)
        found = fingerprint_file(copy)
        assert found.sha256 != reference.sha256
        match = compare(found.hashes, reference.hashes)
        assert match is not None
        assert match.similar
        assert match.offset == 0
