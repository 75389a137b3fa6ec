"""Records that travel between the layers: requests, results and their validation.

Everything here is a plain dataclass or enum with no I/O, so any layer may import it. Generic
validation lives here (a prompt is never empty, sizes are even); what depends on a backend
(its longest clip, its sizes) lives in that backend's ``check``.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from openreel.errors import InvalidRequestError

__all__ = [
    "MAX_PROMPT_CHARS",
    "MAX_SEED",
    "Artifact",
    "CharacterRef",
    "GenerationResult",
    "ImageInput",
    "Job",
    "JobError",
    "JobStatus",
    "Principal",
    "Role",
    "SourceVideo",
    "VideoRequest",
    "parse_size",
]

MAX_PROMPT_CHARS = 4000
"""Longest prompt accepted, in characters, after trimming surrounding white space."""

MAX_SEED = 2**32 - 1
"""Seeds are unsigned 32-bit so every backend (numpy, torch, providers) can honour them."""

MIN_SIDE = 64
MAX_SIDE = 3840
MIN_FPS = 1
MAX_FPS = 60
MAX_SECONDS = 3600.0
"""A sanity ceiling on any clip (an hour); each backend states its own, much lower, limit."""

_SIZE_RE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$", re.ASCII)


def check_text(param: str, value: str) -> None:
    """Refuses text that cannot be stored or shown: lone surrogates are not valid UTF-8.

    JSON allows escapes such as ``"\\ud800"`` that decode to half a character; such a string
    would fail later, in the database or in a response, far from the request that carried it.

    Raises:
        InvalidRequestError: When ``value`` cannot be encoded as UTF-8.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{param} must be valid Unicode text; got an unpaired surrogate "
            f"{value[exc.start]!r} at character {exc.start}",
            param=param,
        ) from None


