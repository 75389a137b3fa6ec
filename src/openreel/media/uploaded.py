"""Checking a video someone uploaded (to edit, extend or make a character from) before it is kept.

An upload is untrusted bytes: it may be empty, an image with a video's name, sound only, cut
short, or too long or too large. Each of these gets a 400 naming the parameter and saying
which, so a client can tell its user what to fix. The container must be one of the three the
API promises (MP4, MOV, WebM), judged by what PyAV finds in the bytes, never by the name; a
truncated file is caught by reading every packet (cheap: nothing is decoded but the first
frame), since a moov box at the front still announces every frame of a cut-off file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
import numpy.typing as npt

from openreel.domain import MIN_SIDE
from openreel.errors import InvalidRequestError
from openreel.media.probe import iter_frames

__all__ = [
    "UploadLimits",
    "UploadedVideo",
    "check_video",
    "fit_picture",
    "fitted_frames",
    "last_frame",
]

_FOREIGN_ERRORS: Final = (
    av.FFmpegError,
    OSError,
    ValueError,
    IndexError,
    AttributeError,  # a stream whose codec could not be opened has no codec context
    StopIteration,
)

_CONTAINERS: Final = {"mov": "mp4", "mp4": "mp4", "matroska": "webm", "webm": "webm"}
"""PyAV's demuxer names (``mov,mp4,m4a,3gp,3g2,mj2``, ``matroska,webm``) to a stored suffix."""


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What an uploaded video may be (from ``config.VideoUploadConfig``)."""

    max_bytes: int
    max_seconds: float
    max_side: int


@dataclass(frozen=True, slots=True)
class UploadedVideo:
    """The facts of an accepted upload.

    Attributes:
        suffix: ``mp4`` (MP4 and MOV share the demuxer and play the same) or ``webm``.
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Average frames per second.
        frames: Frames in the first video stream.
        seconds: ``frames / fps``.
    """

    suffix: str
    width: int
    height: int
    fps: float
    frames: int
    seconds: float


def _refuse(param: str, what: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param} {what}", param=param)


_ISO_BOXES: Final = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
"""Box types an MP4 or MOV file opens with."""
_EBML: Final = b"\x1a\x45\xdf\xa3"
"""The magic number of a Matroska or WebM file."""


def _unopenable(path: Path) -> str:
    """Why FFmpeg could not open the file: an MP4, MOV or WebM that was cut short (an MP4
    written by a camera keeps its index, the moov box, at the end, so a cut one cannot be
    opened at all) or bytes that are no video."""
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[4:8] in _ISO_BOXES:
        return "is truncated or damaged: an MP4 or MOV file whose index (moov box) is missing"
    if head.startswith(_EBML):
        return "is truncated or damaged: a WebM file that cannot be read"
    return "is not a video file (MP4, MOV or WebM expected)"


def _frames_by_duration(duration: int | None, fps: float) -> int:
    """The frames a container's stated length announces (WebM states no frame count), or 0
    when it states none (a browser's MediaRecorder writes none)."""
    if not duration or duration <= 0:
        return 0
    return round(duration / av.time_base * fps)


def _slack(declared: int, counted: int) -> int:
    """Frames a file may hold fewer than it announces: none when the container counts them;
    against a stated length, what the sound running a little longer than the picture explains."""
    return 0 if counted else max(2, declared // 10)


def check_video(path: Path, limits: UploadLimits, *, param: str = "video") -> UploadedVideo:
    """Accepts the upload at ``path`` or says precisely why not.

    Raises:
        InvalidRequestError: Empty, over the size limit, not an MP4/MOV/WebM video, no video
            stream, truncated or undecodable, too long, or too large or too small a picture.
    """
    size = path.stat().st_size
    if size == 0:
        raise _refuse(param, "is empty (0 bytes); upload an MP4, MOV or WebM video")
    if size > limits.max_bytes:
        raise _refuse(param, f"is {size} bytes; the limit is {limits.max_bytes} bytes")
    try:
        container = av.open(str(path), mode="r")
    except _FOREIGN_ERRORS:
        raise _refuse(param, _unopenable(path)) from None
    with container:
        names = container.format.name.split(",")
        suffix = next((_CONTAINERS[n] for n in names if n in _CONTAINERS), None)
        if suffix is None:
            raise _refuse(
                param,
                f"is not an MP4, MOV or WebM video (its content is {container.format.long_name})",
            )
        if not container.streams.video:
            raise _refuse(param, "has no video stream (sound only?)")
        stream = container.streams.video[0]
        try:
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = stream.average_rate or stream.guessed_rate
        except _FOREIGN_ERRORS:
            raise _refuse(param, "is truncated or damaged (its video cannot be read)") from None
        fps = float(rate) if rate else 0.0
        if not width or not height or fps <= 0:
            raise _refuse(param, "has a video stream with no picture size or frame rate")
        if max(width, height) > limits.max_side:
            raise _refuse(
                param, f"is {width}x{height}; the largest side allowed is {limits.max_side} pixels"
            )
        if min(width, height) < MIN_SIDE:
            raise _refuse(
                param, f"is {width}x{height}; the smallest side allowed is {MIN_SIDE} pixels"
            )
        declared = stream.frames or _frames_by_duration(container.duration, fps)
        if declared and declared / fps > limits.max_seconds:
            raise _refuse(
                param, f"is {declared / fps:g} s long; the limit is {limits.max_seconds:g} s"
            )
        try:
            packets = 0
            for packet in container.demux(stream):
                if packet.size > 0:
                    packets += 1
            container.seek(0)
            next(container.decode(stream))  # the first picture decodes
        except _FOREIGN_ERRORS:
            raise _refuse(param, "is truncated or damaged (its frames cannot be read)") from None
    if packets == 0 or (declared and packets < declared - _slack(declared, stream.frames)):
        raise _refuse(param, f"is truncated: it announces {declared} frames but holds {packets}")
    seconds = packets / fps
    if seconds > limits.max_seconds:
        raise _refuse(param, f"is {seconds:g} s long; the limit is {limits.max_seconds:g} s")
    return UploadedVideo(suffix, width, height, fps, packets, seconds)


def fit_picture(frame: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """``frame`` at ``width`` x ``height`` (area-averaged when scaled), itself when it fits."""
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    return np.ascontiguousarray(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA))


def fitted_frames(
    path: Path,
    width: int,
    height: int,
    count: int,
) -> Iterator[npt.NDArray[np.uint8]]:
    """Exactly ``count`` RGB frames of ``path`` at ``width`` x ``height``.

    An uploaded file may be an odd size (the encoder wants even sides) and may hold a frame
    more or less than its length rounds to; the last frame is repeated when it runs short.
    """
    made = 0
    last: npt.NDArray[np.uint8] | None = None
    for frame in iter_frames(path):
        if made >= count:
            break
        last = fit_picture(frame, width, height)
        yield last
        made += 1
    while made < count and last is not None:
        yield last.copy()
        made += 1


def last_frame(
    path: Path, width: int, height: int, *, each: Callable[[], object] | None = None
) -> npt.NDArray[np.uint8]:
    """The final frame of ``path`` at ``width`` x ``height`` (where a continuation starts).

    Every frame is decoded (an H.264 file may be one group of pictures) but only the last is
    converted to RGB: the conversion costs more than the decode at 1080p. ``each`` is called
    after every decoded frame: a render says it is alive and asks for a cancel there, since a
    long 1080p source takes seconds to read on a busy machine.
    """
    try:
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            last = None
            for frame in container.decode(stream):
                last = frame
                if each is not None:
                    each()
            if last is None:
                raise InvalidRequestError("video has no frames", param="video")
            pixels = np.asarray(last.to_ndarray(format="rgb24"), dtype=np.uint8)
    except _FOREIGN_ERRORS as exc:
        raise InvalidRequestError(f"video cannot be read to its end: {exc}", param="video") from exc
    return fit_picture(pixels, width, height)
