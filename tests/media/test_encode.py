"""Tests for openreel.media.encode: settings, output paths, and atomic H.264 MP4 writing."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from openreel.errors import ConfigurationError, InvalidRequestError, MediaError
from openreel.media.encode import (
    EncoderSettings,
    VideoWriter,
    check_output_path,
    encode_video,
)
from openreel.media.partial import partial_path
from openreel.media.probe import iter_frames, probe

Frames = list[NDArray[np.uint8]]
MakeFrames = Callable[[int, int, int], Frames]

WIDTH, HEIGHT, FPS = 128, 72, 24


def _names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


# --- EncoderSettings -----------------------------------------------------------------------


def test_encoder_settings_defaults_are_valid() -> None:
    settings = EncoderSettings()
    assert settings.codec == "libx264"
    assert settings.codec_options() == {"preset": "superfast", "crf": "20"}


def test_encoder_settings_codec_options_include_tune() -> None:
    settings = EncoderSettings(preset="ultrafast", crf=30, tune="animation")
    assert settings.codec_options() == {"preset": "ultrafast", "crf": "30", "tune": "animation"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("crf", -1),
        ("crf", 52),
        ("crf", True),
        ("crf", "20"),
        ("preset", "fastest"),
        ("preset", "VeryFast"),
        ("tune", "cartoon"),
        ("threads", -1),
        ("codec", ""),
        ("pix_fmt", ""),
    ],
)
def test_encoder_settings_rejects_bad_value_naming_field(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        EncoderSettings(**{field: value})  # type: ignore[arg-type]
    assert field in info.value.message
    assert repr(value) in info.value.message


# --- check_output_path ---------------------------------------------------------------------


def test_check_output_path_accepts_mp4_in_writable_folder(tmp_path: Path) -> None:
    target = tmp_path / "clip.MP4"
    assert check_output_path(target) == target.resolve()


def test_check_output_path_rejects_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x.mp4"
    with pytest.raises(InvalidRequestError) as info:
        check_output_path(target)
    assert info.value.param == "output"
    assert "does not exist" in info.value.message
    assert str(target) in info.value.message


def test_check_output_path_rejects_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    target = tmp_path / "file" / "x.mp4"
    with pytest.raises(InvalidRequestError) as info:
        check_output_path(target)
    assert info.value.param == "output"
    assert "not a directory" in info.value.message
    assert str(target) in info.value.message


def test_check_output_path_rejects_existing_directory(tmp_path: Path) -> None:
    target = tmp_path / "folder.mp4"
    target.mkdir()
    with pytest.raises(InvalidRequestError) as info:
        check_output_path(target)
    assert info.value.param == "output"
    assert "directory" in info.value.message
    assert str(target) in info.value.message


@pytest.mark.parametrize("name", ["clip.mov", "clip", "clip.mp4.txt"])
def test_check_output_path_rejects_other_suffixes(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    with pytest.raises(InvalidRequestError) as info:
        check_output_path(target)
    assert info.value.param == "output"
    assert ".mp4" in info.value.message
    assert str(target) in info.value.message


def test_check_output_path_rejects_unwritable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.access says yes to root for every folder, so the refusal is simulated.
    monkeypatch.setattr("os.access", lambda *_args, **_kwargs: False)
    target = tmp_path / "x.mp4"
    with pytest.raises(InvalidRequestError) as info:
        check_output_path(target)
    assert info.value.param == "output"
    assert "not writable" in info.value.message
    assert str(target) in info.value.message


def test_partial_path_is_hidden_sibling_with_part_marker(tmp_path: Path) -> None:
    temp = partial_path(tmp_path / "clip.mp4")
    assert temp.parent == tmp_path
    assert temp.name.startswith(".clip.")
    assert temp.name.endswith(".part.mp4")
    assert partial_path(tmp_path / "clip.mp4") != temp


# --- round trip ----------------------------------------------------------------------------


def test_encode_video_round_trip_probes_as_encoded(tmp_path: Path, make_frames: MakeFrames) -> None:
    target = tmp_path / "clip.mp4"
    written = encode_video(
        make_frames(12, WIDTH, HEIGHT), target, width=WIDTH, height=HEIGHT, fps=FPS
    )
    assert written == 12
    info = probe(target)
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert info.fps == pytest.approx(FPS)
    assert info.frames == 12
    assert info.duration == pytest.approx(0.5)
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.faststart is True
    assert info.size_bytes == target.stat().st_size
    assert _names(tmp_path) == ["clip.mp4"]


def test_encode_video_without_faststart_puts_index_last(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"
    settings = EncoderSettings(faststart=False)
    encode_video(
        make_frames(3, WIDTH, HEIGHT),
        target,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        settings=settings,
    )
    assert probe(target).faststart is False


def test_video_writer_decoded_frames_match_encoded(tmp_path: Path, make_frames: MakeFrames) -> None:
    frames = make_frames(8, WIDTH, HEIGHT)
    target = tmp_path / "clip.mp4"
    encode_video(
        frames, target, width=WIDTH, height=HEIGHT, fps=FPS, settings=EncoderSettings(crf=12)
    )
    decoded = list(iter_frames(target))
    assert len(decoded) == len(frames)
    for original, back in zip(frames, decoded, strict=True):
        assert back.shape == original.shape
        error = np.abs(back.astype(np.int16) - original.astype(np.int16)).mean()
        assert error < 3.0


def test_video_writer_keeps_saturated_colours(tmp_path: Path) -> None:
    # A colour matrix that disagrees with the stream's tags shifts saturated colours by 10+.
    frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frame[:, : WIDTH // 2] = (220, 30, 30)
    frame[:, WIDTH // 2 :] = (30, 200, 60)
    target = tmp_path / "clip.mp4"
    encode_video([frame] * 2, target, width=WIDTH, height=HEIGHT, fps=FPS)
    back = next(iter_frames(target)).astype(np.int16)
    assert np.abs(back[:, 8:56] - (220, 30, 30)).max() <= 6
    assert np.abs(back[:, 72:120] - (30, 200, 60)).max() <= 6


@pytest.mark.parametrize("height", [90, 92])
def test_video_writer_keeps_colours_in_place_at_any_even_height(
    tmp_path: Path, height: int
) -> None:
    # 480x270, 160x90: a height that is even but not a multiple of 4 once shifted the chroma
    # several rows down (a green band over a blue sky, colours off their shapes).
    width = 96
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[: height // 2] = (30, 30, 220)
    frame[height // 2 :] = (230, 220, 30)
    target = tmp_path / "clip.mp4"
    encode_video([frame] * 2, target, width=width, height=height, fps=FPS)
    back = next(iter_frames(target)).astype(np.int16)
    assert back.shape == frame.shape
    seam = height // 2
    assert np.abs(back[: seam - 2] - (30, 30, 220)).max() <= 12
    assert np.abs(back[seam + 2 :] - (230, 220, 30)).max() <= 12


def test_video_writer_accepts_frames_with_strided_rows(tmp_path: Path) -> None:
    wide = np.zeros((HEIGHT, WIDTH * 2, 3), dtype=np.uint8)
    wide[:, :WIDTH] = (0, 128, 255)
    view = wide[:, :WIDTH]
    assert not view.flags.c_contiguous
    target = tmp_path / "clip.mp4"
    with VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS) as writer:
        writer.write(view)
        writer.write(view)
    back = next(iter_frames(target)).astype(np.int16)
    assert np.abs(back - (0, 128, 255)).mean() < 4


def test_video_writer_close_returns_path_and_is_repeatable(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"
    writer = VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS)
    for frame in make_frames(3, WIDTH, HEIGHT):
        writer.write(frame)
    assert writer.frames_written == 3
    assert writer.close() == target.resolve()
    assert writer.close() == target.resolve()
    writer.abort()  # after a commit, abort must not delete the finished video
    assert _names(tmp_path) == ["clip.mp4"]


# --- atomicity -----------------------------------------------------------------------------


def test_video_writer_partial_file_is_hidden_until_close(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"
    with VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS) as writer:
        writer.write(make_frames(1, WIDTH, HEIGHT)[0])
        names = _names(tmp_path)
        assert len(names) == 1
        assert names[0].startswith(".clip.")
        assert names[0].endswith(".part.mp4")
    assert _names(tmp_path) == ["clip.mp4"]


def _write_then_raise(target: Path, frames: Frames, error: BaseException) -> None:
    with VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS) as writer:
        for frame in frames:
            writer.write(frame)
        raise error


def test_video_writer_exception_leaves_no_file(tmp_path: Path, make_frames: MakeFrames) -> None:
    frames = make_frames(3, WIDTH, HEIGHT)
    with pytest.raises(RuntimeError, match="render failed"):
        _write_then_raise(tmp_path / "clip.mp4", frames, RuntimeError("render failed"))
    assert _names(tmp_path) == []


def test_video_writer_keyboard_interrupt_leaves_no_file(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    frames = make_frames(3, WIDTH, HEIGHT)
    with pytest.raises(KeyboardInterrupt):
        _write_then_raise(tmp_path / "clip.mp4", frames, KeyboardInterrupt())
    assert _names(tmp_path) == []


def test_video_writer_abandoned_generator_leaves_no_file(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"

    def render() -> Generator[int, None, None]:
        with VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS) as writer:
            for frame in make_frames(5, WIDTH, HEIGHT):
                writer.write(frame)
                yield writer.frames_written

    steps = render()
    assert next(steps) == 1
    steps.close()  # raises GeneratorExit inside the with block
    assert _names(tmp_path) == []


def test_video_writer_failed_render_keeps_previous_file(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"previous video")
    frames = make_frames(1, WIDTH, HEIGHT)
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_raise(target, frames, RuntimeError("stop"))
    assert target.read_bytes() == b"previous video"
    assert _names(tmp_path) == ["clip.mp4"]


def test_video_writer_close_failure_raises_media_error_and_cleans_up(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    target = tmp_path / "clip.mp4"
    writer = VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS)
    writer.write(make_frames(1, WIDTH, HEIGHT)[0])
    target.mkdir()  # the final rename cannot replace a directory
    with pytest.raises(MediaError, match=r"clip\.mp4"):
        writer.close()
    assert _names(tmp_path) == ["clip.mp4"]
    assert target.is_dir()


def test_video_writer_close_without_frames_raises_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    writer = VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS)
    with pytest.raises(MediaError, match="no frames"):
        writer.close()
    assert _names(tmp_path) == []


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((10, 10, 3), np.uint8),
        ((HEIGHT, WIDTH), np.uint8),
        ((HEIGHT, WIDTH, 4), np.uint8),
        ((HEIGHT, WIDTH, 3), np.float32),
        ((WIDTH, HEIGHT, 3), np.uint8),
    ],
)
def test_video_writer_rejects_wrong_frame_naming_shape(
    tmp_path: Path, make_frames: MakeFrames, shape: tuple[int, ...], dtype: type[np.generic]
) -> None:
    target = tmp_path / "clip.mp4"
    with VideoWriter(target, width=WIDTH, height=HEIGHT, fps=FPS) as writer:
        with pytest.raises(MediaError) as info:
            writer.write(np.zeros(shape, dtype=dtype))
        assert str(shape) in info.value.message
        assert str((HEIGHT, WIDTH, 3)) in info.value.message
        # A rejected frame writes nothing; the writer carries on.
        writer.write(make_frames(1, WIDTH, HEIGHT)[0])
    assert probe(target).frames == 1


def test_video_writer_write_after_close_raises(tmp_path: Path, make_frames: MakeFrames) -> None:
    frame = make_frames(1, WIDTH, HEIGHT)[0]
    with VideoWriter(tmp_path / "clip.mp4", width=WIDTH, height=HEIGHT, fps=FPS) as writer:
        writer.write(frame)
    with pytest.raises(MediaError, match="closed"):
        writer.write(frame)


@pytest.mark.parametrize(
    ("width", "height", "fps", "param"),
    [(65, 72, 24, "size"), (128, 71, 24, "size"), (0, 72, 24, "size"), (128, 72, 0, "fps")],
)
def test_video_writer_rejects_bad_geometry_before_creating_files(
    tmp_path: Path, width: int, height: int, fps: int, param: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        VideoWriter(tmp_path / "clip.mp4", width=width, height=height, fps=fps)
    assert info.value.param == param
    assert _names(tmp_path) == []


def test_video_writer_rejects_bad_output_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as info:
        VideoWriter(tmp_path / "missing" / "clip.mp4", width=WIDTH, height=HEIGHT, fps=FPS)
    assert info.value.param == "output"


def test_video_writer_unknown_codec_raises_media_error(tmp_path: Path) -> None:
    settings = EncoderSettings(codec="no-such-encoder")
    with pytest.raises(MediaError, match="no-such-encoder"):
        VideoWriter(tmp_path / "clip.mp4", width=WIDTH, height=HEIGHT, fps=FPS, settings=settings)
    assert _names(tmp_path) == []


def test_encode_video_failing_frame_source_leaves_no_file(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    def frames() -> Iterator[NDArray[np.uint8]]:
        yield from make_frames(2, WIDTH, HEIGHT)
        raise ValueError("backend broke")

    with pytest.raises(ValueError, match="backend broke"):
        encode_video(frames(), tmp_path / "clip.mp4", width=WIDTH, height=HEIGHT, fps=FPS)
    assert _names(tmp_path) == []


def test_video_writer_keeps_every_frame_when_the_encoder_is_slower_than_the_caller(
    tmp_path: Path,
) -> None:
    # A stand-in stream whose encode blocks like a busy x264, so frames pile up in the queue
    # between the caller and the encoder thread; closing must still encode every one of them.
    class SlowStream:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def encode(self, frame: object = None) -> object:
            if frame is not None:
                time.sleep(0.03)
            return self.inner.encode(frame)  # type: ignore[attr-defined]

    out = tmp_path / "slow.mp4"
    frames = [np.full((72, 128, 3), i * 8, np.uint8) for i in range(24)]
    with VideoWriter(out, width=128, height=72, fps=24) as writer:
        writer._stream = SlowStream(writer._stream)  # type: ignore[assignment]
        for frame in frames:
            writer.write(frame)
    assert probe(out).frames == 24