def parse_size(text: str, *, param: str = "size") -> tuple[int, int]:
    """Parses ``"WIDTHxHEIGHT"`` into a (width, height) pair without range checks.

    Raises:
        InvalidRequestError: When the text is not two whole numbers joined by ``x``.
    """
    match = _SIZE_RE.match(text)
    if match is None:
        raise InvalidRequestError.for_value(
            param, text, "must look like WIDTHxHEIGHT, e.g. 1920x1080"
        )
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A validated reference image (``input_reference``) that guides the video.

    Attributes:
        data: The encoded image file (PNG, JPEG or WebP).
        media_type: Its MIME type.
        width: Width in pixels.
        height: Height in pixels.
    """

    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int


OPERATIONS = ("create", "extend", "edit")
"""What a request does: make a new video, continue one, or change one."""


@dataclass(frozen=True, slots=True)
class SourceVideo:
    """The video an edit or an extension starts from.

    Attributes:
        path: Where it lies: relative to the artifact store in a stored request, absolute once
            a worker has resolved it for a render.
        frames: Its frame count.
        fps: Its frame rate.
        width: Its width in pixels.
        height: Its height in pixels.
        video_id: The video it is, when it is one of ours (``None`` for an upload).
        plan: The sketch plan it was drawn from, when the sketch engine can draw it again
            (one of ours, drawn from a prompt alone); ``None`` for footage it cannot redraw.
        url: A short-lived link a provider can fetch the file from, for providers that take
            a video only by URL (Luma's modify); set by the worker just before a render,
            never stored.
        last_picture: Its last frame (RGB, uint8, at its own size) when the render has
            already decoded every frame of it (an extension whose packets are copied), so a
            backend continuing from it need not decode the file a second time; never stored.
    """

    path: str
    frames: int
    fps: float
    width: int
    height: int
    video_id: str | None = None
    plan: dict[str, Any] | None = None
    url: str | None = None
    last_picture: Any = field(default=None, compare=False, repr=False)

    @property
    def uploaded(self) -> bool:
        """Whether it came as a file rather than as one of this server's videos."""
        return self.video_id is None


@dataclass(frozen=True, slots=True)
class CharacterRef:
    """A character a prompt names (``POST /v1/videos/characters``).

    Attributes:
        id: ``char_`` + hex.
        name: The name the prompt used.
        cutout: The character cut out of its clip's clearest frame (an RGBA PNG): relative to
            the artifact store in a stored request, absolute once a worker resolved it.
        frame: That whole frame (a PNG), for backends that take an image condition.
    """

    id: str
    name: str
    cutout: str
    frame: str


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """What a person asked for, independent of how it reached us.

    Attributes:
        prompt: The text to turn into video, trimmed.
        negative_prompt: What to leave out.
        seconds: Length of the clip in seconds.
        width: Frame width in pixels (even).
        height: Frame height in pixels (even).
        fps: Frames per second.
        seed: Seed for repeatable output; ``None`` until :meth:`with_seed` fixes one.
        model: Model id as listed by ``/v1/models``.
        input_reference: Optional image that guides the video (backends that declare image
            input use it; others reject it).
        last_frame: Optional image the clip ends on (first-and-last-frame generation, with
            ``input_reference`` as the first); models whose inputs include ``last_frame``.
        frame_offset: Frames already made before this clip (an extension continues the
            source's clock from here, so motion carries on across the join).
        operation: ``create``, ``extend`` or ``edit`` (see :data:`OPERATIONS`).
        source: The video an edit changes or an uploaded video an extension continues.
        character: The character the prompt names, if any.
        audio: Whether the video gets sound; ``None`` until admission settles it (on
            wherever the model makes sound). Rows written before sound existed read None
            and were made silent.
    """

    prompt: str
    negative_prompt: str = ""
    seconds: float = 10.0
    width: int = 1920
    height: int = 1080
    fps: int = 24
    seed: int | None = None
    model: str = "openreel-sketch"
    input_reference: ImageInput | None = None
    frame_offset: int = 0
    operation: str = "create"
    source: SourceVideo | None = None
    character: CharacterRef | None = None
    last_frame: ImageInput | None = None
    audio: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "prompt", self.prompt.strip() if isinstance(self.prompt, str) else self.prompt
        )
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt:
            raise InvalidRequestError.for_value("prompt", self.prompt, "must not be empty")
        check_text("prompt", self.prompt)
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise InvalidRequestError(
                f"prompt must be at most {MAX_PROMPT_CHARS} characters; got {len(self.prompt)}",
                param="prompt",
            )
        if not isinstance(self.negative_prompt, str):
            raise InvalidRequestError.for_value(
                "negative_prompt", self.negative_prompt, "must be text"
            )
        if len(self.negative_prompt) > MAX_PROMPT_CHARS:
            raise InvalidRequestError(
                f"negative_prompt must be at most {MAX_PROMPT_CHARS} characters; "
                f"got {len(self.negative_prompt)}",
                param="negative_prompt",
            )
        check_text("negative_prompt", self.negative_prompt)
        if not isinstance(self.model, str) or not self.model:
            raise InvalidRequestError.for_value("model", self.model, "must not be empty")
        check_text("model", self.model)
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int | float):
            raise InvalidRequestError.for_value("seconds", self.seconds, "must be a number")
        if not math.isfinite(self.seconds) or self.seconds <= 0:
            raise InvalidRequestError.for_value("seconds", self.seconds, "must be greater than 0")
        if self.seconds > MAX_SECONDS:
            raise InvalidRequestError.for_value(
                "seconds", self.seconds, f"must be at most {MAX_SECONDS:g}"
            )
        for name, value in (("width", self.width), ("height", self.height)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidRequestError.for_value("size", value, f"{name} must be a whole number")
            if not MIN_SIDE <= value <= MAX_SIDE:
                raise InvalidRequestError.for_value(
                    "size", self.size, f"{name} must be between {MIN_SIDE} and {MAX_SIDE} pixels"
                )
            if value % 2:
                raise InvalidRequestError.for_value(
                    "size", self.size, f"{name} must be even (H.264 with 4:2:0 colour needs it)"
                )
        if (
            isinstance(self.fps, bool)
            or not isinstance(self.fps, int)
            or not MIN_FPS <= self.fps <= MAX_FPS
        ):
            raise InvalidRequestError.for_value(
                "fps", self.fps, f"must be a whole number from {MIN_FPS} to {MAX_FPS}"
            )
        if self.seed is not None and (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed <= MAX_SEED
        ):
            raise InvalidRequestError.for_value(
                "seed", self.seed, f"must be a whole number from 0 to {MAX_SEED}"
            )
        if self.operation not in OPERATIONS:
            raise InvalidRequestError.for_value(
                "operation", self.operation, f"must be one of {', '.join(OPERATIONS)}"
            )
        if self.frame_count < 1:
            raise InvalidRequestError.for_value(
                "seconds", self.seconds, f"is shorter than one frame at {self.fps} fps"
            )
        if self.audio is not None and not isinstance(self.audio, bool):
            raise InvalidRequestError.for_value("audio", self.audio, "must be true or false")

    @property
    def size(self) -> str:
        """The size as OpenAI writes it: ``"1920x1080"``."""
        return f"{self.width}x{self.height}"

    @property
    def frame_count(self) -> int:
        """Number of frames the clip has: seconds x fps, rounded to the nearest frame."""
        return round(self.seconds * self.fps)

    def with_seed(self, seed: int | None = None) -> VideoRequest:
        """Returns a copy whose seed is fixed: the given one, the existing one, or a random one."""
        if seed is None:
            seed = self.seed if self.seed is not None else secrets.randbelow(MAX_SEED + 1)
        return replace(self, seed=seed)

    def with_audio(self, default: bool) -> VideoRequest:
        """A copy whose ``audio`` is settled: as asked, or ``default`` (whether the model makes
        sound) when the request did not say."""
        return self if self.audio is not None else replace(self, audio=default)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the request (the reference image is summarised, not copied)."""
        images = ("input_reference", "last_frame")
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in images}
        data["source"] = (
            None
            if self.source is None
            # A source's link is a credential for a while: it never goes into a stored row.
            else {k: v for k, v in asdict(self.source).items() if k not in ("url", "last_picture")}
        )
        data["character"] = None if self.character is None else asdict(self.character)
        for name in images:
            ref = getattr(self, name)
            data[name] = (
                None
                if ref is None
                else {"media_type": ref.media_type, "width": ref.width, "height": ref.height}
            )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoRequest:
        """Rebuilds a request written by :meth:`to_dict` (without its images).

        Unknown keys are skipped, so rows written by a newer version still load.
        """
        known = {
            k: v
            for k, v in data.items()
            if k in cls.__dataclass_fields__ and k not in ("input_reference", "last_frame")
        }
        if isinstance(known.get("source"), dict):
            known["source"] = SourceVideo(**known["source"])
        if isinstance(known.get("character"), dict):
            known["character"] = CharacterRef(**known["character"])
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file produced for a job.

    Attributes:
        kind: ``video``, ``thumbnail`` or ``spritesheet``.
        path: Where it lies on disk.
        media_type: Its MIME type.
        size_bytes: Its length in bytes.
    """

    kind: str
    path: str
    media_type: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What one finished generation produced.

    Attributes:
        request: The request as run, with its seed fixed.
        artifacts: The files written, the video first.
        interpretation: What the backend understood from the prompt (JSON-ready).
        frames: Number of frames encoded.
        render_seconds: Wall time from first frame requested to file closed.
    """

    request: VideoRequest
    artifacts: tuple[Artifact, ...]
    interpretation: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    render_seconds: float = 0.0

    @property
    def video(self) -> Artifact:
        """The main video artifact."""
        return self.artifacts[0]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of the result."""
        return {
            "request": self.request.to_dict(),
            "artifacts": [asdict(a) for a in self.artifacts],
            "interpretation": self.interpretation,
            "frames": self.frames,
            "render_seconds": round(self.render_seconds, 3),
        }


class Role(StrEnum):
    """What a principal may do."""

    ADMIN = "admin"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone who holds tokens and owns videos.

    Attributes:
        id: Opaque id (``usr_...``).
        name: Unique human-readable name.
        role: Admins see every video; users see only their own.
    """

    id: str
    name: str
    role: Role = Role.USER

    @property
    def is_admin(self) -> bool:
        """Whether this principal is an administrator."""
        return self.role is Role.ADMIN


class JobStatus(StrEnum):
    """The four statuses of the OpenAI video object; a cancelled job is ``failed``."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """Whether the job will never change again."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed, in the OpenAI error shape.

    Attributes:
        code: Stable code (``cancelled``, ``moderation_blocked``, ``backend_error``...).
        message: One sentence for people.
        type: OpenAI error type.
        param: Parameter at fault, if any.
    """

    code: str
    message: str
    type: str = "server_error"
    param: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The OpenAI error object."""
        return {"code": self.code, "message": self.message, "type": self.type, "param": self.param}


@dataclass(frozen=True, slots=True)
class Job:
    """One video: the row of the ``jobs`` table, the single source of truth.

    Attributes:
        id: ``video_`` + random hex.
        owner_id: Principal who asked for it.
        request: What was asked, seed fixed at admission.
        status: queued, in_progress, completed or failed.
        progress: 0-100, never decreasing.
        phase: What the worker is doing (``queued``, ``rendering``, ``finalizing``, ``done``...).
        created_at: Unix seconds.
        started_at: Unix seconds when a worker first claimed it.
        completed_at: Unix seconds when it reached a final status.
        expires_at: Unix seconds after which its files may be deleted, if they expire.
        error: Why it failed.
        remixed_from: Source video of a remix.
        extended_from: Source video of an extension.
        interpretation: What the backend understood (JSON-ready).
        artifacts: Artifact kind -> path relative to the artifact store.
        attempts: How many times a worker claimed it.
        cancel_requested: Set by cancel or delete; workers stop at their next step.
        lease_until: Unix seconds until which the claiming worker owns it.
        worker: Id of the worker holding the lease.
        total_seconds: Length of the finished video (an extension's stitched total).
        token_id: The access token that asked for it (the kill switch can stop one token).
    """

    id: str
    owner_id: str
    request: VideoRequest
    status: JobStatus = JobStatus.QUEUED
    progress: int = 0
    phase: str = "queued"
    created_at: float = 0.0
    started_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    error: JobError | None = None
    remixed_from: str | None = None
    extended_from: str | None = None
    interpretation: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    cancel_requested: bool = False
    lease_until: float | None = None
    worker: str | None = None
    total_seconds: float | None = None
    token_id: str | None = None

    @staticmethod
    def new_id() -> str:
        """A fresh opaque video id."""
        return "video_" + secrets.token_hex(16)
