"""Previews made elsewhere (an upstream OpenReel's thumbnail and spritesheet), checked against
the video's own frames before they are kept as this server's.

A gateway relaying an upstream OpenReel's video (``services.relay``) decodes every frame anyway
to see the label, but converting the dozen frames previews need to RGB, shrinking them and
writing a WebP and a JPEG again was a large part of what a relay cost (benchmarks/README.md,
gateway pacing), for files the upstream had already made from the same frames. So the
upstream's files are taken, but not on its word: each preview must show the frame it stands
for. The test is on brightness alone, read from the decoded picture's luma plane (no RGB
conversion): the frame shrunk to the preview's size and the preview, both averaged over
blocks of :data:`BLOCK` pixels, may differ by at most :data:`TOLERANCE` grey levels in any
block. Measured on the sketch engine's 640x360 videos, a preview of its own frame differs by
at most about 3 levels (lossy WebP and JPEG at quality 80), the next frame by about 8, another
moment of the same clip by 60 or more, and the same frame with its label blanked by about 90;
so a preview is the frame it claims, label included, or it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from openreel.media.previews import PreviewCollector

__all__ = ["BLOCK", "TOLERANCE", "PreviewCheck", "previews_beside"]

BLOCK: Final = 8
"""Side in preview pixels of the blocks compared (averaged, so codec noise cancels out)."""

TOLERANCE: Final = 16.0
"""Largest difference, in grey levels (0-255), a block of a preview may show against the frame."""


def previews_beside(video: Path) -> tuple[Path, Path]:
    """The thumbnail's and spritesheet's paths next to ``video`` (``clip.thumbnail.webp``,
    ``clip.spritesheet.jpg``): where a hosted backend puts an upstream's previews beside the
    video it lends, and where a render writes its own."""
    return video.with_suffix(".thumbnail.webp"), video.with_suffix(".spritesheet.jpg")


@dataclass(frozen=True, slots=True)
class PreviewCheck:
    """Another's thumbnail and spritesheet for a video, to be checked frame by frame as the
    video is decoded (:meth:`matches`); built by :meth:`load`, which only accepts files laid
    out as this server's own :class:`PreviewCollector` would write them.

    Attributes:
        thumbnail: The thumbnail file.
        spritesheet: The spritesheet file.
    """

    thumbnail: Path
    spritesheet: Path
    _pictures: dict[int, list[NDArray[np.float32]]]

    @classmethod
    def load(
        cls,
        thumbnail: Path,
        spritesheet: Path,
        layout: PreviewCollector,
        width: int,
        height: int,
    ) -> PreviewCheck | None:
        """Reads the two files; None when either is missing, unreadable, or not the size
        ``layout`` gives frames of ``width`` x ``height`` (another version's or setting's
        previews: the caller makes its own)."""
        thumb = _grey(thumbnail, lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        sheet = _grey(spritesheet, lambda head: head[:3] == b"\xff\xd8\xff")  # JPEG
        if thumb is None or sheet is None:
            return None
        (thumb_w, thumb_h), (tile_w, tile_h) = layout.sizes(width, height)
        indices = layout.tile_indices
        columns = layout.columns
        rows = -(-len(indices) // columns)
        if thumb.shape[:2] != (thumb_h, thumb_w) or sheet.shape[:2] != (
            rows * tile_h,
            columns * tile_w,
        ):
            return None
        if min(thumb_w, thumb_h, tile_w, tile_h) < BLOCK:
            return None  # too small to tell one picture from another
        pictures: dict[int, list[NDArray[np.float32]]] = {}
        tiles = [
            sheet[row * tile_h : (row + 1) * tile_h, column * tile_w : (column + 1) * tile_w]
            for row, column in (divmod(position, columns) for position in range(len(indices)))
        ]
        for index, picture in [(layout.thumbnail_index, thumb), *zip(indices, tiles, strict=True)]:
            pictures.setdefault(index, []).append(_blocks(picture))
        return cls(thumbnail, spritesheet, pictures)

    def wants(self, index: int) -> bool:
        """Whether frame ``index`` is shown by a preview (and so must be checked)."""
        return index in self._pictures

    def matches(self, index: int, luma: NDArray[np.uint8]) -> bool:
        """Whether every preview of frame ``index`` shows ``luma``, that frame's decoded
        brightness plane (video range, 16-235), within :data:`TOLERANCE` (module docstring)."""
        for picture in self._pictures.get(index, ()):
            rows, columns = picture.shape
            # Straight to the block grid: averaging over the frame's pixels a block covers is
            # the shrink to the preview's size and the block means in one step.
            blocks = cv2.resize(luma, (columns, rows), interpolation=cv2.INTER_AREA)
            full = (np.asarray(blocks, dtype=np.float32) - 16.0) * (
                255.0 / 219.0
            )  # video range to full range
            if float(np.abs(full - picture).max()) > TOLERANCE:
                return False
        return True


def _grey(path: Path, is_format: Callable[[bytes], bool]) -> NDArray[np.uint8] | None:
    """The picture at ``path`` as grey levels (BT.601 weights, as video's luma; a JPEG decodes
    only its brightness), or None when it is missing, of another format or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not is_format(data[:12]):
        return None
    grey = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    return None if grey is None else np.asarray(grey, dtype=np.uint8)


def _blocks(picture: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Means over whole blocks of :data:`BLOCK` pixels (area averaging; a ragged edge is
    spread over the last blocks)."""
    size = (max(1, picture.shape[1] // BLOCK), max(1, picture.shape[0] // BLOCK))
    return np.asarray(cv2.resize(picture, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
