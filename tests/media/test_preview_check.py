"""An upstream's previews are kept only when each shows the frame it stands for.

The previews are this server's own (the sketch engine's render with its label, written by the
same collector an upstream OpenReel uses); the frames are read back from the encoded file as a
relay reads them (their luma planes).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import VideoRequest
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.media.preview_check import PreviewCheck, previews_beside
from openreel.media.previews import PreviewCollector
from openreel.media.probe import luma
from openreel.services.generation import PreviewPaths, render_video

REQUEST = VideoRequest(
    prompt="a lighthouse at dusk", seconds=1.0, width=320, height=180, fps=12, seed=5
)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled render with its previews beside it."""
    out = tmp_path_factory.mktemp("made") / "clip.mp4"
    render_video(
        SketchBackend(),
        REQUEST,
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        label=LabelSpec(),
    )
    return out


def _lumas(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [luma(frame).copy() for frame in container.decode(video=0)]


def _check(thumbnail: Path, spritesheet: Path) -> PreviewCheck | None:
    collector = PreviewCollector(REQUEST.frame_count)
    return PreviewCheck.load(thumbnail, spritesheet, collector, REQUEST.width, REQUEST.height)


def test_previews_made_from_a_videos_frames_match_them_all(made: Path) -> None:
    check = _check(*previews_beside(made))
    assert check is not None
    frames = _lumas(made)
    collector = PreviewCollector(REQUEST.frame_count)
    wanted = [i for i in range(len(frames)) if check.wants(i)]
    assert wanted == sorted({*collector.tile_indices, collector.thumbnail_index})
    assert all(check.matches(i, frames[i]) for i in wanted)


def test_a_preview_of_another_moment_or_with_the_label_blanked_does_not(made: Path) -> None:
    check = _check(*previews_beside(made))
    assert check is not None
    frames = _lumas(made)
    thumb = PreviewCollector(REQUEST.frame_count).thumbnail_index
    far = (thumb + len(frames) // 2) % len(frames)
    assert not check.matches(thumb, frames[far])  # another moment of the same clip
    assert not check.matches(0, frames[-1])  # the first tile against the last frame
    blanked = frames[thumb].copy()
    blanked[-24:, -120:] = blanked[-48:-24, -120:]  # the corner without its label
    assert not check.matches(thumb, blanked)


def test_previews_of_another_layout_format_or_none_at_all_are_not_taken(
    made: Path, tmp_path: Path
) -> None:
    thumbnail, spritesheet = previews_beside(made)
    smaller = tmp_path / "small.webp"
    with Image.open(thumbnail) as image:
        image.resize((160, 90)).save(smaller, "WEBP")
    png = tmp_path / "thumb.png"
    with Image.open(thumbnail) as image:
        image.save(png, "PNG")
    assert _check(smaller, spritesheet) is None  # another thumbnail width
    assert _check(thumbnail, smaller) is None  # not the sheet's layout (nor a JPEG)
    assert _check(png, spritesheet) is None  # not a WebP
    assert _check(tmp_path / "missing.webp", spritesheet) is None
    (tmp_path / "garbled.webp").write_bytes(b"RIFF\0\0\0\0WEBPgarbage")
    assert _check(tmp_path / "garbled.webp", spritesheet) is None
