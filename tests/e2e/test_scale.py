"""Several processes on one PostgreSQL, one Redis and one bucket: an API server and workers.

docs/operations.md ("Scale: Celery and PostgreSQL"): API servers and worker processes share
PostgreSQL and an S3-compatible bucket, and Celery on Redis carries each job's id to the queue
of its model.
Everything here is a real process on loopback, laid out as docs/deploy.md describes:
``openreel serve`` with ``OPENREEL_QUEUE=celery`` (no workers of its own), a worker for the
sketch engine and a worker for the tiny LTX model (built offline by the session's
``tiny_catalogue``), each with a data folder of its own as if on another machine (they share
only the signing chain), and the session's redis-server, PostgreSQL cluster and moto S3
server. Nothing serves the tiny Wan model, so its job must stay queued: jobs go only where
they belong.

The crash case kills a whole worker (its Celery parent and pool child) with SIGKILL mid-render:
its message stays unacknowledged in Redis, the restarted worker's sweep hands it back after
the (short, for the test) visibility timeout, and the job finishes on its second attempt,
charged once against the owner's quota, with no half-written file ever served.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil
import pytest
from tests.support.live_server import free_port, mint, server_env, start_server
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.tiny_diffusers import TINY_LTX, TINY_WAN

from openreel.media.certs import SIGNER_CHAIN_FILE, SIGNER_KEY_FILE
from openreel.media.probe import probe
from openreel.runtime import KEYS_DIR
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer
    from tests.support.redis_server import RedisServer
    from tests.support.s3 import S3Server

pytestmark = pytest.mark.slow

SKETCH = "openreel-sketch"
LEASE_SECONDS = 3
VISIBILITY_TIMEOUT = 12
QUOTA_SECONDS = 100


@dataclass
class Cluster:
    """The processes of one deployment and what a test needs to drive them."""

    root: Path
    env: dict[str, str]
    database_url: str
    api: subprocess.Popen[bytes]
    url: str
    token: str
    s3: S3Server
    bucket: str
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def data_dir(self, name: str) -> Path:
        """The worker's own data folder (another machine's, in a real deployment)."""
        return self.root / f"worker-{name}"

    def start_worker(self, name: str, *models: str) -> subprocess.Popen[bytes]:
        """Starts ``openreel worker --models ...`` in a session of its own; waits until ready."""
        log = self.root / f"worker-{name}.log"
        keys = self.root / "data" / KEYS_DIR
        env = self.env | {
            "OPENREEL_DATA_DIR": str(self.data_dir(name)),
            # The one signing chain of the deployment, so the API trusts what workers sign.
            "OPENREEL_PROVENANCE__CHAIN": str(keys / SIGNER_CHAIN_FILE),
            "OPENREEL_PROVENANCE__KEY": str(keys / SIGNER_KEY_FILE),
        }
        with log.open("ab") as handle:
            command = ["worker", "--models", ",".join(models), "--name", f"{name}@%h"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "openreel", *command],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so SIGKILL can take the parent and its pool child
            )
        self.started.append(proc)
        self.workers[name] = proc
        deadline = time.monotonic() + 90
        marker = f"{name}@"
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"worker {name} exited: {log.read_text()}"
            text = log.read_text(errors="replace")
            if any(marker in line and "ready." in line for line in text.splitlines()):
                return proc
            time.sleep(0.2)
        raise AssertionError(f"worker {name} did not become ready: {log.read_text()}")

    def kill_worker(self, name: str) -> None:
        """SIGKILL to the worker's whole process group: no clean-up of any kind runs."""
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def pids(self, name: str) -> set[int]:
        """The worker's parent and pool children."""
        parent = psutil.Process(self.workers[name].pid)
        return {parent.pid} | {child.pid for child in parent.children(recursive=True)}

    def row(self, video_id: str) -> Any:
        db = Database(self.database_url)
        try:
            return JobStore(db).get(video_id)
        finally:
            db.dispose()

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is not None:
                continue
            if proc is self.api:
                proc.kill()
            else:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresServer,
    redis_server: RedisServer,
    s3_server: S3Server,
    tiny_catalogue: Path,
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scale")
    database_url = postgres.database()
    bucket = s3_server.bucket()
    env = server_env(root / "data") | {
        "OPENREEL_STORAGE__BUCKET": bucket,
        "OPENREEL_STORAGE__ENDPOINT_URL": s3_server.endpoint,
        "OPENREEL_STORAGE__REGION": REGION,
        "OPENREEL_STORAGE__ACCESS_KEY_ID": ACCESS_KEY,
        "OPENREEL_STORAGE__SECRET_ACCESS_KEY": SECRET_KEY,
        "OPENREEL_DATABASE_URL": database_url,
        "OPENREEL_QUEUE": "celery",
        "OPENREEL_CELERY__BROKER_URL": redis_server.url + "/1",
        "OPENREEL_CELERY__QUEUE_PREFIX": f"scale{os.getpid()}",
        "OPENREEL_CELERY__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "OPENREEL_CELERY__RESTORE_INTERVAL": "1",
        "OPENREEL_LEASE_SECONDS": str(LEASE_SECONDS),
        "OPENREEL_CELERY__PAUSED_RETRY_SECONDS": "1",
        "OPENREEL_QUOTA__SECONDS": str(QUOTA_SECONDS),
        "OPENREEL_LOCAL__CATALOGUE": str(tiny_catalogue),
        "OPENREEL_LOCAL__DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # tiny models on a shared 2-core machine
    }
    token = mint(root / "data", "alice", env=env)
    port = free_port()
    api = start_server(root / "data", port, root / "api.log", env=env)
    cluster = Cluster(
        root, env, database_url, api, f"http://127.0.0.1:{port}", token, s3_server, bucket
    )
    cluster.started.append(api)
    try:
        cluster.start_worker("sketch", SKETCH)
        cluster.start_worker("ltx", TINY_LTX)
        yield cluster
    finally:
        cluster.close()


