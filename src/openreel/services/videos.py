"""VideoService: what the API does with videos: admission, reads, cancel and delete.

Admission checks the request against its backend, fixes the seed and records what the backend
understood before anything is queued, so a bad request fails fast with a 400 and the client
sees the plan at once; the trust checks (kill switch, moderation, quota) run through
:class:`~openreel.trust.admission.Admission`. Making the video is the worker's
(:mod:`openreel.services.worker`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from openreel.backends.base import VideoBackend
from openreel.backends.registry import BackendRegistry
from openreel.domain import (
    MAX_FPS,
    MIN_FPS,
    MIN_SIDE,
    CharacterRef,
    ImageInput,
    Job,
    JobStatus,
    Principal,
    SourceVideo,
    VideoRequest,
)
from openreel.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OpenReelError,
)
from openreel.media.images import read_image
from openreel.media.partial import partial_path
from openreel.media.probe import probe
from openreel.media.uploaded import UploadedVideo, UploadLimits, check_video
from openreel.queue.contract import JobQueue
from openreel.services.pace import PaceBook, poll_after_ms
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.jobs import JobPage, JobStore
from openreel.storage.objects import RemoteObject
from openreel.trust.admission import Admission

__all__ = [
    "DEFAULT_UPLOAD_LIMITS",
    "MAX_EXTENDED_SECONDS",
    "CharacterFinder",
    "Content",
    "VideoInput",
    "VideoService",
    "stored_reference",
]


HANDOFF_WAIT_S = 0.005
"""Longest a submission waits for the worker it reserved to begin before it moderates.

What comes next in the request's thread (moderation's rules and tokenizer, the row's write)
is Python, and so is the worker's start (its first report, then the hand-over to a render
process): the two take turns on the interpreter lock. Waiting (the lock released) lets the
worker through first, so the render begins sooner and the submission, whose answer does not
hold up the video, a little later. Bounded so a worker slow to wake never holds the request
up for long.
"""

MAX_EXTENDED_SECONDS = 120.0
"""Longest total an extension may stitch to (the OpenAI limit)."""

DEFAULT_UPLOAD_LIMITS = UploadLimits(max_bytes=64 * 1024 * 1024, max_seconds=60.0, max_side=3840)
"""The limits of ``config.VideoUploadConfig``'s defaults (the runtime passes the settings)."""

VideoInput = str | bytes
"""The ``video`` of an edit or an extension: a video id of the caller's, or an uploaded file."""

CharacterFinder = Callable[[Principal, str], CharacterRef | None]
"""The caller's character a prompt names, if any (``CharacterService.named_in``)."""

_VARIANTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


@dataclass(frozen=True, slots=True)
class Content:
    """A downloadable artifact.

    Attributes:
        source: Where the bytes are: a file on this machine, or the object in the bucket
            when artifacts are kept in one (relayed from there or handed out as a presigned
            URL, never copied to this machine's disk).
        media_type: Its MIME type.
        filename: A download name for people.
    """

    source: Path | RemoteObject
    media_type: str
    filename: str


LAST_FRAME_FILE = "last_frame.png"
"""A job's ``last_frame`` image, kept in its folder (as PNG) for the worker that renders it."""


def stored_last_frame(artifacts: ArtifactStore, job_id: str) -> ImageInput | None:
    """The ``last_frame`` image a job was created with, or None."""
    relative = artifacts.relative(artifacts.path(job_id, LAST_FRAME_FILE, create=False))
    try:
        path = artifacts.resolve(relative)  # fetched from the bucket when it is elsewhere
    except NotFoundError:
        return None
    if not path.is_file():
        return None
    return read_image(path.read_bytes(), param="last_frame")


def _audio_as(source: VideoRequest, asked: bool | None) -> bool | None:
    """Sound for a video made from ``source``: as asked, else as the source had it (a video
    made before sound existed says None: the model's default then)."""
    return asked if asked is not None else source.audio


