"""Tests for openreel.media.previews: which frames are kept, and the files written from them."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image

from openreel.errors import ConfigurationError, MediaError
from openreel.media.encode import EncoderSettings, encode_video
from openreel.media.previews import PreviewCollector, SpritesheetLayout, previews_from_file

Frames = list[NDArray[np.uint8]]
MakeFrames = Callable[[int, int, int], Frames]

WIDTH, HEIGHT = 128, 72


def _feed(collector: PreviewCollector, frames: Frames) -> None:
    for index, frame in enumerate(frames):
        if collector.wants(index):
            collector.add(index, frame)


def _names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


# --- which frames ---------------------------------------------------------------------------


def test_preview_collector_tiles_span_whole_clip_evenly() -> None:
    collector = PreviewCollector(240, tiles=10)
    indices = collector.tile_indices
    assert len(indices) == 10
    assert indices[0] == 0
    assert indices[-1] == 239
    gaps = np.diff(indices)
    assert gaps.max() - gaps.min() <= 1


@given(total=st.integers(1, 2000), tiles=st.integers(1, 40))
def test_preview_collector_tile_indices_distinct_sorted_and_even(total: int, tiles: int) -> None:
    indices = PreviewCollector(total, tiles=tiles).tile_indices
    assert len(indices) == min(total, tiles)
    assert list(indices) == sorted(set(indices))
    assert all(0 <= index < total for index in indices)
    if len(indices) > 1:
        assert (indices[0], indices[-1]) == (0, total - 1)
        gaps = np.diff(indices)
        assert gaps.max() - gaps.min() <= 1


def test_preview_collector_thumbnail_index_follows_fraction() -> None:
    assert PreviewCollector(240).thumbnail_index == round(0.4 * 239)
    assert PreviewCollector(240, thumbnail_at=0.0).thumbnail_index == 0
    assert PreviewCollector(240, thumbnail_at=1.0).thumbnail_index == 239


def test_preview_collector_wants_only_tiles_and_thumbnail() -> None:
    collector = PreviewCollector(240, tiles=10)
    wanted = {index for index in range(240) if collector.wants(index)}
    assert wanted == {*collector.tile_indices, collector.thumbnail_index}
    assert collector.last_wanted == 239


def test_preview_collector_add_ignores_unwanted_frames() -> None:
    collector = PreviewCollector(240, tiles=10)
    unwanted = next(index for index in range(240) if not collector.wants(index))
    assert collector.add(unwanted, np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)) is False
    assert collector.add(0, np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)) is True


def test_preview_collector_keeps_only_small_copies() -> None:
    collector = PreviewCollector(12, tiles=10, tile_width=128, thumbnail_width=320)
    frame_bytes = 720 * 1280 * 3  # 2.7 MB
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for index in range(12):
            # A fresh array each time, as a renderer makes: keeping it would show up here.
            collector.add(index, np.full((720, 1280, 3), index, dtype=np.uint8))
        held = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # 10 tiles of 128x72 plus one 320x180 thumbnail: about 450 kB, less than one frame.
    assert held < frame_bytes // 2


def test_preview_collector_fewer_frames_than_tiles(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    collector = PreviewCollector(3, tiles=10, columns=5, tile_width=64)
    assert collector.tile_indices == (0, 1, 2)
    _feed(collector, make_solid_frames(3, WIDTH, HEIGHT))
    layout = collector.write_spritesheet(tmp_path / "sheet.jpg")
    assert (layout.tiles, layout.columns, layout.rows) == (3, 3, 1)
    assert layout.frame_indices == (0, 1, 2)
    with Image.open(tmp_path / "sheet.jpg") as image:
        assert image.size == (3 * 64, 36)


def test_preview_collector_single_frame(tmp_path: Path, make_solid_frames: MakeFrames) -> None:
    collector = PreviewCollector(1)
    assert collector.tile_indices == (0,)
    assert collector.thumbnail_index == 0
    _feed(collector, make_solid_frames(1, WIDTH, HEIGHT))
    assert collector.write_spritesheet(tmp_path / "sheet.jpg").tiles == 1
    collector.write_thumbnail(tmp_path / "thumb.webp")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("tiles", 0),
        ("columns", 0),
        ("tile_width", 1),
        ("thumbnail_width", 0),
        ("thumbnail_at", 1.5),
        ("thumbnail_at", -0.1),
    ],
)
def test_preview_collector_rejects_bad_options(option: str, value: float) -> None:
    with pytest.raises(ConfigurationError) as info:
        PreviewCollector(10, **{option: value})  # type: ignore[arg-type]
    assert option in info.value.message
    assert repr(value) in info.value.message


def test_preview_collector_rejects_empty_video() -> None:
    with pytest.raises(MediaError):
        PreviewCollector(0)


def test_preview_collector_rejects_frames_of_changing_size() -> None:
    collector = PreviewCollector(2, tiles=2)
    collector.add(0, np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8))
    with pytest.raises(MediaError, match="64x36"):
        collector.add(1, np.zeros((36, 64, 3), dtype=np.uint8))


def test_preview_collector_rejects_non_rgb_frame() -> None:
    collector = PreviewCollector(2, tiles=2)
    with pytest.raises(MediaError, match=r"\(72, 128\)"):
        collector.add(0, np.zeros((HEIGHT, WIDTH), dtype=np.uint8))


# --- files ----------------------------------------------------------------------------------


def test_write_thumbnail_writes_webp_of_right_size(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    frames = make_solid_frames(20, WIDTH, HEIGHT)
    collector = PreviewCollector(20, thumbnail_width=64)
    _feed(collector, frames)
    path = collector.write_thumbnail(tmp_path / "thumb.webp")
    data = path.read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    with Image.open(path) as image:
        assert image.format == "WEBP"
        assert image.size == (64, 36)
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    expected = frames[collector.thumbnail_index][0, 0].astype(np.int16)
    assert np.abs(pixels - expected).mean() < 6
    assert _names(tmp_path) == ["thumb.webp"]


def test_write_thumbnail_never_enlarges_small_video(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    collector = PreviewCollector(5, thumbnail_width=640)
    _feed(collector, make_solid_frames(5, WIDTH, HEIGHT))
    with Image.open(collector.write_thumbnail(tmp_path / "thumb.webp")) as image:
        assert image.size == (WIDTH, HEIGHT)


def test_write_spritesheet_writes_jpeg_grid_in_tile_order(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    frames = make_solid_frames(30, WIDTH, HEIGHT)
    collector = PreviewCollector(30, tiles=7, columns=3, tile_width=50)
    _feed(collector, frames)
    layout = collector.write_spritesheet(tmp_path / "sheet.jpg")
    assert (layout.tiles, layout.columns, layout.rows) == (7, 3, 3)
    assert layout.tile_width == 50
    assert layout.tile_height == 28  # 50 * 72 / 128 = 28.1, kept even
    data = (tmp_path / "sheet.jpg").read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    with Image.open(tmp_path / "sheet.jpg") as image:
        assert image.format == "JPEG"
        assert image.size == (3 * 50, 3 * 28)
        sheet = np.asarray(image.convert("RGB"), dtype=np.int16)
    for position, index in enumerate(layout.frame_indices):
        row, column = divmod(position, 3)
        tile = sheet[row * 28 + 4 : (row + 1) * 28 - 4, column * 50 + 4 : (column + 1) * 50 - 4]
        assert np.abs(tile - frames[index][0, 0]).mean() < 8, f"tile {position}"
    assert _names(tmp_path) == ["sheet.jpg"]


def test_spritesheet_layout_to_dict_is_json_ready() -> None:
    layout = SpritesheetLayout(
        tiles=2, columns=2, rows=1, tile_width=256, tile_height=144, frame_indices=(0, 9)
    )
    data = json.loads(json.dumps(layout.to_dict()))
    assert data == {
        "tiles": 2,
        "columns": 2,
        "rows": 1,
        "tile_width": 256,
        "tile_height": 144,
        "frame_indices": [0, 9],
    }


def test_write_spritesheet_missing_frame_raises_naming_index(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    frames = make_solid_frames(20, WIDTH, HEIGHT)
    collector = PreviewCollector(20, tiles=5)
    missing = collector.tile_indices[2]
    for index, frame in enumerate(frames):
        if collector.wants(index) and index != missing:
            collector.add(index, frame)
    with pytest.raises(MediaError, match=f"frame {missing}\\b"):
        collector.write_spritesheet(tmp_path / "sheet.jpg")
    assert _names(tmp_path) == []


def test_write_thumbnail_missing_frame_raises_naming_index(tmp_path: Path) -> None:
    collector = PreviewCollector(20)
    with pytest.raises(MediaError, match=f"frame {collector.thumbnail_index}\\b"):
        collector.write_thumbnail(tmp_path / "thumb.webp")
    assert _names(tmp_path) == []


def test_preview_write_failure_leaves_no_partial_file(
    tmp_path: Path, make_solid_frames: MakeFrames
) -> None:
    collector = PreviewCollector(4, tiles=4)
    _feed(collector, make_solid_frames(4, WIDTH, HEIGHT))
    target = tmp_path / "thumb.webp"
    target.mkdir()  # the final rename cannot replace a directory
    with pytest.raises(MediaError, match=r"thumb\.webp"):
        collector.write_thumbnail(target)
    with pytest.raises(MediaError, match="missing"):
        collector.write_spritesheet(tmp_path / "missing" / "sheet.jpg")
    assert _names(tmp_path) == ["thumb.webp"]
    assert target.is_dir()


# --- from a file ----------------------------------------------------------------------------


def test_previews_from_file_matches_collector_fed_while_encoding(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    frames = make_frames(25, WIDTH, HEIGHT)
    video = tmp_path / "clip.mp4"
    encode_video(
        frames, video, width=WIDTH, height=HEIGHT, fps=24, settings=EncoderSettings(crf=12)
    )
    live = PreviewCollector(25, tiles=6, columns=3, tile_width=64)
    _feed(live, frames)
    decoded = previews_from_file(video, tiles=6, columns=3, tile_width=64)
    assert decoded.tile_indices == live.tile_indices
    assert decoded.thumbnail_index == live.thumbnail_index

    live_layout = live.write_spritesheet(tmp_path / "live.jpg")
    decoded_layout = decoded.write_spritesheet(tmp_path / "decoded.jpg")
    assert decoded_layout == live_layout
    live.write_thumbnail(tmp_path / "live.webp")
    decoded.write_thumbnail(tmp_path / "decoded.webp")
    for name in ("{}.jpg", "{}.webp"):
        with (
            Image.open(tmp_path / name.format("live")) as a,
            Image.open(tmp_path / name.format("decoded")) as b,
        ):
            assert a.size == b.size
            difference = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean()
        assert difference < 5, name


def test_previews_from_file_missing_file_raises_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"missing\.mp4"):
        previews_from_file(tmp_path / "missing.mp4")
