"""Tests for openreel.media.probe: facts, frames and MP4 layout read back from files."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from openreel.errors import MediaError
from openreel.media.encode import encode_video
from openreel.media.probe import iter_frames, mp4_is_faststart, probe

Frames = list[NDArray[np.uint8]]
MakeFrames = Callable[[int, int, int], Frames]

WIDTH, HEIGHT, FPS = 64, 48, 12


def _box(kind: bytes, payload: bytes = b"", *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def clip(tmp_path: Path, make_frames: MakeFrames) -> Path:
    target = tmp_path / "clip.mp4"
    encode_video(make_frames(6, WIDTH, HEIGHT), target, width=WIDTH, height=HEIGHT, fps=FPS)
    return target


def test_probe_reports_encoded_facts(clip: Path) -> None:
    info = probe(clip)
    assert (info.width, info.height, info.frames) == (WIDTH, HEIGHT, 6)
    assert info.fps == pytest.approx(FPS)
    assert info.duration == pytest.approx(0.5)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.faststart is True


def test_probe_to_dict_is_json_ready(clip: Path) -> None:
    data = json.loads(json.dumps(probe(clip).to_dict()))
    assert data["frames"] == 6
    assert data["codec"] == "h264"
    assert data["faststart"] is True


def test_probe_counts_packets_when_container_has_no_frame_count(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    # Matroska records no frame count, so the count must come from demuxing.
    target = tmp_path / "clip.mkv"
    with av.open(str(target), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index, frame in enumerate(make_frames(7, WIDTH, HEIGHT)):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    with av.open(str(target)) as container:
        assert container.streams.video[0].frames == 0
    info = probe(target)
    assert info.frames == 7
    assert info.faststart is False


def test_probe_missing_file_raises_media_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mp4"
    with pytest.raises(MediaError) as info:
        probe(missing)
    assert str(missing) in info.value.message


def test_probe_directory_raises_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        probe(tmp_path)


def test_probe_non_video_file_raises_media_error(tmp_path: Path) -> None:
    bogus = _write(tmp_path / "notes.mp4", b"this is not a video\n" * 50)
    with pytest.raises(MediaError) as info:
        probe(bogus)
    assert str(bogus) in info.value.message
    assert isinstance(info.value.__cause__, Exception)


def test_probe_audio_only_file_raises_media_error(tmp_path: Path) -> None:
    # A WAV file is a valid container with no video stream.
    wav = tmp_path / "sound.wav"
    with av.open(str(wav), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(MediaError, match="no video stream"):
        probe(wav)


def test_mp4_is_faststart_moov_before_mdat(tmp_path: Path) -> None:
    data = _box(b"ftyp", b"isom") + _box(b"moov", b"x" * 20) + _box(b"mdat", b"y" * 40)
    assert mp4_is_faststart(_write(tmp_path / "a.mp4", data)) is True


def test_mp4_is_faststart_mdat_before_moov(tmp_path: Path) -> None:
    data = _box(b"ftyp", b"isom") + _box(b"mdat", b"y" * 40) + _box(b"moov", b"x" * 20)
    assert mp4_is_faststart(_write(tmp_path / "a.mp4", data)) is False


def test_mp4_is_faststart_follows_64_bit_box_sizes(tmp_path: Path) -> None:
    # The 'free' box uses the 64-bit size form; misreading it would land mid-payload.
    payload = _box(b"mdat", b"z" * 8) * 4  # looks like an mdat if the size were misread
    data = _box(b"ftyp", b"isom") + _box(b"free", payload, large=True) + _box(b"moov")
    assert mp4_is_faststart(_write(tmp_path / "a.mp4", data)) is True
    data = _box(b"ftyp", b"isom") + _box(b"mdat", b"y" * 40, large=True) + _box(b"moov")
    assert mp4_is_faststart(_write(tmp_path / "b.mp4", data)) is False


def test_mp4_is_faststart_box_to_end_of_file(tmp_path: Path) -> None:
    # Size 0 means "to the end of the file": nothing after it can be a moov.
    data = _box(b"ftyp", b"isom") + struct.pack(">I4s", 0, b"mdat") + _box(b"moov")
    assert mp4_is_faststart(_write(tmp_path / "a.mp4", data)) is False


@pytest.mark.parametrize(
    "data",
    [b"", b"abc", struct.pack(">I4s", 3, b"ftyp") + b"x" * 20, struct.pack(">I4s", 1, b"free")],
)
def test_mp4_is_faststart_false_for_garbage(tmp_path: Path, data: bytes) -> None:
    assert mp4_is_faststart(_write(tmp_path / "a.mp4", data)) is False


def test_mp4_is_faststart_missing_file_raises_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        mp4_is_faststart(tmp_path / "missing.mp4")


def test_iter_frames_yields_every_frame_as_rgb(clip: Path, make_frames: MakeFrames) -> None:
    originals = make_frames(6, WIDTH, HEIGHT)
    decoded = list(iter_frames(clip))
    assert len(decoded) == 6
    for original, frame in zip(originals, decoded, strict=True):
        assert frame.shape == (HEIGHT, WIDTH, 3)
        assert frame.dtype == np.uint8
        assert np.abs(frame.astype(np.int16) - original).mean() < 6


def test_iter_frames_closes_file_when_consumer_stops_early(clip: Path) -> None:
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    before = {entry.path for entry in process.open_files()}
    frames = iter_frames(clip)
    next(frames)
    assert str(clip) in {entry.path for entry in process.open_files()} - before
    frames.close()
    assert str(clip) not in {entry.path for entry in process.open_files()}


def test_iter_frames_missing_file_raises_media_error(tmp_path: Path) -> None:
    frames = iter_frames(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match=r"missing\.mp4"):
        next(frames)


def test_iter_frames_non_video_file_raises_media_error(tmp_path: Path) -> None:
    bogus = _write(tmp_path / "notes.mp4", b"\x00\x01garbage" * 100)
    with pytest.raises(MediaError):
        list(iter_frames(bogus))
