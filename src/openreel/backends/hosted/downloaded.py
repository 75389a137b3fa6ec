"""A provider's downloaded video made into exactly what the request asked for: its frames
scaled, centre-cropped, resampled and trimmed to the request's size, rate and length, and its
sound over the same span, so the two stay in step.

Apart from the hosted loop (backends/hosted/base.py), which fetches the file and hands it here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from openreel.backends.base import Frame, ProgressCallback
from openreel.domain import VideoRequest
from openreel.errors import BackendError, MediaError
from openreel.media.audio import Soundtrack, read_soundtrack
from openreel.media.fit import cover

__all__ = ["fitted_frames", "provider_sound"]

log = logging.getLogger(__name__)


def provider_sound(path: Path, request: VideoRequest, provider: str) -> Soundtrack | None:
    """The downloaded video's sound over the span :func:`fitted_frames` keeps of its picture: from
    its first frame, for the request's length, so a trim, a new frame rate or a new size
    leave sound and picture in step. None (and a warning) when the provider sent none.
    """
    try:
        track = read_soundtrack(path, seconds=request.frame_count / request.fps)
    except MediaError as exc:
        raise BackendError(
            f"{request.model}: the provider's sound could not be read: {exc}"
        ) from None
    if track is None:
        log.warning("%s: %s sent a video without sound; it is kept silent", provider, request.model)
    return track


def fitted_frames(
    path: Path, request: VideoRequest, total: int, progress: ProgressCallback
) -> Iterator[Frame]:
    """The downloaded video as exactly ``total`` frames of the request's size and rate.

    Output frame ``i`` shows the source frame on screen at ``i / fps``; frames are scaled to
    cover the request's size and centre-cropped, so the picture is never stretched.
    """
    width, height = request.width, request.height
    step = Fraction(1, request.fps)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 90000)
            current: Frame | None = None
            produced = 0
            first: float | None = None
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                seconds = float(frame.pts * base)
                first = seconds if first is None else first
                shown_at = seconds - first
                while produced < total and produced * step < shown_at and current is not None:
                    yield current.copy()
                    produced += 1
                    progress(int(total * 0.9) + produced // 10, total)
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                current = cover(rgb, width, height, upscale=cv2.INTER_LINEAR)
                if produced >= total:
                    break
            if current is None:
                raise BackendError(f"{request.model}: the provider's video has no frames")
            while produced < total:  # a short result holds its last frame
                yield current.copy()
                produced += 1
        progress(total, total)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BackendError(
            f"{request.model}: the provider's video could not be read: {exc}"
        ) from None
