"""Tests for openreel.media.uploaded.check_video: what a refused upload is told."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from openreel.errors import InvalidRequestError
from openreel.media.uploaded import UploadLimits, check_video

LIMITS = UploadLimits(max_bytes=10_000_000, max_seconds=60.0, max_side=3840)


def _camera_clip(path: Path, container: str) -> bytes:
    """A clip written as cameras and most tools write one: the MP4 index (moov) after the
    pictures, or a WebM, each with nothing rearranged afterwards."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format=container) as output:
        codec = "libx264" if container == "mp4" else "libvpx-vp9"
        stream = output.add_stream(codec, rate=8)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for _ in range(8):
            pixels = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path.read_bytes()


@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_an_upload_cut_short_is_called_truncated_not_a_non_video(
    tmp_path: Path, container: str
) -> None:
    whole = _camera_clip(tmp_path / f"whole.{container}", container)
    assert check_video(tmp_path / f"whole.{container}", LIMITS).frames == 8
    cut = tmp_path / f"cut.{container}"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidRequestError) as caught:
        check_video(cut, LIMITS)
    assert caught.value.param == "video"
    assert "truncated" in str(caught.value)


def test_bytes_that_are_no_video_at_all_are_called_so(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"these are notes, not a video " * 20)
    with pytest.raises(InvalidRequestError) as caught:
        check_video(text, LIMITS)
    assert caught.value.param == "video"
    assert "is not a video file" in str(caught.value)
    assert "truncated" not in str(caught.value)
