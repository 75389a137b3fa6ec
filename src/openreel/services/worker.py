"""VideoWorker: the one body every queue worker runs to make a video.

It streams frames into the job's artifact folder, reports progress through the lease, honours
cancellation at every frame, and completes or fails the job row; a job either ends with all
its files in place or with none. The embedded worker threads and Celery's workers both run it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from openreel.backends.registry import BackendRegistry
from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import CancelledError, ConflictError, NotFoundError, OpenReelError
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.media.probe import probe
from openreel.queue.lease import Lease, LeaseLostError
from openreel.services.generation import PreviewPaths
from openreel.services.pace import PaceBook
from openreel.services.render_process import RenderCall, RenderProcesses, render_in_thread
from openreel.services.videos import stored_last_frame, stored_reference
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.jobs import JobStore
from openreel.trust.provenance import ContentRegistry, Provenance

__all__ = ["PROGRESS_EVERY_S", "VideoWorker"]

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""Progress is stored at most this often, and only when it changed.

Every store is a database write; a small video changes its percentage on every frame, and
writing each one cost more than rendering the frame (benchmarks/api.py, whole-path figure).
A quarter second matches how often ``/events`` looks.
"""


class VideoWorker:
    """Makes the video of each job a queue hands it (see the module docstring).

    Args:
        store: The job rows.
        artifacts: The jobs' files.
        registry: Model id -> backend.
        encoder: Encoder settings for every video written.
        pace: Where each finished render's time is noted, for poll hints.
        label: The visible label burned into every video, or None when turned off.
        provenance: The C2PA signer, or None when signing is turned off.
        content: The registry of what this server made (fingerprints), or None.
        processes: Child processes for renders that can run in one, or None for threads.
        clock: Wall clock (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        store: JobStore,
        artifacts: ArtifactStore,
        registry: BackendRegistry,
        encoder: EncoderSettings,
        pace: PaceBook,
        label: LabelSpec | None = None,
        provenance: Provenance | None = None,
        content: ContentRegistry | None = None,
        processes: RenderProcesses | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._registry = registry
        self._encoder = encoder
        self._pace = pace
        self._label = label
        self._provenance = provenance
        self._content = content
        self._processes = processes
        self._clock = clock

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
            request = replace(
                request,
                input_reference=stored_reference(self._store, self._artifacts, job.id),
                last_frame=stored_last_frame(self._artifacts, job.id),
            )
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

        # An extension's source, an edit's video and a character's pictures are read through
        # local copies (temporary ones when they live in a bucket) that last as long as the
        # render; the backend gets their paths on this machine.
        with contextlib.ExitStack() as scope:
            source_path: Path | None = None
            prefix_frames = 0
            if job.extended_from is not None:
                source = self._store.get(job.extended_from).artifacts["video"]
                source_path = scope.enter_context(self._artifacts.local_copy(source))
                prefix_frames = probe(source_path).frames
            request = self._localised(request, scope)
            if request.operation == "extend" and request.source is not None:
                source_path = Path(request.source.path)  # an uploaded video, continued
                prefix_frames = request.source.frames
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
        if job.extended_from is None and request.source is None:
            # An extension's or edit's time includes decoding its source.
            self._pace.record(request, result.render_seconds)
        return True

    def _localised(self, request: VideoRequest, scope: contextlib.ExitStack) -> VideoRequest:
        """``request`` with its source video and character pictures as local paths."""
        if request.source is not None:
            local = scope.enter_context(self._artifacts.local_copy(request.source.path))
            request = replace(request, source=replace(request.source, path=str(local)))
        if request.character is not None:
            character = request.character
            cutout = scope.enter_context(self._artifacts.local_copy(character.cutout))
            frame = scope.enter_context(self._artifacts.local_copy(character.frame))
            request = replace(
                request, character=replace(character, cutout=str(cutout), frame=str(frame))
            )
        return request

    def _delete_outputs(self, job_id: str) -> None:
        for name in ("video.mp4", "thumbnail.webp", "spritesheet.jpg"):
            self._artifacts.path(job_id, name, create=False).unlink(missing_ok=True)
        # A render process killed mid-render (out of memory, say) leaves its hidden temp files.
        self._artifacts.remove_partials(job_id)
