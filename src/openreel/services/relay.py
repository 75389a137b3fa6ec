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

The upstream's own thumbnail and spritesheet, when it lent them, are kept instead of made
again, once the same reading has shown that each is the frame it stands for
(``media.preview_check``); previews that are not throw the relay away. The manifest is
verified on the signing thread while the frames are read, so a video from any other provider
costs one opening of the file before it is re-rendered.

Reading every frame is what a relay costs, and it grows with the video. An upstream whose
signing certificate the operator pinned is taken at its signed word instead (:func:`vouched`):
its manifest, bound to these bytes, says it burned this label into every frame and records the
frames' fingerprint, so only the file's index is read (:func:`counted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer

from openreel.backends.base import CancelCheck
from openreel.domain import VideoRequest
from openreel.errors import CancelledError, MediaError
from openreel.media.c2pa import verify_mp4
from openreel.media.fingerprint import FINGERPRINT_VERSION, Fingerprint, SecondSampler
from openreel.media.label import Labeler, LabelSpec
from openreel.media.preview_check import PreviewCheck
from openreel.media.previews import PreviewCollector
from openreel.media.probe import luma

__all__ = [
    "NotRelayableError",
    "check_stream",
    "counted",
    "relay",
    "signed_with_label",
    "vouched",
]


class NotRelayableError(Exception):
    """A frame read while relaying did not carry the label (or the file held other frames
    than it said, or a given preview another picture), or its manifest does not claim the
    label: the video must be re-rendered after all.

    Attributes:
        claimed: Whether the file's manifest had claimed this server's label (a video that
            then fails the pixels' test is worth a warning; one that never claimed it, any
            other provider's, is not).
    """

    def __init__(self, message: str, *, claimed: bool = True) -> None:
        super().__init__(message)
        self.claimed = claimed


def signed_with_label(path: Path, label: LabelSpec) -> bool:
    """Whether ``path`` carries a valid manifest whose generation assertion names ``label``
    (see the module docstring); :func:`relay` checks the streams and the pixels."""
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


def vouched(
    path: Path, request: VideoRequest, label: LabelSpec, signers: Sequence[bytes]
) -> tuple[int, ...] | None:
    """The frames' fingerprint (one pHash a second) when ``path``'s manifest is signed under
    one of ``signers`` (the certificates of upstreams the operator pinned), names ``label``
    and records the fingerprint of the request's frames; None otherwise.

    Such a video is passed on by its signature alone (:func:`check_stream`, no frame
    decoded): the signer, which the operator trusts, says it burned this label into every
    frame, and its signature binds that claim to these very bytes.
    """
    if not signers:
        return None
    try:
        verdict = verify_mp4(path, trust_anchors=list(signers))
    except MediaError:
        return None
    generation = verdict.generation
    recorded = generation.get("fingerprint")
    if (
        verdict.status != "Trusted"
        or generation.get("label") != label.as_dict()
        or not isinstance(recorded, dict)
        or recorded.get("version") != FINGERPRINT_VERSION
        or recorded.get("fps") != float(request.fps)
    ):
        return None
    try:
        hashes = Fingerprint.from_hex(str(recorded.get("hashes", "")))
    except MediaError:
        return None
    wanted = SecondSampler(request.frame_count, request.fps).seconds
    return hashes if len(hashes) == wanted else None


def check_stream(container: InputContainer, request: VideoRequest) -> av.VideoStream:
    """The file's picture stream, when it is exactly the request's: H.264, 4:2:0, its size
    and rate, and a sound stream exactly when it asks for sound.

    Raises:
        NotRelayableError: It is another.
    """
    stream = container.streams.video[0]
    context = stream.codec_context
    coded = (context.name, context.format.name if context.format else None)
    if (
        coded != ("h264", "yuv420p")
        or (context.width, context.height) != (request.width, request.height)
        or stream.average_rate != request.fps
    ):
        raise NotRelayableError(f"the stream is {coded} {context.width}x{context.height}")
    if bool(container.streams.audio) != bool(request.audio):  # sound exactly when asked
        raise NotRelayableError("it has sound" if container.streams.audio else "no sound")
    return stream


def counted(path: Path, request: VideoRequest) -> None:
    """Checks ``path``'s streams (:func:`check_stream`) and its frame count, from the file's
    index alone (nothing decoded): what a vouched video is checked for.

    Raises:
        NotRelayableError: The streams or the count are others.
        MediaError: The file could not be read.
    """
    try:
        with av.open(str(path)) as container:
            frames = check_stream(container, request).frames
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"reading the upstream's video failed: {exc}") from exc
    if frames != request.frame_count:
        raise NotRelayableError(f"{frames} frames, not {request.frame_count}")


def relay(
    path: Path,
    request: VideoRequest,
    label: LabelSpec,
    *,
    previews: PreviewCollector | None,
    sampler: SecondSampler | None,
    cancelled: CancelCheck,
    given: PreviewCheck | None = None,
) -> int:
    """Reads ``path`` once: its stream must be exactly the request's (H.264, 4:2:0, its size,
    rate and frame count; a sound stream exactly when it asks for sound) and every frame must show the label; the frames the previews and
    the fingerprints want are handed to them, and each frame ``given`` previews show (the
    upstream's own, kept instead of making ``previews``) must be what they show. Returns the
    number of frames.

    Raises:
        NotRelayableError: The stream is another, a frame lacks the label, or a given
            preview does not show its frame.
        CancelledError: ``cancelled()`` turned True.
        MediaError: The file could not be read.
    """
    labeler = Labeler(label, request.width, request.height)
    count = 0
    try:
        with av.open(str(path)) as container:
            stream = check_stream(container, request)
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                count = index + 1
                # Every frame, on its brightness plane (no conversion): the label must be on
                # each picture passed on, not only on those read for the previews.
                brightness = luma(frame)
                if not labeler.shown_in(brightness):
                    raise NotRelayableError(f"frame {index} does not show the label")
                if given is not None and not given.matches(index, brightness):
                    raise NotRelayableError(f"the upstream's previews do not show frame {index}")
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