def _create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/videos", json={"prompt": "a lighthouse at dusk", **body})
    assert response.status_code == 200, response.text
    video: dict[str, Any] = response.json()
    return video


def _wait(
    client: httpx.Client,
    video_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 120,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        if done(video):
            return video
        assert time.monotonic() < deadline, f"timed out; last seen {video}"
        time.sleep(0.1)


def _ended(video: dict[str, Any]) -> bool:
    return video["status"] in ("completed", "failed")


def test_scale_jobs_run_on_the_worker_of_their_model(cluster: Cluster) -> None:
    with cluster.client() as client:
        stray = _create(client, model=TINY_WAN, size="64x64", seconds=1, fps=8)
        sketch = _create(client, model=SKETCH, size="320x180", seconds=1, fps=12)
        ltx = _create(client, model=TINY_LTX, size="64x64", seconds=1, fps=8)
        sketch_done = _wait(client, sketch["id"], _ended)
        ltx_done = _wait(client, ltx["id"], _ended)
        assert sketch_done["status"] == "completed", sketch_done
        assert ltx_done["status"] == "completed", ltx_done
        for video in (sketch_done, ltx_done):
            got = client.get(f"/videos/{video['id']}/content")
            assert got.status_code == 200
            assert got.content[4:8] == b"ftyp"
            # Signed on a worker with the deployment's chain: the API trusts it.
            report = client.post(
                "/provenance/verify", files={"file": ("clip.mp4", got.content, "video/mp4")}
            ).json()
            assert report["status"] == "Trusted", report
            assert report["model"] == video["model"]
        # Nothing serves tiny-wan here: its job waits in its own queue for a worker.
        assert client.get(f"/videos/{stray['id']}").json()["status"] == "queued"

    sketch_worker = cluster.row(sketch["id"]).worker
    ltx_worker = cluster.row(ltx["id"]).worker
    assert int(sketch_worker.split("-")[-1].split("/")[0]) in cluster.pids("sketch")
    assert int(ltx_worker.split("-")[-1].split("/")[0]) in cluster.pids("ltx")


def test_scale_cancel_reaches_a_job_running_in_another_process(cluster: Cluster) -> None:
    with cluster.client() as client:
        video = _create(client, model=SKETCH, size="1280x720", seconds=10, fps=24)
        _wait(client, video["id"], lambda v: v["status"] == "in_progress" and v["progress"] > 0)
        asked = time.monotonic()
        response = client.post(f"/videos/{video['id']}/cancel")
        assert response.status_code == 200, response.text
        ended = _wait(client, video["id"], _ended, timeout=30)
        took = time.monotonic() - asked
        assert ended["status"] == "failed"
        assert ended["error"]["code"] == "cancelled"
        assert took < 10, f"the cancel took {took:.1f} s to reach the worker"
        assert client.get(f"/videos/{video['id']}/content").status_code == 409
        # The worker is free again for the next job.
        after = _create(client, model=SKETCH, size="320x180", seconds=1, fps=12)
        assert _wait(client, after["id"], _ended)["status"] == "completed"


def test_scale_a_killed_worker_s_job_finishes_once_after_restart(cluster: Cluster) -> None:
    with cluster.client() as client:
        used_before = client.get("/usage").json()["seconds_used"]
        video = _create(client, model=SKETCH, size="1280x720", seconds=8, fps=24)
        running = _wait(
            client, video["id"], lambda v: v["status"] == "in_progress" and v["progress"] >= 10
        )
        cluster.kill_worker("sketch")
        killed_at = running["progress"]
        # Nothing half-made is served while nobody works on it.
        assert client.get(f"/videos/{video['id']}/content").status_code == 409

        cluster.start_worker("sketch", SKETCH)
        done = _wait(client, video["id"], _ended, timeout=180)

        assert done["status"] == "completed", done
        assert done["progress"] == 100
        row = cluster.row(video["id"])
        assert row.attempts == 2, row
        assert int(row.worker.split("-")[-1].split("/")[0]) in cluster.pids("sketch")
        got = client.get(f"/videos/{video['id']}/content")
        assert got.status_code == 200
        downloaded = cluster.root / "downloaded.mp4"
        downloaded.write_bytes(got.content)
        assert probe(downloaded).frames == 8 * 24
        prefix = f"jobs/{video['id']}/"
        assert sorted(k for k in cluster.s3.keys(cluster.bucket) if k.startswith(prefix)) == [
            prefix + "spritesheet.jpg",
            prefix + "thumbnail.webp",
            prefix + "video.mp4",
        ]  # the bucket holds the finished files and nothing half-made
        # The worker's own folder keeps nothing: no temporary file of the killed render.
        local = cluster.data_dir("sketch") / "artifacts" / "jobs" / video["id"]
        assert not local.exists() or list(local.iterdir()) == []
        used_after = client.get("/usage").json()["seconds_used"]
        assert used_after - used_before == pytest.approx(8), "charged once, not per attempt"
        assert killed_at >= 10


def _cli(cluster: Cluster, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openreel", *args],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_scale_a_paused_model_s_job_waits_then_runs_when_resumed(cluster: Cluster) -> None:
    with cluster.client() as client:
        # Long enough to outlast the pause command's start-up: it is cancelled anyway.
        busy = _create(client, model=SKETCH, size="1920x1080", seconds=20, fps=24)
        _wait(client, busy["id"], lambda v: v["status"] == "in_progress")
        held = _create(client, model=SKETCH, size="320x180", seconds=1, fps=12)
        _cli(cluster, "pause", "--model", SKETCH, "--reason", "scale test")
        try:
            # Frees the worker for the held job's message.
            assert client.post(f"/videos/{busy['id']}/cancel").status_code == 200
            cancelled = _wait(client, busy["id"], _ended, timeout=30)
            assert cancelled["error"]["code"] == "cancelled"
            time.sleep(3)  # the worker has taken the held job's message and put it back
            assert client.get(f"/videos/{held['id']}").json()["status"] == "queued"
        finally:
            _cli(cluster, "resume", "--model", SKETCH)
        done = _wait(client, held["id"], _ended, timeout=60)
        assert done["status"] == "completed", done
    log = (cluster.root / "worker-sketch.log").read_text()
    assert f"job {held['id']}: paused" in log
