"""kill -9 of a real ``openreel serve`` process mid-render, then a restart on the same folder.

docs/architecture.md ("The lease protocol"): a killed server loses nothing; on restart every
queued or interrupted job runs to completion, once, and progress never goes backwards for
clients.
Nothing here is faked: the server is a separate process, it is killed with SIGKILL while
its worker is encoding (so no ``finally`` block, atexit hook or shutdown handler runs), and
the restarted process finds the data folder exactly as the kernel left it.

The main scenario runs once per module (``crash_run``) and several tests check what it
recorded; the last test runs its own crash with two workers.
"""

from __future__ import annotations

import itertools
import json
import signal
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from openreel.domain import Job
from openreel.media.probe import probe
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, ServerLauncher

pytestmark = pytest.mark.slow

FPS = 24
SIZE = "960x540"  # about 1.5 s per 4-second clip on two cores: slow enough to catch mid-render
SECONDS = (4, 3, 4, 3, 4, 3)
POLL = 0.02
KILL_AT_PROGRESS = 50
"""Kill once a running job has reported at least this much (well inside its render)."""

Snapshot = dict[str, dict[str, Any]]
"""Video id -> the video object as GET /v1/videos returned it."""


class Watcher:
    """Polls ``GET /v1/videos`` and keeps every (status, progress) each job ever showed."""

    def __init__(self) -> None:
        self.history: dict[str, list[tuple[str, int]]] = defaultdict(list)

    def poll(self, client: httpx.Client) -> Snapshot:
        response = client.get("/videos", params={"limit": 100})
        assert response.status_code == 200, response.text
        snapshot = {video["id"]: video for video in response.json()["data"]}
        for video_id, video in snapshot.items():
            self.history[video_id].append((video["status"], video["progress"]))
        return snapshot


def _client(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _create(client: httpx.Client, seconds: int, prompt: str) -> str:
    response = client.post(
        "/videos", json={"prompt": prompt, "size": SIZE, "seconds": seconds, "fps": FPS}
    )
    assert response.status_code == 200, response.text
    video_id: str = response.json()["id"]
    return video_id


def _read_rows(data_dir: Path, ids: list[str]) -> dict[str, Job]:
    db = Database.for_data_dir(data_dir)
    try:
        store = JobStore(db)
        return {video_id: store.get(video_id) for video_id in ids}
    finally:
        db.dispose()


def _files(data_dir: Path) -> list[Path]:
    return sorted(path.relative_to(data_dir) for path in data_dir.rglob("*") if path.is_file())


def _wait_until_all_final(
    client: httpx.Client, watcher: Watcher, ids: list[str], timeout: float
) -> Snapshot:
    deadline = time.monotonic() + timeout
    while True:
        snapshot = watcher.poll(client)
        if all(snapshot[i]["status"] in ("completed", "failed") for i in ids):
            return snapshot
        if time.monotonic() > deadline:
            states = {i: (snapshot[i]["status"], snapshot[i]["progress"]) for i in ids}
            pytest.fail(f"jobs not finished after {timeout:g} s: {states}")
        time.sleep(POLL)


def _is_partial(path: Path) -> bool:
    return ".part" in path.name or path.name.endswith(".tmp")


@dataclass
class CrashRun:
    """What one kill -9 and restart looked like, from the outside and on disk."""

    data_dir: Path
    seconds: dict[str, int]
    history: dict[str, list[tuple[str, int]]]
    before_kill: Snapshot
    interrupted: str
    rows_after_kill: dict[str, Job]
    files_after_kill: list[Path]
    after_restart: Snapshot
    final: Snapshot
    rows_final: dict[str, Job]
    files_final: list[Path]
    restart_log: str


@pytest.fixture(scope="module")
def crash_run(
    server_launcher: ServerLauncher, tmp_path_factory: pytest.TempPathFactory
) -> CrashRun:
    data_dir = tmp_path_factory.mktemp("recovery")
    token = server_launcher.mint(data_dir, "alice")
    server = server_launcher.start(data_dir, workers=1, log_name="first.log")
    watcher = Watcher()
    with _client(server, token) as client:
        seconds = {
            _create(client, length, f"a lighthouse on a stormy coast, take {n}"): length
            for n, length in enumerate(SECONDS)
        }
        ids = list(seconds)
        deadline = time.monotonic() + 60
        while True:
            snapshot = watcher.poll(client)
            running = [
                i
                for i in ids
                if snapshot[i]["status"] == "in_progress"
                and snapshot[i]["progress"] >= KILL_AT_PROGRESS
            ]
            queued = [i for i in ids if snapshot[i]["status"] == "queued"]
            if running and len(queued) >= 2:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"never saw a job mid-render with others queued: {snapshot}")
            time.sleep(POLL)
        server_launcher.kill(server)
    assert server.process.returncode == -signal.SIGKILL
    rows_after_kill = _read_rows(data_dir, ids)
    files_after_kill = _files(data_dir)

    # Same folder, same port: what an operator (or systemd) does after a crash.
    port = int(server.url.rsplit(":", 1)[1])
    restarted = server_launcher.start(data_dir, workers=1, port=port, log_name="second.log")
    with _client(restarted, token) as client:
        after_restart = watcher.poll(client)
        final = _wait_until_all_final(client, watcher, ids, timeout=90)
    server_launcher.stop(restarted)
    return CrashRun(
        data_dir=data_dir,
        seconds=seconds,
        history=dict(watcher.history),
        before_kill=snapshot,
        interrupted=running[0],
        rows_after_kill=rows_after_kill,
        files_after_kill=files_after_kill,
        after_restart=after_restart,
        final=final,
        rows_final=_read_rows(data_dir, ids),
        files_final=_files(data_dir),
        restart_log=restarted.log.read_text(errors="replace"),
    )


