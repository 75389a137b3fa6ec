"""OpenCV's thread count is set once, from the settings, when the runtime is built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from openreel.config import Settings
from openreel.media.opencv import use_opencv_threads
from openreel.runtime import Runtime


@pytest.fixture
def opencv_default() -> Iterator[int]:
    """OpenCV's count before the test, put back after it (the setting is process-wide)."""
    before = cv2.getNumThreads()
    yield before
    cv2.setNumThreads(before)


def test_the_runtime_applies_the_setting(tmp_path: Path, opencv_default: int) -> None:
    cv2.setNumThreads(3)
    Runtime.from_settings(Settings(data_dir=tmp_path / "a"))
    assert cv2.getNumThreads() == 1  # the default: OpenCV's own pool off
    Runtime.from_settings(Settings(data_dir=tmp_path / "b", opencv_threads=2))
    assert cv2.getNumThreads() == 2
    Runtime.from_settings(Settings(data_dir=tmp_path / "c", opencv_threads=None))
    assert cv2.getNumThreads() == 2  # None leaves whatever OpenCV had


def test_a_count_below_one_is_refused_naming_the_value(opencv_default: int) -> None:
    with pytest.raises(ValueError, match="got 0"):
        use_opencv_threads(0)
    assert cv2.getNumThreads() == opencv_default
