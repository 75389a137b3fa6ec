"""Thumbnails and hover-scrub spritesheets, collected while frames stream past.

A render never holds the whole clip, so previews are gathered on the way: the caller asks
:meth:`PreviewCollector.wants` for each frame index and hands over only the frames that are
needed, which are shrunk at once. Memory stays at a few small tiles and one thumbnail however
long or large the video is. Files handed back by hosted providers go through
:func:`previews_from_file`, which decodes them and feeds the same collector.

The spritesheet's :class:`SpritesheetLayout` tells the web studio how to cut the grid back
into tiles and which source frame each tile shows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from openreel.errors import ConfigurationError, MediaError
from openreel.media.partial import partial_path
from openreel.media.probe import probe

__all__ = [
    "SPRITESHEET_COLUMNS",
    "SPRITESHEET_TILES",
    "SPRITESHEET_TILE_WIDTH",
    "PreviewCollector",
    "SpritesheetLayout",
    "previews_from_file",
]

# What Pillow, PyAV and the file system raise; mapped to MediaError at this boundary.
_FOREIGN_ERRORS: Final = (av.FFmpegError, OSError, ValueError)

SPRITESHEET_TILES: Final = 10
"""Tiles in a spritesheet (fewer when the video has fewer frames)."""

SPRITESHEET_COLUMNS: Final = 5
"""Tiles per spritesheet row."""

SPRITESHEET_TILE_WIDTH: Final = 256
"""Width of one spritesheet tile in pixels; its height follows the video's aspect ratio."""

_QUALITY: Final = 80
"""Lossy quality for both previews: small files, no visible blocking at these sizes."""