def stored_reference(store: JobStore, artifacts: ArtifactStore, job_id: str) -> ImageInput | None:
    """The reference image a job was created with, read back from the artifact store."""
    relative = store.get_input_reference_path(job_id)
    if relative is None:
        return None
    return read_image(artifacts.resolve(relative).read_bytes())


class VideoService:
    """Everything the API does with videos (their making is :class:`VideoWorker`'s).

    Args:
        store: The job rows.
        artifacts: The jobs' files.
        registry: Model id -> backend.
        queue: Where admitted jobs go.
        admission: The trust checks each submission passes.
        pace: How long renders took lately (shared with the worker), for poll hints.
        clock: Wall clock (tests pass a fake one).
        default_model: The model of an edit or extension of an uploaded video.
        upload_limits: What an uploaded video may be.
        characters: Finds the character a prompt names, or None when there are none.
    """

    def __init__(
        self,
        *,
        store: JobStore,
        artifacts: ArtifactStore,
        registry: BackendRegistry,
        queue: JobQueue,
        admission: Admission,
        pace: PaceBook,
        clock: Callable[[], float] = time.time,
        default_model: str = "openreel-sketch",
        upload_limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
        characters: CharacterFinder | None = None,
    ) -> None:
        self._default_model = default_model
        self._upload_limits = upload_limits
        self._characters = characters
        self._store = store
        self._artifacts = artifacts
        self._registry = registry
        self._queue = queue
        self._admission = admission
        self._pace = pace
        self._clock = clock

    # ----- admission -------------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        request: VideoRequest,
        *,
        remixed_from: str | None = None,
        extended_from: str | None = None,
        total_seconds: float | None = None,
        token_id: str | None = None,
        job_id: str | None = None,
    ) -> Job:
        """Checks, admits against the quota, records and queues a new video for ``principal``.

        ``job_id`` is given when files were saved for the job before it was admitted (an
        uploaded video); the caller removes them if this raises.

        Raises:
            InvalidRequestError: The backend cannot serve the request (names the parameter),
                or the video alone exceeds the principal's whole quota.
            RateLimitError: Over the principal's quota (429 with Retry-After).
            GenerationPausedError: A kill switch matches (503 with the operator's reason).
            ModerationBlockedError: Moderation refused the prompt (400, nothing charged).
        """
        try:
            return self._submit(
                principal,
                request,
                remixed_from=remixed_from,
                extended_from=extended_from,
                total_seconds=total_seconds,
                token_id=token_id,
                job_id=job_id,
            )
        except OpenReelError as exc:
            self._admission.refused(exc, principal, request, token_id)
            raise

    def _submit(
        self,
        principal: Principal,
        request: VideoRequest,
        *,
        remixed_from: str | None,
        extended_from: str | None,
        total_seconds: float | None,
        token_id: str | None,
        job_id: str | None,
    ) -> Job:
        self._admission.check_paused(principal, request, token_id)
        if self._characters is not None and request.character is None:
            character = self._characters(principal, request.prompt)
            if character is not None:
                request = replace(request, character=character)
        backend = self._registry.for_model(request.model)
        request = self._character_as_image(backend, request)
        request = request.with_audio(backend.capabilities(request.model).audio)
        backend.check(request)
        request = request.with_seed()
        job = Job(
            id=job_id or Job.new_id(),
            owner_id=principal.id,
            request=request,
            created_at=self._clock(),
            remixed_from=remixed_from,
            extended_from=extended_from,
            interpretation=dict(backend.describe(request)),
            total_seconds=total_seconds if total_seconds is not None else request.seconds,
            token_id=token_id,
        )
        # A sketch render may begin now, while moderation decides and the row is written: it
        # keeps its frames to itself until confirmed below, and drops them if anything here
        # fails (see queue.reservation.Reservation). Other jobs wait for their row, and so does
        # one whose row could not be taken at confirmation.
        reservation = self._queue.reserve(job)
        if reservation is not None:
            reservation.wait_started(HANDOFF_WAIT_S)
        try:
            created = self._admit(principal, job)
        except BaseException:
            if reservation is not None:
                reservation.withdraw()
            raise
        if reservation is not None:
            taken = reservation.confirm()  # running already: the client sees its progress
            if taken is not None:
                return taken
        self._queue.enqueued(created)
        return created

    def _character_as_image(self, backend: VideoBackend, request: VideoRequest) -> VideoRequest:
        """A model that draws no cut-out but starts from an image (a local image-to-video
        family) gets the character's clearest frame as its ``input_reference``."""
        character = request.character
        if character is None or request.input_reference is not None:
            return request
        if not backend.capabilities(request.model).character_as_image:
            return request
        with self._artifacts.local_copy(character.frame) as frame:
            image = read_image(frame.read_bytes(), param="prompt")
        return replace(request, input_reference=image)

    def _admit(self, principal: Principal, job: Job) -> Job:
        """Moderates the prompt, then writes the row, admitted against the quota."""
        self._admission.screen(job.request.prompt)  # before the quota is touched
        quota = self._admission.quota(principal)
        reference_path = None
        if job.request.input_reference is not None:
            reference_path = self._save_reference(job.id, job.request.input_reference)
        if job.request.last_frame is not None:
            self._save_last_frame(job.id, job.request.last_frame)
        try:
            return self._store.create(
                job,
                input_reference_path=reference_path,
                quota=quota,
                backend=self._registry.name_of(job.request.model),
            )
        except BaseException:
            if reference_path is not None or job.request.last_frame is not None:
                self._artifacts.delete_job(job.id)  # refused or failed: keep no orphan image
            raise

    def _save_last_frame(self, job_id: str, image: ImageInput) -> None:
        """Keeps ``last_frame`` beside the job (as PNG, one name the worker knows)."""
        from PIL import Image

        with Image.open(io.BytesIO(image.data)) as opened:
            buffer = io.BytesIO()
            opened.convert("RGB").save(buffer, format="PNG")
        path = self._artifacts.path(job_id, LAST_FRAME_FILE)
        self._artifacts.write_bytes_atomic(path, buffer.getvalue())

    def _save_reference(self, job_id: str, image: ImageInput) -> str:
        suffix = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[image.media_type]
        path = self._artifacts.path(job_id, f"input.{suffix}")
        self._artifacts.write_bytes_atomic(path, image.data)
        return self._artifacts.relative(path)

    def remix(
        self,
        principal: Principal,
        video_id: str,
        prompt: str,
        *,
        token_id: str | None = None,
        audio: bool | None = None,
    ) -> Job:
        """A new video with the same settings and seed as ``video_id`` and a new prompt
        (with sound as the source had it, unless ``audio`` says otherwise)."""
        source = self._completed(principal, video_id, "remix")
        request = replace(
            source.request,
            prompt=prompt,
            input_reference=stored_reference(self._store, self._artifacts, source.id),
            audio=_audio_as(source.request, audio),
        )
        return self.submit(principal, request, remixed_from=source.id, token_id=token_id)

    def extend(
        self,
        principal: Principal,
        video: VideoInput,
        prompt: str,
        seconds: float,
        *,
        token_id: str | None = None,
        audio: bool | None = None,
    ) -> Job:
        """A new video that continues ``video`` for ``seconds`` more, stitched to it (its
        sound continued too, unless ``audio`` is false).

        ``video`` is the id of a completed video of the caller's, or an uploaded file, which
        is checked and kept with the new video (and removed with it, or at once if refused).
        """
        if isinstance(video, bytes):
            return self._with_upload(
                video,
                lambda job_id, path, info: self._extend_upload(
                    principal, job_id, path, info, prompt, seconds, token_id, audio
                ),
            )
        source = self._completed(principal, video, "extend")
        before = source.total_seconds or source.request.seconds
        self._check_total(before, seconds)
        with self._artifacts.local_copy(source.artifacts["video"]) as source_file:
            frames_before = probe(source_file).frames
        request = replace(
            source.request,
            prompt=prompt,
            seconds=seconds,
            frame_offset=frames_before,
            input_reference=None,
            operation="extend",
            source=None,
            character=None,
            audio=_audio_as(source.request, audio),
        )
        return self.submit(
            principal,
            request,
            extended_from=source.id,
            total_seconds=before + seconds,
            token_id=token_id,
        )

    def edit(
        self,
        principal: Principal,
        video: VideoInput,
        prompt: str,
        *,
        model: str | None = None,
        token_id: str | None = None,
        audio: bool | None = None,
    ) -> Job:
        """A new video of the same length, size and frame rate as ``video``, changed as
        ``prompt`` says; ``video`` is one of the caller's completed videos or an upload.
        ``model`` edits it (default: the source's model, or the server's for an upload)."""
        if isinstance(video, bytes):
            return self._with_upload(
                video,
                lambda job_id, path, info: self.submit(
                    principal,
                    replace(
                        self._upload_request(path, info, prompt, info.seconds, "edit"),
                        model=model or self._default_model,
                        audio=audio,
                    ),
                    token_id=token_id,
                    job_id=job_id,
                ),
            )
        source = self._completed(principal, video, "edit")
        with self._artifacts.local_copy(source.artifacts["video"]) as source_file:
            facts = probe(source_file)
        interpretation = source.interpretation
        redrawable = (
            interpretation.get("engine") == "sketch"
            and isinstance(interpretation.get("plan"), dict)
            and interpretation.get("mode", "drawn") == "drawn"
            and source.extended_from is None
            and source.request.operation != "extend"
        )
        redrawable = redrawable and model in (None, source.request.model)
        request = replace(
            source.request,
            model=model or source.request.model,
            prompt=prompt,
            seconds=facts.frames / source.request.fps,
            frame_offset=0,
            input_reference=stored_reference(self._store, self._artifacts, source.id)
            if redrawable
            else None,
            operation="edit",
            source=SourceVideo(
                path=source.artifacts["video"],
                frames=facts.frames,
                fps=float(source.request.fps),
                width=facts.width,
                height=facts.height,
                video_id=source.id,
                plan=interpretation["plan"] if redrawable else None,
            ),
            character=None,
            audio=_audio_as(source.request, audio)
            if model in (None, source.request.model)
            else audio,
        )
        return self.submit(principal, request, token_id=token_id)

    def _check_total(self, before: float, seconds: float) -> None:
        if before + seconds > MAX_EXTENDED_SECONDS:
            raise InvalidRequestError.for_value(
                "seconds",
                seconds,
                f"would make the video longer than {MAX_EXTENDED_SECONDS:g} s (it is {before:g} s)",
            )

    def _with_upload(self, data: bytes, then: Callable[[str, str, UploadedVideo], Job]) -> Job:
        """Checks and keeps an uploaded video in a new job's folder, then runs ``then`` with
        the job's id, the upload's stored path and its facts; leaves nothing if anything fails.
        """
        job_id = Job.new_id()
        staged = partial_path(self._artifacts.path(job_id, "source.mp4"))
        try:
            staged.write_bytes(data)
            info = check_video(staged, self._upload_limits)
            if min(info.width, info.height) < MIN_SIDE:
                raise InvalidRequestError(
                    f"video is {info.width}x{info.height}; the smallest side allowed is "
                    f"{MIN_SIDE} pixels",
                    param="video",
                )
            final = self._artifacts.path(job_id, f"source.{info.suffix}")
            self._artifacts.write_bytes_atomic(final, data)
            staged.unlink(missing_ok=True)
            return then(job_id, self._artifacts.relative(final), info)
        except BaseException:
            self._artifacts.delete_job(job_id)
            raise

    def _upload_request(
        self, path: str, info: UploadedVideo, prompt: str, seconds: float, operation: str
    ) -> VideoRequest:
        """The request of an edit or extension of an uploaded video: its size (made even,
        as the encoder needs) and its frame rate (whole, within range)."""
        return VideoRequest(
            prompt=prompt,
            seconds=seconds,
            width=info.width - info.width % 2,
            height=info.height - info.height % 2,
            fps=max(MIN_FPS, min(MAX_FPS, round(info.fps))),
            model=self._default_model,
            operation=operation,
            source=SourceVideo(
                path=path,
                frames=info.frames,
                fps=info.fps,
                width=info.width,
                height=info.height,
            ),
        )

    def _extend_upload(
        self,
        principal: Principal,
        job_id: str,
        path: str,
        info: UploadedVideo,
        prompt: str,
        seconds: float,
        token_id: str | None,
        audio: bool | None,
    ) -> Job:
        self._check_total(info.seconds, seconds)
        request = replace(self._upload_request(path, info, prompt, seconds, "extend"), audio=audio)
        before = info.frames / request.fps
        return self.submit(
            principal, request, total_seconds=before + seconds, token_id=token_id, job_id=job_id
        )

    # ----- reading -----------------------------------------------------------------------------

    def get(self, principal: Principal, video_id: str) -> Job:
        """The job, if ``principal`` may see it (else 404, never 403)."""
        try:
            job = self._store.get(video_id)
        except NotFoundError:
            raise NotFoundError(f"no video with id {video_id!r}", param="video_id") from None
        if job.owner_id != principal.id and not principal.is_admin:
            raise NotFoundError(f"no video with id {video_id!r}", param="video_id")
        return job

    def list(
        self, principal: Principal, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> JobPage:
        """A page of the principal's videos (everyone's for admins)."""
        owner = None if principal.is_admin else principal.id
        return self._store.list(owner, after=after, limit=limit, order=order)

    def content(self, principal: Principal, video_id: str, variant: str) -> Content:
        """The file behind a finished video's ``variant``.

        Raises:
            InvalidRequestError: Unknown variant.
            ConflictError: The video is not completed yet (or failed).
        """
        if variant not in _VARIANTS:
            raise InvalidRequestError.for_value(
                "variant", variant, f"must be one of {', '.join(_VARIANTS)}"
            )
        job = self.get(principal, video_id)
        if job.status is not JobStatus.COMPLETED:
            raise ConflictError(
                f"video {video_id} is {job.status.value}; its content is available once it is completed",
                param="video_id",
            )
        name, media_type = _VARIANTS[variant]
        relative = job.artifacts.get(variant)
        if relative is None:
            raise NotFoundError(f"video {video_id} has no {variant}", param="variant")
        filename = f"{video_id}-{name}"
        remote = self._artifacts.remote_object(relative)
        source = remote if remote is not None else self._artifacts.resolve(relative)
        return Content(source, media_type, filename)

    # ----- changing ----------------------------------------------------------------------------

    def cancel(self, principal: Principal, video_id: str) -> Job:
        """Cancels a queued or running video (running ones stop at their next frame)."""
        self.get(principal, video_id)
        return self._store.request_cancel(video_id)

    def delete(self, principal: Principal, video_id: str) -> Job:
        """Deletes a video and its files, cancelling it first if it is still being made."""
        job = self.get(principal, video_id)
        if not job.status.is_final:
            try:
                job = self._store.request_cancel(video_id)
            except ConflictError:
                # It finished between the read and the cancel: delete it as it ended.
                job = self.get(principal, video_id)
        self._store.delete(video_id)
        self._artifacts.delete_job(video_id)
        return job

    def poll_after(self, job: Job, *, longest_ms: int) -> int:
        """The ``openai-poll-after-ms`` for ``job`` now (see :func:`poll_after_ms`)."""
        return poll_after_ms(
            job,
            self._clock(),
            longest_ms=longest_ms,
            expected_seconds=self._pace.expected(job.request),
        )

    def _completed(self, principal: Principal, video_id: str, action: str) -> Job:
        job = self.get(principal, video_id)
        if job.status is not JobStatus.COMPLETED:
            raise ConflictError(
                f"only completed videos can be used to {action}; {video_id} is {job.status.value}",
                param="video_id",
            )
        return job
