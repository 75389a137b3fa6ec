"""JobService: admission, ownership, cancellation and the work a queue worker does for a job.

Admission checks the request against its backend, fixes the seed and records what the backend
understood before anything is queued, so a bad request fails fast with a 400 and the client
sees the plan at once. ``run`` is the one body every worker executes (the embedded threads
today, Celery workers later): it streams frames into the job's artifact folder, reports
progress through the lease, honours cancellation at every frame, and completes or fails the
job row; a job either ends with all its files in place or with none.

Imports: backends, media, storage, queue, domain, errors, services.generation.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from openreel.backends.registry import BackendRegistry
from openreel.domain import ImageInput, Job, JobError, JobStatus, Principal, VideoRequest
from openreel.errors import (
    CancelledError,
    ConflictError,
    GenerationPausedError,
    InvalidRequestError,
    ModerationBlockedError,
    NotFoundError,
    OpenReelError,
    RateLimitError,
)
from openreel.media.encode import EncoderSettings
from openreel.media.images import read_image
from openreel.media.label import LabelSpec
from openreel.media.probe import probe
from openreel.queue.base import JobQueue, Lease, LeaseLostError
from openreel.services.generation import PreviewPaths
from openreel.services.killswitch import KillSwitch
from openreel.services.moderation import ModerationPipeline
from openreel.services.provenance import ContentRegistry, Provenance
from openreel.services.quotas import QuotaService
from openreel.services.render_process import RenderCall, RenderProcesses, render_in_thread
from openreel.services.watch import JobWatch
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.jobs import JobPage, JobStore
from openreel.storage.objects import RemoteObject

__all__ = [
    "MAX_EXTENDED_SECONDS",
    "POLL_AFTER_SHORTEST_MS",
    "Content",
    "JobService",
    "PaceBook",
    "poll_after_ms",
]

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""Progress is stored at most this often, and only when it changed.

Every store is a database write; a small video changes its percentage on every frame, and
writing each one cost more than rendering the frame (benchmarks/api.py, whole-path figure).
A quarter second matches how often ``/events`` looks.
"""

HANDOFF_WAIT_S = 0.005
"""Longest a submission waits for the worker it reserved to begin before it moderates.

What comes next in the request's thread (moderation's rules and tokenizer, the row's write)
is Python, and so is the worker's start (its first report, then the hand-over to a render
process): the two took turns on the interpreter lock, and the render began about 2 ms after
the reservation. Waiting (the lock released) lets the worker through first: the render begins
1.5 ms sooner, and the submission, whose answer does not hold up the video, a little later.
Bounded so a worker slow to wake never holds the request up for long.
"""

MAX_EXTENDED_SECONDS = 120.0
"""Longest total an extension may stitch to (the OpenAI limit)."""

_VARIANTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


POLL_AFTER_SHORTEST_MS = 100
"""The shortest ``openai-poll-after-ms`` ever sent: ten polls a second at most."""


def poll_after_ms(
    job: Job, now: float, *, longest_ms: int, expected_seconds: float | None = None
) -> int:
    """How long a client polling ``job`` should wait before asking again.

    Sent as ``openai-poll-after-ms``. The official SDK reads it from the first answer and
    keeps that pace until the video ends, so a fixed second made a video rendered in 0.2 s
    take over a second to collect. The hint is half the time the job probably has left,
    between :data:`POLL_AFTER_SHORTEST_MS` and ``longest_ms`` (the operator's setting): left
    is what the job's pace so far says once it shows progress, or else ``expected_seconds``
    (how long such a job took lately) less the time it has run. A queued job, or a running
    one with neither, gets ``longest_ms``.
    """
    longest = max(POLL_AFTER_SHORTEST_MS, longest_ms)
    if job.status.is_final or job.started_at is None:
        return longest
    elapsed = max(0.0, now - job.started_at)
    if job.progress > 0:
        left = elapsed * (100 - min(job.progress, 100)) / job.progress
    elif expected_seconds is not None:
        left = max(0.0, expected_seconds - elapsed)
    else:
        return longest
    return int(min(longest, max(POLL_AFTER_SHORTEST_MS, 1000 * left / 2)))


