"""The visible label: small, in its corner, readable, and burned into every encoded frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.encode import EncoderSettings
from openreel.media.label import Labeler, LabelSpec
from openreel.media.probe import iter_frames
from openreel.services.generation import render_video


def _grey(width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), 120, np.uint8)


@pytest.mark.parametrize(
    ("corner", "left", "top"),
    [
        ("bottom-right", False, False),
        ("bottom-left", True, False),
        ("top-right", False, True),
        ("top-left", True, True),
    ],
)
def test_label_sits_small_in_its_corner(corner: str, left: bool, top: bool) -> None:
    labeler = Labeler(LabelSpec(corner=corner), 1920, 1080)  # type: ignore[arg-type]
    x0, y0, w, h = labeler.box
    assert w * h < 0.02 * 1920 * 1080
    assert (x0 < 960) is left
    assert (y0 < 540) is top
    frame = labeler.apply(_grey(1920, 1080))
    changed = np.argwhere((frame != 120).any(axis=2))
    assert changed[:, 0].min() >= y0
    assert changed[:, 0].max() < y0 + h
    assert changed[:, 1].min() >= x0
    assert changed[:, 1].max() < x0 + w


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920), (64, 64), (3840, 2160)])
def test_label_text_is_white_on_a_darker_plate(width: int, height: int) -> None:
    labeler = Labeler(LabelSpec(), width, height)
    x0, y0, w, h = labeler.box
    region = labeler.apply(_grey(width, height))[y0 : y0 + h, x0 : x0 + w]
    assert min(x0, y0) >= 0
    assert x0 + w <= width
    assert y0 + h <= height
    assert region.max() == 255  # fully covered text pixels are white
    assert np.median(region) < 120  # the plate darkens the scene behind the text


def test_label_spec_refuses_bad_values() -> None:
    with pytest.raises(InvalidRequestError, match=r"label\.text"):
        LabelSpec(text="")
    with pytest.raises(InvalidRequestError, match=r"label\.text"):
        LabelSpec(text="KI-generiert \u2713")
    with pytest.raises(InvalidRequestError, match=r"label\.corner"):
        LabelSpec(corner="middle")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match=r"label\.opacity"):
        LabelSpec(opacity=1.5)


def test_label_is_burned_into_the_encoded_video(tmp_path: Path) -> None:
    request = VideoRequest(prompt="a calm lake at noon", seconds=0.5, width=320, height=192, seed=3)
    settings = EncoderSettings()
    labelled, plain = tmp_path / "labelled.mp4", tmp_path / "plain.mp4"
    backend = SketchBackend()
    render_video(backend, request, labelled, encoder=settings, label=LabelSpec())
    render_video(backend, request, plain, encoder=settings)
    x0, y0, w, h = Labeler(LabelSpec(), 320, 192).box
    for with_label, without in zip(iter_frames(labelled), iter_frames(plain), strict=True):
        diff = np.abs(with_label.astype(np.int16) - without.astype(np.int16)).max(axis=2)
        inside = diff[y0 : y0 + h, x0 : x0 + w]
        outside = diff.copy()
        outside[max(0, y0 - 4) : y0 + h + 4, max(0, x0 - 4) : x0 + w + 4] = 0
        assert inside.mean() > 20  # plainly visible
        assert np.percentile(outside, 99) < 8  # the rest of the picture is untouched (codec noise)
