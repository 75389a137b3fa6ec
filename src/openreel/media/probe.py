"""Reading facts and frames back out of video files.

Used to check what the encoder wrote, to describe files that hosted providers hand back, and
by tests. Every PyAV or file-system failure becomes a :class:`~openreel.errors.MediaError`
that names the file.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import av
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream
from numpy.typing import NDArray

from openreel.errors import MediaError

__all__ = ["VideoInfo", "iter_frames", "mp4_is_faststart", "probe"]

# What PyAV, FFmpeg and the file system raise; mapped to MediaError at this boundary.
_FOREIGN_ERRORS: Final = (av.FFmpegError, OSError, ValueError)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a video file holds, as far as playback and the API care.

    Attributes:
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Average frames per second.
        frames: Number of frames in the first video stream.
        duration: Length in seconds, ``frames / fps``.
        codec: Codec name as FFmpeg spells it (``h264``).
        pix_fmt: Pixel format of the coded frames (``yuv420p``).
        size_bytes: File length in bytes.
        faststart: Whether the MP4 index comes before the media data, so a browser can start
            playing while the rest still downloads.
    """

    width: int
    height: int
    fps: float
    frames: int
    duration: float
    codec: str
    pix_fmt: str
    size_bytes: int
    faststart: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the facts."""
        return asdict(self)


def mp4_is_faststart(path: Path) -> bool:
    """Tells whether the top-level ``moov`` box of an MP4 comes before its ``mdat`` box.

    An MP4 is a flat run of boxes, each starting with a 32-bit big-endian size and a
    4-character type, so walking the top level takes a dozen lines; no library is needed.
    A size of 1 means a 64-bit size follows the type; a size of 0 means the box runs to the
    end of the file.

    Args:
        path: The file to inspect.

    Returns:
        True when ``moov`` is found before ``mdat``; False otherwise, including for files
        that are not MP4 or are cut short.

    Raises:
        MediaError: The file cannot be read.
    """
    try:
        with path.open("rb") as file:
            end = file.seek(0, 2)
            offset = 0
            while offset + 8 <= end:
                file.seek(offset)
                size, kind = struct.unpack(">I4s", file.read(8))
                header = 8
                if size == 1:
                    extended = file.read(8)
                    if len(extended) < 8:
                        return False
                    (size,) = struct.unpack(">Q", extended)
                    header = 16
                elif size == 0:
                    size = end - offset
                if kind == b"moov":
                    return True
                if kind == b"mdat":
                    return False
                if size < header:  # corrupt: a box cannot be smaller than its header
                    return False
                offset += size
    except OSError as exc:
        raise MediaError(f"cannot read '{path}': {exc}") from exc
    return False


def _open_video(path: Path) -> tuple[InputContainer, VideoStream]:
    if not path.is_file():
        raise MediaError(f"video file not found: '{path}'")
    try:
        container = av.open(str(path), mode="r")
    except _FOREIGN_ERRORS as exc:
        raise MediaError(f"'{path}' is not a readable video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(f"'{path}' has no video stream")
    return container, container.streams.video[0]


def probe(path: Path) -> VideoInfo:
    """Describes the first video stream of a file.

    Args:
        path: The video to inspect.

    Returns:
        Its size, rate, frame count, codec, pixel format, length and layout.

    Raises:
        MediaError: The file is missing, unreadable or holds no video.
    """
    path = Path(path)
    container, stream = _open_video(path)
    try:
        with container:
            context = stream.codec_context
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            frames = stream.frames
            if frames == 0:
                # Some containers do not record a count; demuxing reads packets without
                # decoding them. Empty packets only flush the demuxer.
                frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
            codec = context.name
            pix_fmt = context.pix_fmt or ""
            width, height = context.width, context.height
        size_bytes = path.stat().st_size
    except _FOREIGN_ERRORS as exc:
        raise MediaError(f"'{path}' is not a readable video: {exc}") from exc
    return VideoInfo(
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        duration=frames / fps if fps else 0.0,
        codec=codec,
        pix_fmt=pix_fmt,
        size_bytes=size_bytes,
        faststart=mp4_is_faststart(path),
    )


def iter_frames(path: Path) -> Generator[NDArray[np.uint8], None, None]:
    """Decodes a video's frames one at a time as RGB arrays.

    The file is opened on the first ``next()`` and closed when the frames run out, when
    decoding fails, or when the consumer stops early (the generator is closed or collected).

    Args:
        path: The video to decode.

    Yields:
        RGB ``uint8`` arrays shaped ``(height, width, 3)``.

    Raises:
        MediaError: The file is missing, unreadable or cannot be decoded.
    """
    path = Path(path)
    container, stream = _open_video(path)
    with container:
        stream.thread_type = "AUTO"
        decoded = container.decode(stream)
        while True:
            try:
                frame = next(decoded, None)
                if frame is None:
                    return
                # asarray only narrows the type: to_ndarray already returns uint8 for rgb24.
                pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            except _FOREIGN_ERRORS as exc:
                raise MediaError(f"decoding '{path}' failed: {exc}") from exc
            yield pixels


def luma(frame: av.VideoFrame) -> NDArray[np.uint8]:
    """The brightness plane of a decoded YUV picture as a view (no conversion, no copy).

    Enough to look for a shape, such as the visible label, in every frame of a video at a
    fraction of the cost of converting each to RGB.

    Raises:
        MediaError: The picture is not planar YUV.
    """
    if not frame.format.name.startswith(("yuv", "yuvj", "nv12")):
        raise MediaError(f"a {frame.format.name} picture has no brightness plane")
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]
