"""Benchmark: jobs a minute with 1, 2 and 4 ``openreel worker`` processes, and what dispatch costs.

The deployment of docs/deploy.md on one machine: PostgreSQL and redis-server (Debian's, started
here on free ports, as the tests do), one ``openreel serve`` with ``OPENREEL_QUEUE=celery`` and
no workers of its own, and N ``openreel worker --models openreel-sketch`` processes (prefork,
one job at a time each). Every video is a 2-second 640x360 sketch clip with the server's
defaults (label, C2PA signature, previews, fingerprints).

Prints one JSON object with, for each N:

- ``jobs_per_minute``: 100 jobs posted at once through the API, from the first ``created_at``
  to the last ``completed_at`` (read from the jobs table);
- ``queue_to_start_ms`` p50 / p99: ``started_at - created_at`` of each job, which with a
  backlog is mostly waiting for a free worker;
- ``machine_busy``: the share of all cores in use meanwhile (API, PostgreSQL, Redis and
  workers), and ``cpu_s_per_job``: CPU seconds the whole deployment spent per job; flat as N
  grows means adding workers adds no coordination cost, so throughput grows with the cores
  the workers can use;
- ``speedup`` against N = 1, and ``baseline_jobs_per_minute``: the same jobs rendered one
  after another by ``render_video`` in one process, nothing else (the ceiling of one worker).

and, on its own, ``dispatch_ms`` p50 / p99: ``started_at - created_at`` for jobs posted one at a
time to an idle worker: the API's send to Redis, the worker's receive and its claim of the row
(the first job after start, which also pays one-time set-up, is reported apart).
Goal: under 50 ms; jobs a minute near-linear in N up to the machine's cores.

With ``--pin`` each worker process is held to one core (worker i on core i mod the count), the
way each GPU worker has a device of its own: one job's render, encoder and x264 threads then
share their core instead of spreading over all of them, so the scaling with workers shows
directly; the API server, PostgreSQL and Redis still run wherever the system puts them.

Run: ``.venv/bin/python benchmarks/scale.py [--jobs 100] [--workers 1,2,4] [--dispatch 30] [--pin]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import free_port, mint, start_server  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

MODEL = "openreel-sketch"
BODY = {"model": MODEL, "prompt": "a lighthouse on a stormy coast at dusk", "seconds": 2}
BODY |= {"size": "640x360", "fps": 24}


def _env(data_dir: Path, database_url: str, broker: str) -> dict[str, str]:
    return os.environ | {
        "OPENREEL_DATA_DIR": str(data_dir),
        "OPENREEL_DATABASE_URL": database_url,
        "OPENREEL_QUEUE": "celery",
        "OPENREEL_CELERY__BROKER_URL": broker,
        "OPENREEL_RATE_REQUESTS_PER_MINUTE": "0",
        "OPENREEL_RATE_CREATES_PER_MINUTE": "0",
        "OPENREEL_QUOTA__SECONDS": "0",
        "OPENREEL_QUOTA__VIDEOS": "0",
        # Admission is not what is measured here; the model costs the API ~10 s of CPU.
        "OPENREEL_MODERATION__SEMANTIC": "off",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def _workers(count: int, env: dict[str, str], logs: Path, *, pin: bool = False) -> Iterator[None]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(count):
            log = logs / f"worker-{count}-{index}.log"
            command = ["worker", "--models", MODEL, "--name", f"w{index}@%h"]
            # Pinned through taskset, so the worker and every thread and child it starts
            # inherit the one core from their first instruction.
            core = ["taskset", "--cpu-list", str(index % (os.cpu_count() or 1))] if pin else []
            with log.open("ab") as handle:
                procs.append(
                    subprocess.Popen(
                        [*core, sys.executable, "-m", "openreel", *command],
                        env=env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        for index, proc in enumerate(procs):
            log = logs / f"worker-{count}-{index}.log"
            deadline = time.monotonic() + 120
            while "ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start: {log.read_text()}")
                time.sleep(0.1)
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _rows(database_url: str, ids: list[str]) -> list[Any]:
    from openreel.storage.db import Database
    from openreel.storage.jobs import JobStore

    db = Database(database_url)
    try:
        store = JobStore(db)
        return [store.get(video_id) for video_id in ids]
    finally:
        db.dispose()


def _wait_all(client: httpx.Client, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} jobs did not finish in {timeout:.0f} s")
        for video_id in list(pending):
            video = client.get(f"/videos/{video_id}").json()
            if video["status"] == "failed":
                raise RuntimeError(f"job failed: {video}")
            if video["status"] == "completed":
                pending.discard(video_id)
        time.sleep(0.5)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 1), "p99": round(p99, 1)}


def _throughput(client: httpx.Client, database_url: str, jobs: int) -> dict[str, Any]:
    before = psutil.cpu_times()
    ids = []
    for _ in range(jobs):
        response = client.post("/videos", json=BODY)
        response.raise_for_status()
        ids.append(response.json()["id"])
    _wait_all(client, ids, timeout=60 + jobs * 10)
    after = psutil.cpu_times()
    rows = _rows(database_url, ids)
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    total = sum(after) - sum(before)
    busy_core_s = total - idle  # system-wide times add up every core's
    first = min(r.created_at for r in rows)
    last = max(r.completed_at for r in rows)
    waits = [(r.started_at - r.created_at) * 1000 for r in rows]
    return {
        "jobs": jobs,
        "wall_s": round(last - first, 2),
        "jobs_per_minute": round(jobs / (last - first) * 60, 1),
        "queue_to_start_ms": _quantiles(waits),
        "attempts_above_1": sum(r.attempts > 1 for r in rows),
        # The whole machine while the jobs ran (API, PostgreSQL, Redis and workers): how much
        # of its cores was used, and the CPU one job cost overall.
        "machine_busy": round(1 - idle / total, 2),
        "cpu_s_per_job": round(busy_core_s / jobs, 3),
    }


def _dispatch(client: httpx.Client, database_url: str, count: int) -> dict[str, Any]:
    ids = []
    for _ in range(count):
        response = client.post("/videos", json=BODY)
        response.raise_for_status()
        ids.append(response.json()["id"])
        _wait_all(client, ids[-1:], timeout=120)
        time.sleep(0.2)  # the worker is idle again, waiting on Redis
    rows = _rows(database_url, ids)
    waits = [(r.started_at - r.created_at) * 1000 for r in rows]
    # The first job after start also pays one-time set-up (the API's first publish to the
    # queue, the worker's first message and statements); it is reported on its own.
    return {"first": round(waits[0], 1)} | _quantiles(waits[1:]) | {"max": round(max(waits[1:]), 1)}


def _baseline(jobs: int, scratch: Path) -> float:
    """Jobs a minute rendering the same videos one after another in this process."""
    from openreel.config import Settings
    from openreel.domain import VideoRequest
    from openreel.runtime import Runtime
    from openreel.services.generation import PreviewPaths, render_video

    settings = Settings(data_dir=scratch / "baseline")
    runtime = Runtime.from_settings(settings)
    backend = runtime.registry.for_model(MODEL)
    request = VideoRequest(
        prompt=str(BODY["prompt"]), model=MODEL, seconds=2, width=640, height=360, fps=24
    )
    started = time.perf_counter()
    for index in range(jobs):
        out = scratch / f"baseline-{index}.mp4"
        render_video(
            backend,
            request,
            out,
            encoder=runtime.encoder,
            previews=PreviewPaths.beside(out),
            label=runtime.label,
            provenance=runtime.provenance,
        )
    return jobs / (time.perf_counter() - started) * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--dispatch", type=int, default=30, help="jobs for dispatch_ms")
    parser.add_argument("--baseline-jobs", type=int, default=30)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="give worker i core i (mod the core count), as one worker per GPU gets its device",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    scratch = Path(tempfile.mkdtemp(prefix="openreel-scale-"))
    pg_root = Path(tempfile.mkdtemp(prefix="openreel-scale-pg-"))
    postgres = PostgresServer(pg_root)
    redis_server = RedisServer(scratch)
    result: dict[str, Any] = {
        "benchmark": "scale",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "video": "2 s 640x360 24 fps sketch, label + C2PA + previews",
        "pinned": args.pin,
    }
    try:
        postgres.start()
        redis_server.start()
        result["baseline_jobs_per_minute"] = round(_baseline(args.baseline_jobs, scratch), 1)
        runs: dict[str, Any] = {}
        for count in counts:
            database_url = postgres.database()
            data_dir = scratch / f"data-{count}"
            env = _env(data_dir, database_url, f"{redis_server.url}/{count % 16}")
            token = mint(data_dir, "bench", env=env)
            port = free_port()
            api = start_server(data_dir, port, scratch / f"api-{count}.log", env=env)
            try:
                with (
                    _workers(count, env, scratch, pin=args.pin),
                    httpx.Client(
                        base_url=f"http://127.0.0.1:{port}/v1",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=30,
                    ) as client,
                ):
                    if count == counts[0]:
                        result["dispatch_ms"] = _dispatch(client, database_url, args.dispatch)
                    runs[str(count)] = _throughput(client, database_url, args.jobs)
                    print(json.dumps({count: runs[str(count)]}), file=sys.stderr, flush=True)
            finally:
                api.terminate()
                api.wait(timeout=30)
        one = runs[str(counts[0])]["jobs_per_minute"]
        for run in runs.values():
            run["speedup"] = round(run["jobs_per_minute"] / one, 2)
        result["workers"] = runs
    finally:
        redis_server.stop()
        try:
            postgres.stop()
        finally:
            shutil.rmtree(pg_root, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
