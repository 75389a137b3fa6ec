"""Passing an upstream OpenReel's finished video on as it is, re-signed, not re-rendered.

A gateway in front of another OpenReel receives a video that is already what it would make:
the request's size, rate and length, the same visible label, signed. Decoding, labelling and
encoding it again was most of the time the gateway added (benchmarks/README.md, gateway
pacing) and changes nothing a viewer sees. So when the file shows it (a valid C2PA manifest
whose generation assertion names this server's very label, an H.264 stream of exactly the
request's frames, and the label found in the pixels of every frame), it is copied, read once
for the previews and fingerprints, and signed by this server with the upstream's file,
manifest and all, as its parent ingredient. Anything else is re-rendered and labelled here,
as before.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from openreel.backends.base import CancelCheck
from openreel.domain import VideoRequest
from openreel.errors import CancelledError, MediaError
from openreel.media.audio import has_sound
from openreel.media.c2pa import verify_mp4
from openreel.media.fingerprint import SecondSampler
from openreel.media.label import Labeler, LabelSpec
from openreel.media.previews import PreviewCollector
from openreel.media.probe import luma

__all__ = ["NotRelayableError", "relay", "relayable"]


class NotRelayableError(Exception):
    """A frame read while relaying did not carry the label (or the file held other frames
    than it said): the video must be re-rendered after all."""


def relayable(path: Path, label: LabelSpec, *, audio: bool) -> bool:
    """Whether the downloaded ``path`` says it may be passed on as it is: a valid manifest
    whose generation assertion names ``label`` (see the module docstring), and a sound
    stream exactly when the request asks for sound (``audio``); :func:`relay` checks the
    stream and the pixels as it reads them."""
    if has_sound(path) != audio:
        return False
    try:
        verdict = verify_mp4(path)
    except MediaError:
        return False
    # Valid is enough: the upstream is a server the operator chose, whose own certificate
    # this one need not trust; the file must be intact and signed, and its pixels are read.
    return (
        verdict.status in ("Valid", "Trusted")
        and verdict.generation.get("label") == label.as_dict()
    )


def relay(
    path: Path,
    request: VideoRequest,
    label: LabelSpec,
    *,
    previews: PreviewCollector | None,
    sampler: SecondSampler | None,
    cancelled: CancelCheck,
) -> int:
    """Reads ``path`` once: its stream must be exactly the request's (H.264, 4:2:0, its size,
    rate and frame count) and every frame must show the label; the frames the previews and
    the fingerprints want are handed to them. Returns the number of frames.

    Raises:
        NotRelayableError: The stream is another, or a frame lacks the label.
        CancelledError: ``cancelled()`` turned True.
        MediaError: The file could not be read.
    """
    labeler = Labeler(label, request.width, request.height)
    count = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            context = stream.codec_context
            coded = (context.name, context.format.name if context.format else None)
            if (
                coded != ("h264", "yuv420p")
                or (context.width, context.height) != (request.width, request.height)
                or stream.average_rate != request.fps
            ):
                raise NotRelayableError(f"the stream is {coded} {context.width}x{context.height}")
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                count = index + 1
                # Every frame, on its brightness plane (no conversion): the label must be on
                # each picture passed on, not only on those read for the previews.
                if not labeler.shown_in(luma(frame)):
                    raise NotRelayableError(f"frame {index} does not show the label")
                wanted = (previews is not None and previews.wants(index)) or (
                    sampler is not None and sampler.wants(index)
                )
                if not wanted:
                    continue
                if cancelled():
                    raise CancelledError("generation was cancelled")
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                if previews is not None:
                    previews.add(index, rgb)
                if sampler is not None:
                    sampler.add(index, rgb)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"reading the upstream's video failed: {exc}") from exc
    if count != request.frame_count:
        raise NotRelayableError(f"{count} frames, not {request.frame_count}")
    return count
