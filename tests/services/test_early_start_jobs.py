"""The video service with early start: a sketch render begins while moderation decides; a refused or
unadmitted video leaves no row, no file and no charge, an admitted one is the same video."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from tests.support.waiting import wait_for

from openreel.backends.base import (
    CancelCheck,
    Frame,
    ProgressCallback,
    never_cancelled,
    no_progress,
)
from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import Job, JobStatus, Principal, VideoRequest
from openreel.errors import ModerationBlockedError, RateLimitError
from openreel.media.encode import EncoderSettings
from openreel.media.probe import probe
from openreel.queue.embedded import EmbeddedQueue
from openreel.queue.reservation import Reservation
from openreel.services import videos as videos_module
from openreel.services.pace import PaceBook
from openreel.services.videos import VideoService
from openreel.services.worker import VideoWorker
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.trust.admission import Admission
from openreel.trust.moderation import ModerationPipeline
from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.normalise import Prompt

ALICE = Principal(id="usr_alice", name="alice")


class SpyBackend(SketchBackend):
    """The sketch engine, noting when each prompt's first frame was made."""

    first_frames: dict[str, float] = {}  # noqa: RUF012 - reset by the fixture
    frame_made = threading.Event()
    all_made = threading.Event()

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Iterator[Frame]:
        for frame in super().generate(request, progress, cancelled):
            SpyBackend.first_frames.setdefault(request.prompt, time.time())
            SpyBackend.frame_made.set()
            yield frame
        SpyBackend.all_made.set()


class GateCheck:
    """A moderation check that decides only once the render has made a frame (so the test
    knows the render began before the decision), refusing prompts that say "forbidden"."""

    name = "gate"

    def __init__(self) -> None:
        self.decided_at: dict[str, float] = {}

    def check(self, prompt: Prompt) -> Refusal | None:
        SpyBackend.frame_made.wait(10)
        if "slow decision" in prompt.original:
            # The render finishes first: the video is signed and in place, its worker waiting.
            SpyBackend.all_made.wait(10)
            time.sleep(0.3)
        self.decided_at[prompt.original] = time.time()
        if "forbidden" in prompt.original:
            return Refusal("test/forbidden", "the test forbids it", self.name)
        return None


