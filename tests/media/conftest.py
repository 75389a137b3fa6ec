"""Small synthetic clips for the media tests: cheap to encode, easy to recognise when decoded."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

Frames = list[NDArray[np.uint8]]


def moving_square(count: int, width: int, height: int) -> Frames:
    """A colour gradient background with a white square sliding left to right.

    Smooth areas and one sharp edge: realistic for the encoder, and every frame differs,
    so a dropped, repeated or reordered frame shows up when frames are compared.
    """
    ys, xs = np.mgrid[0:height, 0:width]
    frames: Frames = []
    side = max(4, height // 4)
    for index in range(count):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[..., 0] = (xs * 255 // max(1, width - 1)).astype(np.uint8)
        frame[..., 1] = (ys * 255 // max(1, height - 1)).astype(np.uint8)
        frame[..., 2] = (index * 37) % 256
        left = (index * 5) % max(1, width - side)
        top = (height - side) // 2
        frame[top : top + side, left : left + side] = 255
        frames.append(frame)
    return frames


def solid_colours(count: int, width: int, height: int) -> Frames:
    """One flat, distinct colour per frame, so a tile or thumbnail tells which frame it shows."""
    frames: Frames = []
    for index in range(count):
        colour = ((index * 53) % 256, (index * 101 + 60) % 256, (255 - index * 29) % 256)
        frames.append(np.full((height, width, 3), colour, dtype=np.uint8))
    return frames


@pytest.fixture
def make_frames() -> Callable[[int, int, int], Frames]:
    """Returns ``moving_square(count, width, height)``."""
    return moving_square


@pytest.fixture
def make_solid_frames() -> Callable[[int, int, int], Frames]:
    """Returns ``solid_colours(count, width, height)``."""
    return solid_colours
