"""Cover-and-crop fitting shared by the hosted and local backends."""

from __future__ import annotations

import cv2
import numpy as np

from openreel.media.fit import cover


def _solid(value: int, size: int = 8) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def test_cover_fills_1080p_from_a_native_frame_without_stretching() -> None:
    frame = np.zeros((464, 832, 3), dtype=np.uint8)
    frame[:, 416:] = 255  # right half white
    out = cover(frame, 1920, 1080)
    assert out.shape == (1080, 1920, 3)
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous
    assert out[540, 100].max() < 10
    assert out[540, 1800].min() > 245
    assert abs(int(np.argmax(out[540, :, 0] > 127)) - 960) <= 4  # the edge stays centred


def test_cover_returns_a_copy_at_the_same_size() -> None:
    frame = _solid(7)
    out = cover(frame, 8, 8)
    assert np.array_equal(out, frame)
    assert not np.shares_memory(out, frame)


def test_cover_crops_a_tall_frame_to_a_wide_size_and_keeps_its_middle() -> None:
    frame = np.zeros((200, 100, 3), dtype=np.uint8)
    frame[90:110] = 255  # a white band across the middle
    out = cover(frame, 100, 50, upscale=cv2.INTER_LINEAR)
    assert out.shape == (50, 100, 3)
    assert out[25, 50].min() > 245  # the band is kept
    assert out[0, 50].max() < 10
    assert out[49, 50].max() < 10
