"""The VideoBackend protocol and the small records around it.

A backend yields frames one at a time as ``uint8`` arrays shaped ``(height, width, 3)`` (RGB),
so a 10-second 1080p clip never has to sit in memory whole. It reports progress as
``(done, total)`` and asks ``cancelled()`` at least once per frame or step; when that returns
True it raises :class:`~openreel.errors.CancelledError` and yields nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from openreel.domain import VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.audio import Soundtrack

__all__ = [
    "BackendCapabilities",
    "CancelCheck",
    "Clip",
    "Frame",
    "ProgressCallback",
    "VideoBackend",
    "check_against_capabilities",
    "never_cancelled",
    "no_progress",
    "soundtrack_of",
]

Frame = npt.NDArray[np.uint8]
"""One RGB frame, shaped (height, width, 3). The consumer owns each yielded frame and may draw
on it (the provenance label is blended in place), so a backend must not reuse a frame's
buffer after yielding it."""

ProgressCallback = Callable[[int, int], None]
"""Called with (done, total); done never decreases and ends equal to total."""

CancelCheck = Callable[[], bool]
"""Returns True once the job should stop."""


class Clip(Iterator[Frame]):
    """A backend's frames with the sound that goes with them.

    ``generate`` may return a plain iterator of frames (a silent clip) or a Clip. The sound
    is asked for once the first frame is out, and again after the last, so it may be known
    from the start (synthesised from the request), or only once the work has begun (a
    provider's download, a local pipeline's waveform): the producer then sets
    :attr:`sound` while it makes the frames. It covers the backend's frames only, 48 kHz
    stereo; the caller fits it to their exact length.

    Args:
        frames: The frames.
        sound: The soundtrack, a function that makes it (called at most once), or None
            for none yet.
    """

    def __init__(
        self,
        frames: Iterable[Frame] = (),
        sound: Soundtrack | Callable[[], Soundtrack | None] | None = None,
    ) -> None:
        self.frames: Iterator[Frame] = iter(frames)
        self.sound = sound

    def __next__(self) -> Frame:
        return next(self.frames)

    def soundtrack(self) -> Soundtrack | None:
        """The sound, made now if it is made on demand; None while there is none."""
        sound = self.sound
        if callable(sound):
            sound = self.sound = sound()
        return sound


def soundtrack_of(frames: Iterator[Frame]) -> Soundtrack | None:
    """What :meth:`Clip.soundtrack` says for a clip; None for a plain (silent) iterator."""
    return frames.soundtrack() if isinstance(frames, Clip) else None


def no_progress(done: int, total: int) -> None:
    """A progress callback that ignores progress."""


def never_cancelled() -> bool:
    """A cancel check that never cancels."""
    return False


@dataclass(frozen=True, slots=True)
class BackendCapabilities:
    """What a backend can make; admission checks requests against it.

    Attributes:
        max_seconds: Longest clip, in seconds.
        min_side: Smallest width or height in pixels.
        max_side: Largest width or height in pixels.
        fps_range: Lowest and highest frame rate, inclusive.
        sizes: Preferred sizes (``"1920x1080"``...); any even size in range is accepted
            when ``any_size`` is True.
        any_size: Whether sizes other than ``sizes`` are accepted.
        image_input: Whether ``input_reference`` images are used.
        audio: Whether the backend makes a soundtrack.
        deterministic: Whether the same seed and request give the same frames.
        edit: Whether it can edit a video (``POST /v1/videos/edits``), and how:
            ``edit_note`` says in a sentence.
        characters: Whether a prompt may name a character (``/v1/videos/characters``).
        edit_note: What an edit does with this model (shown in ``/v1/models``).
        character_as_image: Whether a character reaches the model as its image condition
            (the character's clearest frame as ``input_reference``) rather than drawn in.
        last_frame: Whether a request may give the image the clip ends on (``last_frame``).
        length_note: How the longest clip is made, in a sentence (for models whose length
            is one generation call, say so in ``/v1/models``); empty when nothing to say.
        create: Whether it makes video from a prompt (create, remix, extend); False for a
            model that only edits a video it is given (Runway's video-to-video).
    """

    max_seconds: float
    min_side: int
    max_side: int
    fps_range: tuple[int, int]
    sizes: tuple[str, ...]
    any_size: bool = True
    image_input: bool = False
    audio: bool = False
    deterministic: bool = True
    edit: bool = False
    characters: bool = False
    edit_note: str = ""
    character_as_image: bool = False
    last_frame: bool = False
    length_note: str = ""
    create: bool = True

    @property
    def inputs(self) -> list[str]:
        """What a request to this model may carry: text always, then image, video, character."""
        # Every model takes a video to extend: its frames are stitched before the new ones.
        kinds = ["text", *(["image"] if self.image_input else []), "video"]
        kinds += ["last_frame"] if self.last_frame else []
        return kinds + (["character"] if self.characters else [])

    @property
    def operations(self) -> list[str]:
        """What this model can do with ``/v1/videos``."""
        made = ["create", "remix", "extend"] if self.create else []
        return [*made, *(["edit"] if self.edit else [])]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (for ``/v1/models`` and ``openreel models``)."""
        data = asdict(self)
        data["fps_range"] = list(self.fps_range)
        data["sizes"] = list(self.sizes)
        data["inputs"] = self.inputs
        data["operations"] = self.operations
        return data


def check_against_capabilities(request: VideoRequest, caps: BackendCapabilities) -> None:
    """Rejects what ``caps`` does not allow, naming the parameter and the value.

    Raises:
        InvalidRequestError: On the first limit the request breaks.
    """
    if request.seconds > caps.max_seconds:
        raise InvalidRequestError.for_value(
            "seconds",
            request.seconds,
            f"must be at most {caps.max_seconds:g} for model {request.model}",
        )
    for side in (request.width, request.height):
        if not caps.min_side <= side <= caps.max_side:
            raise InvalidRequestError.for_value(
                "size",
                request.size,
                f"must have sides from {caps.min_side} to {caps.max_side} pixels for model {request.model}",
            )
    if not caps.any_size and request.size not in caps.sizes:
        raise InvalidRequestError.for_value(
            "size",
            request.size,
            f"must be one of {', '.join(caps.sizes)} for model {request.model}",
        )
    if request.input_reference is not None and not caps.image_input:
        raise InvalidRequestError(
            f"input_reference is not supported by model {request.model}; send a text-only request",
            param="input_reference",
        )
    if request.last_frame is not None and not caps.last_frame:
        raise InvalidRequestError(
            f"last_frame is not supported by model {request.model}; /v1/models lists the "
            "models whose inputs include last_frame",
            param="last_frame",
        )
    if request.operation == "edit" and not caps.edit:
        why = f" ({caps.edit_note})" if caps.edit_note else ""
        raise InvalidRequestError(
            f"model {request.model} cannot edit videos{why}; /v1/models lists the models "
            "whose operations include edit",
            param="model",
        )
    if request.operation != "edit" and not caps.create:
        raise InvalidRequestError(
            f"model {request.model} only edits videos (POST /v1/videos/edits); it cannot "
            f"{request.operation} one from a prompt",
            param="model",
        )
    if request.character is not None and not caps.characters:
        raise InvalidRequestError(
            f"character {request.character.name!r} cannot be used with model {request.model}: "
            "it takes no character reference; leave the name out or pick a model whose "
            "inputs include character (/v1/models)",
            param="prompt",
        )
    if request.audio and not caps.audio:
        raise InvalidRequestError(
            f"audio is not made by model {request.model}: it makes silent video; send "
            "audio: false, or pick a model that makes sound (/v1/models says which)",
            param="audio",
        )
    low, high = caps.fps_range
    if not low <= request.fps <= high:
        raise InvalidRequestError.for_value(
            "fps", request.fps, f"must be from {low} to {high} for model {request.model}"
        )


@runtime_checkable
class VideoBackend(Protocol):
    """Turns requests into frames. One instance may serve many jobs, one at a time."""

    @property
    def name(self) -> str:
        """Short backend name (``sketch``, ``diffusers``, ``runway``...)."""
        ...

    @property
    def models(self) -> tuple[str, ...]:
        """Model ids this backend serves, as listed by ``/v1/models``."""
        ...

    def capabilities(self, model: str) -> BackendCapabilities:
        """What ``model`` can make."""
        ...

    def check(self, request: VideoRequest) -> None:
        """Raises InvalidRequestError naming ``param`` when the request cannot be served."""
        ...

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """What the backend understood from the request (JSON-ready; may be empty)."""
        ...

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Iterator[Frame]:
        """Yields ``request.frame_count`` frames of ``(height, width, 3)`` uint8.

        A backend that makes sound returns a :class:`Clip` carrying it when
        ``request.audio`` is true. The request's seed must be fixed (see
        :meth:`VideoRequest.with_seed`).

        Raises:
            CancelledError: As soon as ``cancelled()`` returns True.
        """
        ...
