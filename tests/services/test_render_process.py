"""Render processes: a sketch video rendered in a child gives what the thread would, and
cancels, lost leases, a dying child and a dying server all end the way they should."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.waiting import wait_for

from openreel.backends.base import VideoBackend
from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import JobStatus, Principal, VideoRequest
from openreel.errors import BackendError, CancelledError
from openreel.media.encode import EncoderSettings
from openreel.media.fingerprint import SecondSampler
from openreel.media.previews import PreviewCollector
from openreel.media.probe import probe
from openreel.queue.embedded import EmbeddedQueue
from openreel.queue.lease import LeaseLostError
from openreel.services import render_process
from openreel.services.generation import PreviewPaths
from openreel.services.pace import PaceBook
from openreel.services.render_process import (
    RenderCall,
    RenderProcesses,
    _render,
    render_in_thread,
)
from openreel.services.videos import VideoService
from openreel.services.worker import VideoWorker
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.trust.admission import Admission


def _call(out: Path, *, seconds: float = 1.0, fps: int = 12) -> RenderCall:
    request = VideoRequest(
        prompt="a ship at sea at dawn", seconds=seconds, width=128, height=72, fps=fps, seed=5
    )
    return RenderCall(
        SketchBackend(),
        request,
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        sampler=SecondSampler(request.frame_count, request.fps),
    )


@pytest.fixture
def processes() -> Iterator[RenderProcesses]:
    """Children that report every frame, so a test can act at a chosen one (the default pace
    has a test of its own)."""
    pool = RenderProcesses((SketchBackend,), report_every_s=0)
    yield pool
    pool.close()


def _child_pids(pool: RenderProcesses) -> set[int]:
    return {child.process.pid for child in pool._idle if child.process.pid is not None}


def test_a_child_renders_what_the_thread_renders(
    processes: RenderProcesses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_process, "LAST_REPORT_S", 0.0)  # every report relayed
    seen: list[tuple[int, int]] = []
    result, sampler = processes.render(
        _call(tmp_path / "child.mp4"),
        progress=lambda done, total: seen.append((done, total)),
        cancelled=lambda: False,
    )
    here = _call(tmp_path / "thread.mp4")
    expected = render_in_thread(here, progress=lambda d, t: None, cancelled=lambda: False)
    assert [a.kind for a in result.artifacts] == [a.kind for a in expected.artifacts]
    assert result.frames == expected.frames == 12
    assert probe(tmp_path / "child.mp4").frames == 12
    assert (tmp_path / "child.thumbnail.webp").stat().st_size > 0
    assert seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # The sampler comes back filled: the same per-second fingerprints as in the thread.
    assert sampler is not None
    assert here.sampler is not None
    assert sampler.fingerprint("0" * 64).hashes == here.sampler.fingerprint("0" * 64).hashes
    assert len(_child_pids(processes)) == 1
    assert os.getpid() not in _child_pids(processes)


def test_a_cancel_stops_the_child_at_its_next_frame_and_keeps_it(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    frames: list[int] = []
    with pytest.raises(CancelledError):
        processes.render(
            _call(tmp_path / "clip.mp4", seconds=4),
            progress=lambda done, total: frames.append(done),
            cancelled=lambda: len(frames) >= 2,
        )
    assert max(frames) < 48  # stopped long before the end
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing left behind
    before = _child_pids(processes)
    processes.render(
        _call(tmp_path / "next.mp4"), progress=lambda d, t: None, cancelled=lambda: False
    )
    assert _child_pids(processes) == before  # the same child made the next one


def test_a_lost_lease_stops_the_child_and_is_what_the_worker_sees(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    frames: list[int] = []

    def cancelled() -> bool:
        if len(frames) >= 2:
            raise LeaseLostError("worker w no longer holds video v; stop without writing")
        return False

    with pytest.raises(LeaseLostError):
        processes.render(
            _call(tmp_path / "clip.mp4", seconds=4),
            progress=lambda done, total: frames.append(done),
            cancelled=cancelled,
        )
    assert max(frames) < 48
    assert list(tmp_path.iterdir()) == []


def test_a_child_that_dies_fails_the_video_and_is_replaced(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    processes.warm(1)
    (victim,) = _child_pids(processes)

    def progress(done: int, total: int) -> None:
        if done == 2:
            os.kill(victim, signal.SIGKILL)

    with pytest.raises(BackendError, match=r"render process stopped unexpectedly \(exit code -9\)"):
        processes.render(
            _call(tmp_path / "clip.mp4", seconds=4), progress=progress, cancelled=lambda: False
        )
    result, _ = processes.render(
        _call(tmp_path / "again.mp4"), progress=lambda d, t: None, cancelled=lambda: False
    )
    assert result.frames == 12
    assert victim not in _child_pids(processes)
    assert len(_child_pids(processes)) == 1


def test_other_backends_stay_in_the_thread(processes: RenderProcesses) -> None:
    class Elsewhere(SketchBackend):
        pass

    backend: VideoBackend = Elsewhere()
    assert processes.handles(SketchBackend())
    assert not processes.handles(backend)


def test_a_closed_pool_renders_in_the_calling_thread(tmp_path: Path) -> None:
    """A worker still busy when the server stops (past the queue's stop timeout) renders as
    the thread would, rather than failing the video."""
    pool = RenderProcesses((SketchBackend,))
    pool.warm(1)
    (child,) = pool._idle
    pool.close()
    assert child.broken or child.conn.closed  # the idle child was stopped
    result, sampler = pool.render(
        _call(tmp_path / "x.mp4"), progress=lambda d, t: None, cancelled=lambda: False
    )
    assert result.frames == 12
    assert sampler is not None
    assert probe(tmp_path / "x.mp4").frames == 12
    assert pool._idle == []


@pytest.mark.parametrize("how", ["cancel", "lease lost"])
def test_nothing_is_kept_when_the_worker_says_stop_at_the_last_frame(
    processes: RenderProcesses, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child runs ahead of the worker: a cancel or a lost lease the worker sees only with
    the last frame must still take the video back (the child waits for the verdict)."""
    monkeypatch.setattr(render_process, "LAST_REPORT_S", 0.0)  # the last report relayed too

    def progress(done: int, total: int) -> None:
        if how == "lease lost" and done == total:
            raise LeaseLostError("worker w no longer holds video v; stop without writing")

    seen: list[int] = []

    def cancelled() -> bool:
        return how == "cancel" and seen[-1:] == [12]  # seen only with the last frame

    def counting(done: int, total: int) -> None:
        seen.append(done)
        progress(done, total)

    expected = CancelledError if how == "cancel" else LeaseLostError
    with pytest.raises(expected):
        processes.render(_call(tmp_path / "clip.mp4"), progress=counting, cancelled=cancelled)
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert list(tmp_path.iterdir()) == []


def test_a_child_that_sends_nothing_is_killed_and_replaced(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    processes.warm(1)
    (frozen,) = _child_pids(processes)

    def progress(done: int, _total: int) -> None:
        if done == 1:
            os.kill(frozen, signal.SIGSTOP)  # hangs from here on, as a stuck render would

    with pytest.raises(BackendError, match="sent nothing for 1 s"):
        processes.render(
            _call(tmp_path / "clip.mp4", seconds=4),
            progress=progress,
            cancelled=lambda: False,
            stall_seconds=1.0,
        )
    result, _ = processes.render(
        _call(tmp_path / "again.mp4"), progress=lambda d, t: None, cancelled=lambda: False
    )
    assert result.frames == 12
    assert frozen not in _child_pids(processes)


def test_a_child_exits_when_its_server_is_killed(tmp_path: Path) -> None:
    """The server is killed with -9 mid-render: its child finds its pipe broken at its next
    frame and exits, leaving no finished file."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from openreel.services.render_process import RenderProcesses
        from tests.services.test_render_process import _call

        pool = RenderProcesses([type(_call(Path("x")).backend)])
        pool.warm(1)
        print(pool._idle[0].process.pid, flush=True)

        said = []

        def progress(done, total):  # reported at the default pace: not every frame
            if done >= 2 and not said:
                said.append(done)
                print("rendering", flush=True)

        pool.render(_call(Path({str(tmp_path / "clip.mp4")!r}), seconds=30),
                    progress=progress, cancelled=lambda: False)
        """
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert server.stdout.readline().strip() == "rendering"
        server.kill()
        server.wait(10)

        def gone() -> bool:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return True
            # A zombie (exited, not yet reaped by its parent) counts as gone.
            with open(f"/proc/{child}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] == "Z"

        wait_for(gone, timeout=10)  # the render child must not outlive its server
        assert not (tmp_path / "clip.mp4").exists()
    finally:
        server.kill()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()


def test_a_stop_that_crosses_the_end_of_its_render_does_not_touch_the_next(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    """The worker may ask to stop just as the child finishes (the two cross in the pipe): the
    late stop is ignored, and the next video renders whole."""
    processes.render(
        _call(tmp_path / "one.mp4"), progress=lambda d, t: None, cancelled=lambda: False
    )
    (child,) = processes._idle
    child.conn.send(("stop", 1))  # the first render's stop, arriving after its end
    seen: list[int] = []
    result, _ = processes.render(
        _call(tmp_path / "two.mp4"), progress=lambda d, t: seen.append(d), cancelled=lambda: False
    )
    assert result.frames == 12
    assert seen == list(range(12))  # every frame's report but the last (held back, see below)
    assert probe(tmp_path / "two.mp4").frames == 12


def test_a_progress_report_that_fails_stops_the_child_at_once(
    processes: RenderProcesses, tmp_path: Path
) -> None:
    """The worker's progress write finds its lease lost: the child stops at its next frame
    (not at the end of the video), and the worker sees the lost lease."""
    frames: list[int] = []

    def progress(done: int, _total: int) -> None:
        frames.append(done)
        if done == 2:
            raise LeaseLostError("worker w no longer holds video v; stop without writing")

    with pytest.raises(LeaseLostError):
        processes.render(
            _call(tmp_path / "clip.mp4", seconds=4), progress=progress, cancelled=lambda: False
        )
    assert frames == [0, 1, 2]  # nothing relayed after the failure
    assert list(tmp_path.iterdir()) == []


def test_the_verdict_is_asked_for_with_the_last_frame_and_read_before_keeping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child asks for the worker's verdict as soon as the last frame is made and reads it
    only once the encoder, the previews and the signature are done: the round trip to the
    worker overlaps that work instead of coming before it. Played in this process, with the
    worker's end of the pipe logging what it gets and saying "go"."""
    happened: list[object] = []

    class WorkerEnd:
        def send(self, message: tuple[object, ...]) -> None:
            happened.append(message[:3] if message[0] == "progress" else message[:2])

        def poll(self) -> bool:
            return False

        def recv(self) -> tuple[str, int]:
            happened.append("verdict read")
            return ("go", 1)

    write_thumbnail = PreviewCollector.write_thumbnail

    def logged(self: PreviewCollector, path: Path) -> object:
        happened.append("thumbnail")
        return write_thumbnail(self, path)

    monkeypatch.setattr(PreviewCollector, "write_thumbnail", logged)
    out = tmp_path / "clip.mp4"
    answer = _render(WorkerEnd(), 1, _call(out))  # type: ignore[arg-type]
    assert answer[0] == "done"
    last = happened.index(("progress", 1, 12))
    assert happened[last + 1] == ("finishing", 1)
    assert happened.index("thumbnail") > last + 1
    assert happened[-1] == "verdict read"
    assert happened.count("verdict read") == 1
    assert probe(out).frames == 12


@pytest.mark.parametrize("finishing", ["quick", "slow"])
def test_the_last_frame_is_reported_only_when_the_child_is_slow_to_finish(
    processes: RenderProcesses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finishing: str
) -> None:
    """The last frame's report (the worker's "finalizing" write) waits LAST_REPORT_S for the
    result: a child that finishes first makes no write at all, one still finishing then is
    reported as finishing, once."""
    limit = {"quick": 60.0, "slow": 0.0}[finishing]
    monkeypatch.setattr(render_process, "LAST_REPORT_S", limit)
    seen: list[tuple[int, int]] = []
    result, _ = processes.render(
        _call(tmp_path / "clip.mp4"),
        progress=lambda done, total: seen.append((done, total)),
        cancelled=lambda: False,
    )
    assert result.frames == 12
    expected = [(done, 12) for done in range(12)]
    assert seen == (expected if finishing == "quick" else [*expected, (12, 12)])


@pytest.mark.parametrize("limit", [60.0, 0.0])
@pytest.mark.parametrize("how", ["cancel", "lease lost"])
def test_a_stop_seen_after_the_last_frame_but_not_reported_still_takes_it_back(
    processes: RenderProcesses,
    tmp_path: Path,
    how: str,
    limit: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the last frame's report held back, the worker still asks about the lease and
    cancels when it comes and before its verdict: a stop it sees then keeps nothing, and the
    held report is dropped (even when already due: nothing is finishing any more)."""
    monkeypatch.setattr(render_process, "LAST_REPORT_S", limit)
    seen: list[int] = []
    asked_since_last_report = [0]

    def progress(done: int, _total: int) -> None:
        seen.append(done)
        asked_since_last_report[0] = 0

    def cancelled() -> bool:
        asked_since_last_report[0] += 1
        # Asked once after the report of frame 11 (False), then after the last frame's
        # (held back) message and at the verdict: from then on, stop.
        late = seen[-1:] == [11] and asked_since_last_report[0] > 1
        if late and how == "lease lost":
            raise LeaseLostError("worker w no longer holds video v; stop without writing")
        return late

    expected = CancelledError if how == "cancel" else LeaseLostError
    with pytest.raises(expected):
        processes.render(_call(tmp_path / "clip.mp4"), progress=progress, cancelled=cancelled)
    assert seen == list(range(12))
    assert list(tmp_path.iterdir()) == []


class _BeatStore(JobStore):
    """Notes each heartbeat's progress and phase."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.beats: list[tuple[int | None, str | None]] = []

    def heartbeat(self, job_id: str, worker: str, **kwargs: Any) -> bool:
        self.beats.append((kwargs.get("progress"), kwargs.get("phase")))
        return super().heartbeat(job_id, worker, **kwargs)


def _made_through_the_service(
    processes: RenderProcesses, tmp_path: Path, request: VideoRequest
) -> tuple[JobStatus, int, list[tuple[int | None, str | None]]]:
    """Makes ``request`` through a job service whose renders go to ``processes``; returns the
    job's final status and progress and the heartbeats its worker wrote."""
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = _BeatStore(db)
    registry = BackendRegistry()
    registry.register("sketch", SketchBackend.models, SketchBackend)
    queue = EmbeddedQueue(store, workers=1, poll_interval=5.0)
    artifacts = ArtifactStore(tmp_path / "files")
    pace = PaceBook()
    service = VideoService(
        store=store,
        artifacts=artifacts,
        registry=registry,
        queue=queue,
        admission=Admission(),
        pace=pace,
    )
    worker = VideoWorker(
        store=store,
        artifacts=artifacts,
        registry=registry,
        encoder=EncoderSettings(),
        pace=pace,
        processes=processes,
    )
    queue.start(worker.run)
    try:
        job = service.submit(Principal(id="usr_kim", name="kim"), request)
        wait_for(lambda: store.get(job.id).status.is_final, timeout=60)
        done = store.get(job.id)
    finally:
        queue.stop(10)
        db.dispose()
    assert done.status is JobStatus.COMPLETED, done.error
    return done.status, done.progress, store.beats


def test_a_quick_video_is_completed_with_no_write_after_its_frames(
    processes: RenderProcesses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the job service: a short clip's child finishes before its last frame's report
    is due, so the worker writes nothing between the frames and the completion (no
    "finalizing" for a few milliseconds, no 99 %)."""
    monkeypatch.setattr(render_process, "LAST_REPORT_S", 60.0)
    request = VideoRequest(
        prompt="a kite over a beach", seconds=1, width=128, height=72, fps=12, seed=2
    )
    _, progress, beats = _made_through_the_service(processes, tmp_path, request)
    assert progress == 100
    assert beats, "no progress was written while rendering"
    assert all(phase == "rendering" for _, phase in beats), beats


def test_the_first_frame_of_a_long_video_is_shown_at_once(tmp_path: Path) -> None:
    """A child reports its first frame at once and then only at its pace; the worker shows
    that frame as 1 % even where 95 % of one frame in 240 rounds down to 0, so a client sees
    a sign of life with the first frame, not a pace later."""
    paced = RenderProcesses((SketchBackend,), report_every_s=60.0)  # nothing between
    try:
        request = VideoRequest(
            prompt="a kite over a beach", seconds=10, width=128, height=72, fps=24, seed=2
        )
        _, _, beats = _made_through_the_service(paced, tmp_path, request)
    finally:
        paced.close()
    assert (1, "rendering") in beats, beats
    assert [p for p, _ in beats if p] == sorted(p for p, _ in beats if p)  # never backwards


@pytest.mark.parametrize("every", [0.0, 0.02, 60.0])
def test_a_child_reports_its_first_frame_then_at_its_pace_and_always_its_last(
    tmp_path: Path, every: float
) -> None:
    """Each report wakes the worker (render_process.REPORT_EVERY_S): the child says its start
    and its first frame at once, then no more often than its pace, and always its last (which asks for the
    verdict). Played in this process, the worker's end logging each report and when."""
    reports: list[tuple[int, float]] = []

    class WorkerEnd:
        def send(self, message: tuple[object, ...]) -> None:
            if message[0] == "progress":
                done = message[2]
                assert isinstance(done, int)
                reports.append((done, time.monotonic()))

        def poll(self) -> bool:
            return False

        def recv(self) -> tuple[str, int]:
            return ("go", 1)

    answer = _render(WorkerEnd(), 1, _call(tmp_path / "clip.mp4", seconds=4), every)  # type: ignore[arg-type]
    assert answer[0] == "done"
    said = [done for done, _ in reports]
    assert said[0] == 0
    assert said[-1] == 48
    assert said == sorted(set(said))
    if every == 0:
        assert said == list(range(49))  # every frame
    elif every == 60:
        assert said == [0, 1, 48]  # the start, the first frame and the last only
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(reports[1:-1])]
    assert all(gap >= every for gap in gaps)  # from the first frame to before the last: paced