class OverQuotaStore(JobStore):
    """Refuses to admit prompts that say "over", as a full quota would, inside create; notes
    each heartbeat's progress and phase."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.beats: list[tuple[str, int | None, str | None]] = []

    def heartbeat(self, job_id: str, worker: str, **kwargs: Any) -> bool:
        self.beats.append((job_id, kwargs.get("progress"), kwargs.get("phase")))
        return super().heartbeat(job_id, worker, **kwargs)

    def take(self, job_id: str, worker: str, **kwargs: Any) -> Job | None:
        if "cancelled at once" in self.get(job_id).request.prompt:
            self.request_cancel(job_id)  # the owner cancels before the worker takes the row
        return super().take(job_id, worker, **kwargs)

    def create(self, job: Job, **kwargs: Any) -> Job:
        if "over" in job.request.prompt:
            raise RateLimitError("over the quota", retry_after=60)
        return super().create(job, **kwargs)


@dataclass
class Setup:
    service: VideoService
    store: OverQuotaStore
    artifacts: ArtifactStore
    gate: GateCheck
    queue: EmbeddedQueue


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    SpyBackend.first_frames = {}
    SpyBackend.frame_made = threading.Event()
    SpyBackend.all_made = threading.Event()
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = OverQuotaStore(db)
    artifacts = ArtifactStore(tmp_path / "files")
    registry = BackendRegistry()
    registry.register("sketch", SketchBackend.models, SpyBackend)
    queue = EmbeddedQueue(store, workers=1, poll_interval=5.0, early_start=SketchBackend.models)
    gate = GateCheck()
    pace = PaceBook()
    service = VideoService(
        store=store,
        artifacts=artifacts,
        registry=registry,
        queue=queue,
        admission=Admission(moderation=ModerationPipeline([gate])),
        pace=pace,
    )
    worker = VideoWorker(
        store=store, artifacts=artifacts, registry=registry, encoder=EncoderSettings(), pace=pace
    )
    queue.start(worker.run)
    wait_for(lambda: queue.stats().busy == 0 and bool(queue._idle), timeout=20)  # reservable
    yield Setup(service, store, artifacts, gate, queue)
    queue.stop(10)
    db.dispose()


def _request(prompt: str) -> VideoRequest:
    return VideoRequest(prompt=prompt, seconds=2, width=160, height=96, fps=12, seed=3)


def _job_folders(artifacts: ArtifactStore) -> list[Path]:
    root = artifacts.job_dir(Job.new_id(), create=False).parent
    return [p for p in root.glob("*") if p.is_dir()] if root.is_dir() else []


def test_an_admitted_video_starts_rendering_before_moderation_decides(setup: Setup) -> None:
    prompt = "a lighthouse at dusk"
    job = setup.service.submit(ALICE, _request(prompt))
    assert job.status is JobStatus.IN_PROGRESS  # the client is told it is running already
    assert SpyBackend.first_frames[prompt] <= setup.gate.decided_at[prompt]
    wait_for(lambda: setup.store.get(job.id).status.is_final, timeout=20)
    done = setup.store.get(job.id)
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.attempts == 1
    assert done.started_at is not None
    assert done.started_at <= setup.gate.decided_at[prompt]  # when the work really began
    # Progress went out while rendering; "finalizing" when the last frame was made, while the
    # encoder finished, and nothing between the finished file and the completion.
    beats = [(progress, phase) for job_id, progress, phase in setup.store.beats if job_id == job.id]
    assert beats, "no progress was stored while rendering"
    assert beats[-1] == (95, "finalizing")
    assert all(phase == "rendering" for _, phase in beats[:-1])
    video = setup.artifacts.resolve(done.artifacts["video"])
    assert probe(video).frames == 24
    # Pollers of the next such video are asked back at the pace this one took, not a second.
    running = replace(done, status=JobStatus.IN_PROGRESS, progress=0, started_at=time.time())
    assert setup.service.poll_after(running, longest_ms=1000) < 1000
    assert sorted(p.name for p in video.parent.iterdir()) == [
        "spritesheet.jpg",
        "thumbnail.webp",
        "video.mp4",
    ]


def test_the_worker_begins_before_the_submission_moderates(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submission lets the reserved worker through before it moderates (both are Python
    and would take turns on the interpreter lock): the worker's first report comes first."""
    monkeypatch.setattr(videos_module, "HANDOFF_WAIT_S", 10.0)  # as long as it takes
    events: list[str] = []
    note = Reservation.note

    def noted(self: Reservation, progress: int | None, phase: str | None) -> None:
        events.append("worker reported")
        note(self, progress, phase)

    def check(prompt: Prompt) -> Refusal | None:
        events.append("moderation began")
        return None

    monkeypatch.setattr(Reservation, "note", noted)
    monkeypatch.setattr(setup.gate, "check", check)
    job = setup.service.submit(ALICE, _request("a harbour at noon"))
    # The worker may report again before the submission's thread gets the interpreter back.
    assert events[0] == "worker reported"
    assert "moderation began" in events
    wait_for(lambda: setup.store.get(job.id).status.is_final, timeout=20)
    assert setup.store.get(job.id).status is JobStatus.COMPLETED


@pytest.mark.parametrize(
    ("prompt", "error"),
    [("a forbidden scene", ModerationBlockedError), ("a boat over the limit", RateLimitError)],
)
def test_a_refused_or_unadmitted_video_leaves_nothing(
    setup: Setup, prompt: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        setup.service.submit(ALICE, _request(prompt))
    assert prompt in SpyBackend.first_frames  # the render had begun
    assert setup.store.list(None, after=None, limit=10, order="asc").items == []
    # The worker dropped the render at its next frame and removed its folder before the
    # refusal was answered.
    assert _job_folders(setup.artifacts) == []
    # ...and is free for the next video, which completes normally.
    job = setup.service.submit(ALICE, _request("a calm lake"))
    wait_for(lambda: setup.store.get(job.id).status.is_final, timeout=20)
    assert setup.store.get(job.id).status is JobStatus.COMPLETED
    assert [p.name for p in _job_folders(setup.artifacts)] == [job.id]


def test_an_early_start_cancelled_before_it_was_taken_leaves_no_files(setup: Setup) -> None:
    job = setup.service.submit(ALICE, _request("a slow decision, cancelled at once"))
    assert SpyBackend.all_made.is_set()  # the render had finished before the decision
    wait_for(lambda: setup.queue.stats().busy == 0, timeout=20)
    ended = setup.store.get(job.id)
    assert ended.status is JobStatus.FAILED
    assert ended.error is not None
    assert ended.error.code == "cancelled"
    folder = setup.artifacts.job_dir(job.id, create=False)
    assert not folder.exists() or sorted(p.name for p in folder.iterdir()) == []