def test_recovery_kill_keeps_rows_and_exposes_no_partial_video(crash_run: CrashRun) -> None:
    rows = crash_run.rows_after_kill
    assert set(rows) == set(crash_run.seconds), "a job row was lost in the crash"
    interrupted = rows[crash_run.interrupted]
    assert interrupted.status.value == "in_progress"
    assert interrupted.artifacts == {}
    assert interrupted.progress >= KILL_AT_PROGRESS
    assert sum(row.status.value == "queued" for row in rows.values()) >= 2
    artifacts = crash_run.data_dir / "artifacts"
    for video_id, row in rows.items():
        job_files = [p for p in crash_run.files_after_kill if video_id in p.parts]
        finals = {p.name for p in job_files if not p.name.startswith(".")}
        if row.status.value == "completed":
            assert {"video.mp4", "thumbnail.webp", "spritesheet.jpg"} <= finals
            assert probe(artifacts / row.artifacts["video"]).frames == (
                crash_run.seconds[video_id] * FPS
            )
        else:
            # Whatever the dead worker was writing is hidden and marked partial, never final.
            assert finals == set(), f"{video_id} ({row.status.value}) has files {finals}"
            assert all(_is_partial(p) for p in job_files), job_files
    # The premise, the kill landed mid-render, is the interrupted row above (in_progress, past
    # KILL_AT_PROGRESS). Its hidden partial file may or may not be left: the render process
    # removes its own when it finds its server gone, at its next frame.


def test_recovery_completes_every_job_exactly_once(crash_run: CrashRun) -> None:
    final = crash_run.final
    assert set(final) == set(crash_run.seconds), "jobs were lost or appeared from nowhere"
    for video_id, length in crash_run.seconds.items():
        video, row = final[video_id], crash_run.rows_final[video_id]
        assert (video["status"], video["progress"], video["error"]) == ("completed", 100, None)
        assert row.artifacts["video"] == f"jobs/{video_id}/video.mp4"
        videos = [
            p
            for p in crash_run.files_final
            if p.name.endswith(".mp4") and video_id in p.parts and not _is_partial(p)
        ]
        assert videos == [Path("artifacts", "jobs", video_id, "video.mp4")], videos
        info = probe(crash_run.data_dir / videos[0])
        assert (info.codec, info.width, info.height) == ("h264", 960, 540)
        assert info.frames == length * FPS
    assert "Traceback" not in crash_run.restart_log, crash_run.restart_log


def test_recovery_retries_only_the_interrupted_job(crash_run: CrashRun) -> None:
    attempts = {video_id: row.attempts for video_id, row in crash_run.rows_final.items()}
    assert attempts.pop(crash_run.interrupted) == 2
    assert set(attempts.values()) == {1}, attempts


def test_recovery_progress_never_decreases_for_any_job(crash_run: CrashRun) -> None:
    for video_id, seen in crash_run.history.items():
        progress = [value for _, value in seen]
        drops = [(a, b) for a, b in itertools.pairwise(progress) if b < a]
        assert drops == [], f"{video_id} went back: {seen}"
    interrupted = crash_run.interrupted
    assert (
        crash_run.after_restart[interrupted]["progress"]
        >= crash_run.before_kill[interrupted]["progress"]
    )


def test_recovery_leaves_no_partial_files_behind(crash_run: CrashRun) -> None:
    strays = [p for p in crash_run.files_final if _is_partial(p)]
    assert strays == [], f"partial files left after every job completed: {strays}"


def test_recovery_progress_after_restart_not_below_what_clients_saw(
    server_launcher: ServerLauncher, tmp_path: Path
) -> None:
    token = server_launcher.mint(tmp_path, "bob")
    server = server_launcher.start(tmp_path, workers=2, log_name="first.log")
    watcher = Watcher()
    with _client(server, token) as client:
        # Long enough that the rerun, which starts before the restarted server answers HTTP,
        # is still below the progress seen before the crash when clients first look again.
        ids = [_create(client, 8, f"a balloon over the countryside, take {n}") for n in range(2)]
        deadline = time.monotonic() + 60
        while True:
            snapshot = watcher.poll(client)
            if all(snapshot[i]["progress"] >= KILL_AT_PROGRESS for i in ids):
                break
            assert time.monotonic() < deadline, f"renders never got far: {snapshot}"
            time.sleep(POLL)
        server_launcher.kill(server)
    seen_before = {i: max(p for _, p in watcher.history[i]) for i in ids}
    assert all(value < 100 for value in seen_before.values()), seen_before

    restarted = server_launcher.start(tmp_path, workers=2, log_name="second.log")
    with _client(restarted, token) as client:
        first = watcher.poll(client)
        events = client.get(f"/videos/{ids[0]}/events", headers={"Accept": "text/event-stream"})
        final = _wait_until_all_final(client, watcher, ids, timeout=90)
    server_launcher.stop(restarted)

    for video_id in ids:
        assert first[video_id]["progress"] >= seen_before[video_id], (first, seen_before)
        history = [p for _, p in watcher.history[video_id]]
        assert history == sorted(history), f"{video_id} went back: {watcher.history[video_id]}"
        assert (final[video_id]["status"], final[video_id]["progress"]) == ("completed", 100)
    # Browsers follow Server-Sent Events instead of polling: their snapshot must agree.
    assert events.status_code == 200, events.text
    streamed = [
        json.loads(line.removeprefix("data:"))["progress"]
        for line in events.text.splitlines()
        if line.startswith("data:")
    ]
    assert streamed, events.text
    assert streamed[0] >= seen_before[ids[0]], (streamed, seen_before)
    assert streamed == sorted(streamed), streamed
    rows = _read_rows(tmp_path, ids)
    assert [rows[i].attempts for i in ids] == [2, 2]