@dataclass(frozen=True, slots=True)
class SpritesheetLayout:
    """How a spritesheet is laid out, left to right then top to bottom.

    Attributes:
        tiles: Number of tiles in the sheet.
        columns: Tiles per row.
        rows: Number of rows; the last one may be partly empty.
        tile_width: Width of one tile in pixels.
        tile_height: Height of one tile in pixels.
        frame_indices: The source frame each tile shows, in tile order, so the studio can
            map a hover position to a time.
    """

    tiles: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    frame_indices: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the layout (frame indices as a list)."""
        data = asdict(self)
        data["frame_indices"] = list(self.frame_indices)
        return data


def _positive(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(
            f"preview {name} must be a whole number of at least {minimum}; got {value!r}"
        )
    return value


def _spread(count: int, total: int) -> tuple[int, ...]:
    """Picks ``count`` distinct indices spread evenly over ``0 .. total - 1``, ends included.

    Integer rounding (half up) keeps the result exact and strictly increasing whenever
    ``count <= total``; a lone index sits in the middle of the clip.
    """
    if count == 1:
        return ((total - 1) // 2,)
    span, steps = total - 1, count - 1
    return tuple((i * span * 2 + steps) // (steps * 2) for i in range(count))


def _shrink(frame: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    # INTER_AREA averages the pixels a target pixel covers: the sharpest alias-free shrink.
    resized = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def _save_atomically(image: Image.Image, path: Path, image_format: str, **options: Any) -> Path:
    """Saves ``image`` beside ``path`` and renames it into place, deleting it on any failure."""
    path = Path(path)
    temp = partial_path(path)
    try:
        image.save(temp, format=image_format, **options)
        temp.replace(path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, _FOREIGN_ERRORS):
            raise MediaError(f"writing {image_format} preview '{path}' failed: {exc}") from exc
        raise
    return path


class PreviewCollector:
    """Keeps small copies of the few frames a thumbnail and a spritesheet need.

    Example::

        previews = PreviewCollector(total_frames=240)
        for index, frame in enumerate(frames):
            writer.write(frame)
            if previews.wants(index):
                previews.add(index, frame)
        previews.write_thumbnail(folder / "thumbnail.webp")
        layout = previews.write_spritesheet(folder / "spritesheet.jpg")
    """

    def __init__(
        self,
        total_frames: int,
        *,
        tiles: int = SPRITESHEET_TILES,
        columns: int = SPRITESHEET_COLUMNS,
        tile_width: int = SPRITESHEET_TILE_WIDTH,
        thumbnail_width: int = 640,
        thumbnail_at: float = 0.4,
    ) -> None:
        """Decides which frames will be needed.

        Args:
            total_frames: Number of frames in the video.
            tiles: Tiles wanted in the spritesheet; fewer when the video has fewer frames.
            columns: Tiles per spritesheet row.
            tile_width: Width of one tile in pixels; the height follows the aspect ratio.
            thumbnail_width: Largest thumbnail width; smaller videos are not enlarged.
            thumbnail_at: Where the thumbnail is taken, as a fraction of the clip (0 to 1);
                a little before the middle usually shows the subject fully developed.

        Raises:
            MediaError: The video has no frames.
            ConfigurationError: A preview option is out of range.
        """
        if isinstance(total_frames, bool) or not isinstance(total_frames, int) or total_frames < 1:
            raise MediaError(f"a video needs at least one frame for previews; got {total_frames!r}")
        _positive("tiles", tiles)
        _positive("columns", columns)
        _positive("tile_width", tile_width, 2)
        _positive("thumbnail_width", thumbnail_width, 2)
        if not isinstance(thumbnail_at, int | float) or not 0.0 <= thumbnail_at <= 1.0:
            raise ConfigurationError(
                f"preview thumbnail_at must be a fraction from 0 to 1; got {thumbnail_at!r}"
            )
        self._total = total_frames
        self._tile_indices = _spread(min(tiles, total_frames), total_frames)
        self._columns = columns
        self._tile_width = tile_width
        self._thumbnail_width = thumbnail_width
        self._thumbnail_index = round(thumbnail_at * (total_frames - 1))
        self._wanted = frozenset((*self._tile_indices, self._thumbnail_index))
        self._source_size: tuple[int, int] | None = None
        self._tile_height = 0
        self._tiles: dict[int, NDArray[np.uint8]] = {}
        self._thumbnail: NDArray[np.uint8] | None = None

    @property
    def total_frames(self) -> int:
        """Number of frames in the video."""
        return self._total

    @property
    def tile_indices(self) -> tuple[int, ...]:
        """The source frames the spritesheet will show, in tile order."""
        return self._tile_indices

    @property
    def thumbnail_index(self) -> int:
        """The source frame the thumbnail will show."""
        return self._thumbnail_index

    @property
    def last_wanted(self) -> int:
        """The highest frame index needed; decoding can stop after it."""
        return max(self._wanted)

    def wants(self, index: int) -> bool:
        """Tells whether frame ``index`` is needed, so callers can skip converting it."""
        return index in self._wanted

    def add(self, index: int, frame: NDArray[np.uint8]) -> bool:
        """Keeps shrunk copies of a frame if it is wanted; the frame itself is not kept.

        Args:
            index: The frame's position in the video, from 0.
            frame: RGB ``uint8`` pixels shaped ``(height, width, 3)``.

        Returns:
            Whether the frame was wanted (and so kept).

        Raises:
            MediaError: The frame is not an RGB image or its size differs from earlier frames.
        """
        if index not in self._wanted:
            return False
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise MediaError(
                f"preview frame {index} must be uint8 shaped (height, width, 3); "
                f"got {frame.dtype} shaped {tuple(frame.shape)}"
            )
        height, width = int(frame.shape[0]), int(frame.shape[1])
        if self._source_size is None:
            self._source_size = (width, height)
            # Even, so the sheet can be cut back into tiles by a video scaler too.
            self._tile_height = max(2, round(self._tile_width * height / width / 2) * 2)
        elif self._source_size != (width, height):
            raise MediaError(
                f"preview frame {index} is {width}x{height}, but earlier frames were "
                f"{self._source_size[0]}x{self._source_size[1]}"
            )
        if index in self._tile_indices:
            self._tiles[index] = _shrink(frame, self._tile_width, self._tile_height)
        if index == self._thumbnail_index:
            thumb_width = min(self._thumbnail_width, width)
            thumb_height = max(1, round(thumb_width * height / width))
            self._thumbnail = _shrink(frame, thumb_width, thumb_height)
        return True

    def write_thumbnail(self, path: Path) -> Path:
        """Writes the thumbnail as WebP, atomically.

        Args:
            path: Where the thumbnail goes; its folder must exist.

        Returns:
            The path written.

        Raises:
            MediaError: The thumbnail frame was never added, or writing failed (no file is
                left behind).
        """
        if self._thumbnail is None:
            raise MediaError(
                f"thumbnail needs frame {self._thumbnail_index}, which was never added"
            )
        image = Image.fromarray(self._thumbnail)
        # Method 2 of libwebp's 0-6 effort scale: the default 4 took about three times as long
        # for a file a few percent smaller, on the path between a video's last frame and its
        # completion (benchmarks/README.md, gateway pacing).
        return _save_atomically(image, path, "WEBP", quality=_QUALITY, method=2)

    def write_spritesheet(self, path: Path) -> SpritesheetLayout:
        """Writes the tiles as one JPEG grid, atomically.

        Args:
            path: Where the spritesheet goes; its folder must exist.

        Returns:
            The layout of the grid and the frame each tile shows.

        Raises:
            MediaError: A tile's frame was never added, or writing failed (no file is left
                behind).
        """
        for index in self._tile_indices:
            if index not in self._tiles:
                raise MediaError(f"spritesheet needs frame {index}, which was never added")
        count = len(self._tile_indices)
        columns = min(self._columns, count)
        rows = math.ceil(count / columns)
        tile_w, tile_h = self._tile_width, self._tile_height
        sheet = np.zeros((rows * tile_h, columns * tile_w, 3), dtype=np.uint8)
        for position, index in enumerate(self._tile_indices):
            row, column = divmod(position, columns)
            sheet[row * tile_h : (row + 1) * tile_h, column * tile_w : (column + 1) * tile_w] = (
                self._tiles[index]
            )
        image = Image.fromarray(sheet)
        _save_atomically(image, path, "JPEG", quality=_QUALITY, optimize=True)
        return SpritesheetLayout(
            tiles=count,
            columns=columns,
            rows=rows,
            tile_width=tile_w,
            tile_height=tile_h,
            frame_indices=self._tile_indices,
        )


def previews_from_file(
    video: Path,
    *,
    tiles: int = SPRITESHEET_TILES,
    columns: int = SPRITESHEET_COLUMNS,
    tile_width: int = SPRITESHEET_TILE_WIDTH,
    thumbnail_width: int = 640,
    thumbnail_at: float = 0.4,
) -> PreviewCollector:
    """Collects previews from a finished video file, such as one a hosted provider returned.

    Every frame up to the last wanted one is decoded (H.264 cannot skip ahead without
    seeking to keyframes), but only wanted frames are converted to RGB and shrunk.

    Args:
        video: The video file.
        tiles: As for :class:`PreviewCollector`.
        columns: As for :class:`PreviewCollector`.
        tile_width: As for :class:`PreviewCollector`.
        thumbnail_width: As for :class:`PreviewCollector`.
        thumbnail_at: As for :class:`PreviewCollector`.

    Returns:
        A collector holding every frame it wants, ready to write.

    Raises:
        MediaError: The file is missing, unreadable, or has fewer frames than it claims.
    """
    video = Path(video)
    info = probe(video)
    collector = PreviewCollector(
        info.frames,
        tiles=tiles,
        columns=columns,
        tile_width=tile_width,
        thumbnail_width=thumbnail_width,
        thumbnail_at=thumbnail_at,
    )
    last = collector.last_wanted
    try:
        with av.open(str(video), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                if collector.wants(index):
                    rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                    collector.add(index, rgb)
                if index >= last:
                    break
    except _FOREIGN_ERRORS as exc:
        raise MediaError(f"decoding '{video}' for previews failed: {exc}") from exc
    return collector