class PaceBook:
    """How long each model's renders took lately, per megapixel-frame (for poll hints).

    The median of the model's last few finished renders in this process: a process's first
    render pays for imports and warm-ups and must not set the pace for long. Nothing is
    stored; a server whose renders run elsewhere (Celery workers) learns nothing and hints
    the operator's setting, as before.
    """

    KEPT = 5
    """How many recent renders of a model count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, collections.deque[float]] = {}

    @staticmethod
    def units(request: VideoRequest) -> float:
        """The work in a request: its frames times its megapixels."""
        return request.frame_count * request.width * request.height / 1e6

    def record(self, request: VideoRequest, seconds: float) -> None:
        """Notes that ``request`` took ``seconds`` to render."""
        units = self.units(request)
        if units <= 0 or seconds <= 0:
            return
        with self._lock:
            rates = self._rates.setdefault(request.model, collections.deque(maxlen=self.KEPT))
            rates.append(seconds / units)

    def expected(self, request: VideoRequest) -> float | None:
        """How long ``request`` should take to render, or None before any such render."""
        with self._lock:
            rates = self._rates.get(request.model)
            rate = statistics.median(rates) if rates else None
        return None if rate is None else rate * self.units(request)


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


class JobService:
    """Everything the API does with videos, and the worker body that makes them."""

    def __init__(
        self,
        *,
        store: JobStore,
        artifacts: ArtifactStore,
        registry: BackendRegistry,
        queue: JobQueue,
        encoder: EncoderSettings,
        clock: Callable[[], float] = time.time,
        watch: JobWatch | None = None,
        quotas: QuotaService | None = None,
        killswitch: KillSwitch | None = None,
        audit: AuditStore | None = None,
        label: LabelSpec | None = None,
        provenance: Provenance | None = None,
        moderation: ModerationPipeline | None = None,
        content: ContentRegistry | None = None,
        processes: RenderProcesses | None = None,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._registry = registry
        self._queue = queue
        self._encoder = encoder
        self._clock = clock
        self._watch = watch or JobWatch()
        self._quotas = quotas
        self._killswitch = killswitch
        self._audit = audit
        self._label = label
        self._provenance = provenance
        self._moderation = moderation
        self._content = content
        self._processes = processes
        self._pace = PaceBook()

    @property
    def watch(self) -> JobWatch:
        """Change notifications for live progress streams (fed by the job store's listener)."""
        return self._watch

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
    ) -> Job:
        """Checks, admits against the quota, records and queues a new video for ``principal``.

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
            )
        except (GenerationPausedError, RateLimitError, ModerationBlockedError) as exc:
            if self._audit is not None:  # refusals by policy are what abuse reviews look for
                detail: dict[str, object] = {"model": request.model, "seconds": request.seconds}
                if isinstance(exc, ModerationBlockedError):  # the category, never the prompt
                    detail.update(category=exc.category, check=exc.check)
                self._audit.record(
                    AuditEntry(
                        action="video.refused",
                        outcome=f"denied:{exc.code}",
                        actor_id=principal.id,
                        token_id=token_id,
                        detail=detail,
                    )
                )
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
    ) -> Job:
        if self._killswitch is not None:
            self._killswitch.check(principal, model=request.model, token_id=token_id)
        backend = self._registry.for_model(request.model)
        backend.check(request)
        request = request.with_seed()
        job = Job(
            id=Job.new_id(),
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
        # fails (see queue.base.Reservation). Other jobs wait for their row as before, and so
        # does one whose row could not be taken at confirmation.
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

    def _admit(self, principal: Principal, job: Job) -> Job:
        """Moderates the prompt, then writes the row, admitted against the quota."""
        if self._moderation is not None:
            # Before the quota is touched: a refused prompt is never charged, so there is
            # nothing to refund, and never sent anywhere.
            self._moderation.screen(job.request.prompt)
        quota = None if self._quotas is None else self._quotas.for_principal(principal)
        reference_path = None
        if job.request.input_reference is not None:
            reference_path = self._save_reference(job.id, job.request.input_reference)
        try:
            return self._store.create(job, input_reference_path=reference_path, quota=quota)
        except BaseException:
            if reference_path is not None:  # refused or failed: keep no orphan image
                self._artifacts.delete_job(job.id)
            raise

    def _save_reference(self, job_id: str, image: ImageInput) -> str:
        suffix = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[image.media_type]
        path = self._artifacts.path(job_id, f"input.{suffix}")
        self._artifacts.write_bytes_atomic(path, image.data)
        return self._artifacts.relative(path)

    def remix(
        self, principal: Principal, video_id: str, prompt: str, *, token_id: str | None = None
    ) -> Job:
        """A new video with the same settings and seed as ``video_id`` and a new prompt."""
        source = self._completed(principal, video_id, "remix")
        request = replace(source.request, prompt=prompt, input_reference=self._reference(source))
        return self.submit(principal, request, remixed_from=source.id, token_id=token_id)

    def extend(
        self,
        principal: Principal,
        video_id: str,
        prompt: str,
        seconds: float,
        *,
        token_id: str | None = None,
    ) -> Job:
        """A new video that continues ``video_id`` for ``seconds`` more, stitched to it."""
        source = self._completed(principal, video_id, "extend")
        before = source.total_seconds or source.request.seconds
        if before + seconds > MAX_EXTENDED_SECONDS:
            raise InvalidRequestError.for_value(
                "seconds",
                seconds,
                f"would make the video longer than {MAX_EXTENDED_SECONDS:g} s (it is {before:g} s)",
            )
        with self._artifacts.local_copy(source.artifacts["video"]) as source_file:
            frames_before = probe(source_file).frames
        request = replace(
            source.request,
            prompt=prompt,
            seconds=seconds,
            frame_offset=frames_before,
            input_reference=None,
        )
        return self.submit(
            principal,
            request,
            extended_from=source.id,
            total_seconds=before + seconds,
            token_id=token_id,
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

    # ----- the worker body -----------------------------------------------------------------

    def run(self, job: Job, lease: Lease) -> None:
        """Makes the video of ``job``; completes or fails its row. Called by queue workers."""
        completed = False
        try:
            completed = self._run(job, lease)
        except LeaseLostError:
            log.warning("job %s: lease lost to another worker; leaving it to them", job.id)
        except CancelledError:
            self._delete_outputs(job.id)
            self._fail(
                job,
                lease,
                JobError("cancelled", "the video was cancelled", "invalid_request_error"),
            )
        except OpenReelError as exc:
            self._delete_outputs(job.id)
            self._fail(job, lease, JobError(exc.code, exc.message, exc.error_type, exc.param))
        except OSError:
            # A delete that lands mid-render removes the folder under the encoder's feet;
            # that is not a failure of the job, which no longer exists.
            if self._exists(job.id):
                raise
            log.info("job %s: deleted while rendering", job.id)
        finally:
            if not completed:  # a completed row was there after the last file was written
                self._sweep(job.id)

    def _exists(self, job_id: str) -> bool:
        try:
            self._store.get(job_id)
        except NotFoundError:
            return False
        return True

    def _sweep(self, job_id: str) -> None:
        """Removes what this worker left of a job it did not complete.

        The whole folder when the row is gone: the delete request removes the row and then
        the folder, but the worker may write files (a preview, the video's rename) after
        that; the worker is the last writer, so it makes the final sweep. The finished files
        when the row is queued or failed: an early start may have finished its video before
        learning the row would never be its own (cancelled or paused at that instant).
        Nothing while another worker holds the row (it writes its own files over these), and
        not after a completion: the row was still there when every file had been written, so
        any delete comes later and removes the folder itself.
        """
        try:
            try:
                current = self._store.get(job_id)
            except NotFoundError:
                self._artifacts.delete_job(job_id)
                return
            if current.status in (JobStatus.QUEUED, JobStatus.FAILED):
                self._delete_outputs(job_id)
        except Exception:  # a clean-up must never hide the outcome of the render itself
            log.exception("job %s: could not check for a delete after rendering", job_id)

    def _fail(self, job: Job, lease: Lease, error: JobError) -> None:
        try:
            self._store.fail(job.id, lease.worker, error)
        except (ConflictError, NotFoundError):
            log.info("job %s: gone or taken before it could be marked failed", job.id)

    def _run(self, job: Job, lease: Lease) -> bool:
        """Renders and completes ``job``; False when its row was gone or taken at the end."""
        # An early start's job comes from the service with its image in hand (its row may
        # not exist yet); a claimed one reads it from the artifact store.
        request = job.request
        if not lease.early_start:
            request = replace(request, input_reference=self._reference(job))
        backend = self._registry.for_model(request.model)
        # A worker killed mid-render leaves its hidden temp files; a rerun writes new ones.
        self._artifacts.remove_partials(job.id)
        video = self._artifacts.path(job.id, "video.mp4")
        previews = PreviewPaths(
            self._artifacts.path(job.id, "thumbnail.webp"),
            self._artifacts.path(job.id, "spritesheet.jpg"),
        )
        lease.heartbeat(progress=0, phase="rendering")
        reported = {"pct": -1, "at": 0.0}
        finalizing = False

        def progress(done: int, total: int) -> None:
            nonlocal finalizing
            pct = min(95, math.floor(95 * done / max(total, 1)))
            if done >= 1:  # a made frame shows as at least 1 %: the first one is news at once
                pct = max(pct, 1)  # (a render process reports it at once, then only at a pace)
            now = time.monotonic()
            if done >= total and not finalizing:
                # The last frame is made; the encoder's tail, the previews and the signature
                # follow. Said now, while the encoder works, not after: the write would
                # otherwise sit between the finished file and the completion.
                finalizing = True
                reported["pct"], reported["at"] = pct, now
                lease.heartbeat(progress=pct, phase="finalizing")
                return
            since = now - reported["at"]
            first = reported["pct"] <= 0 < pct  # the first sign of life goes out at once
            # Only news is written: the lease itself is renewed by lease.cancelled(), which
            # every backend asks at least once a frame or a wait step.
            if first or (pct != reported["pct"] and since >= PROGRESS_EVERY_S):
                reported["pct"], reported["at"] = pct, now
                lease.heartbeat(progress=pct, phase="rendering")

        # An extension's source is read through a local copy (a temporary one when it lives
        # in a bucket) that lasts as long as the render.
        with contextlib.ExitStack() as scope:
            source_path: Path | None = None
            prefix_frames = 0
            if job.extended_from is not None:
                source = self._store.get(job.extended_from).artifacts["video"]
                source_path = scope.enter_context(self._artifacts.local_copy(source))
                prefix_frames = probe(source_path).frames
            sampler = None
            if self._content is not None:
                sampler = self._content.sampler(prefix_frames + request.frame_count, request.fps)
            call = RenderCall(
                backend,
                request,
                video,
                encoder=self._encoder,
                previews=previews,
                prefix_path=source_path,
                prefix_frames=prefix_frames,
                label=self._label,
                provenance=self._provenance,
                sampler=sampler,
            )
            if self._processes is not None and self._processes.handles(backend):
                result, sampler = self._processes.render(
                    call,
                    progress=progress,
                    cancelled=lease.cancelled,
                    stall_seconds=lease.lease_seconds,
                )
                # Its last frame was reported, or held back because the child finished first
                # (render_process.LAST_REPORT_S): the completion comes next and says more.
                finalizing = True
            else:
                result = render_in_thread(call, progress=progress, cancelled=lease.cancelled)
        lease.admitted()  # nothing below happens for a job that was never admitted
        if not finalizing or self._artifacts.remote is not None:
            # A backend that never reported its last frame, or an upload to the bucket
            # ahead (seconds for a large file: this also renews the lease).
            lease.heartbeat(progress=99, phase="finalizing")
        content = None
        if self._content is not None and sampler is not None:
            content = self._content.record(job.id, job.owner_id, video, sampler, self._clock())
        artifacts = {a.kind: self._artifacts.relative(Path(a.path)) for a in result.artifacts}
        # With a bucket, the files go there before the job can be seen completed.
        self._artifacts.publish(job.id, [Path(a.path).name for a in result.artifacts])
        try:
            self._store.complete(
                job.id,
                lease.worker,
                artifacts=artifacts,
                interpretation=result.interpretation,
                total_seconds=result.frames / request.fps,  # the source's frames included
                expires_at=None,
                content=content,
            )
        except (ConflictError, NotFoundError):
            # Deleted or cancelled while finishing, or the lease moved on: take the files back.
            log.info(
                "job %s: could not be completed (deleted or reclaimed); removing its files", job.id
            )
            self._delete_outputs(job.id)
            return False
        if job.extended_from is None:  # an extension's time includes decoding its source
            self._pace.record(request, result.render_seconds)
        return True

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

    def _reference(self, job: Job) -> ImageInput | None:
        relative = self._store.get_input_reference_path(job.id)
        if relative is None:
            return None
        return read_image(self._artifacts.resolve(relative).read_bytes())

    def _delete_outputs(self, job_id: str) -> None:
        for name in ("video.mp4", "thumbnail.webp", "spritesheet.jpg"):
            self._artifacts.path(job_id, name, create=False).unlink(missing_ok=True)
        # A render process killed mid-render (out of memory, say) leaves its hidden temp files.
        self._artifacts.remove_partials(job_id)
