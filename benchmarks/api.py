"""Benchmark: what the HTTP API costs, each figure beside a baseline measured in the same run.

Prints one JSON object with:

(a) ``GET /v1/videos/{id}`` on a real ``openreel serve`` process (token check and job read from
    SQLite, pydantic wire model, our middleware) against a bare FastAPI endpoint returning the
    very same JSON, served by the same kind of process (uvicorn, one process, log level
    warning). Each side gets a warm-up, then a fixed number of requests over a few keep-alive
    connections; rounds alternate between the two servers and the medians are reported.
    Goal: ours / bare throughput >= 0.5.
(b) Create-to-first-progress on an idle server: ``POST /v1/videos``, then poll
    ``GET /v1/videos/{id}`` until the job is claimed (``in_progress``) and until its progress
    is above 0 (first frame rendered); small videos, each awaited before the next.
    Goal: p50 <= 100 ms.
(c) A 1-second 640x360 sketch video through the whole API (create, poll until completed,
    download the MP4; again following ``/events`` instead of polling; and once more with the
    official ``openai`` SDK's ``create_and_poll`` and ``download_content``, which poll at the
    pace the server's ``openai-poll-after-ms`` asks) against the same
    work in-process: ``render_video`` with the sketch
    backend, the server's default encoder settings and the same previews the worker writes.
    Medians; the four kinds take turns (each comes first in turn) and each starts after the
    same 50 ms pause. Goal: API / direct <= 1.15.

Polling uses a 20 ms interval, so figures that end on a poll carry up to 20 ms of it.

The load client is a minimal asyncio HTTP/1.1 keep-alive client, not httpx: on a 2-core machine
the client shares the cores with the server, and httpx spends about as long per request as
the bare endpoint does, which would squeeze both throughputs toward the client's own limit.

Run: ``.venv/bin/python benchmarks/api.py [--requests 2000] [--connections 4] [--only retrieve]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

PROMPT = "a lighthouse on a stormy coast at dusk"  # as benchmarks/baseline.py's
SEED = 7
POLL_S = 0.02
PAUSE_S = 0.05
HOST = "127.0.0.1"


# ---- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not come up:\n{log.read_text()}")


@contextmanager
def _process(command: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[None]:
    with log.open("ab") as handle:
        proc = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, url, log)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve_bare(port: int, body_file: Path, mode: str) -> None:
    """The baseline: FastAPI, one route with the same path, returning a fixed JSON object.

    ``sync`` declares it ``def`` like our route (FastAPI runs it on its thread pool);
    ``async`` declares it ``async def`` (runs on the event loop: the framework's floor).
    """
    import uvicorn
    from fastapi import FastAPI

    body: dict[str, Any] = json.loads(body_file.read_text())
    app = FastAPI()

    if mode == "async":

        @app.get("/v1/videos/{video_id}")
        async def retrieve_async(video_id: str) -> dict[str, Any]:
            del video_id
            return body

    else:

        @app.get("/v1/videos/{video_id}")
        def retrieve(video_id: str) -> dict[str, Any]:
            del video_id
            return body

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host=HOST, port=port, log_level="warning")


# ---- load client ------------------------------------------------------------------------------

_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


async def _connection(port: int, request: bytes, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            if not head.startswith(b"HTTP/1.1 200") or match is None:
                raise RuntimeError(f"unexpected response: {head[:200]!r}")
            await reader.readexactly(int(match.group(1)))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
        await writer.wait_closed()


async def _load(port: int, request: bytes, total: int, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    share = [total // connections + (i < total % connections) for i in range(connections)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, request, n, latencies) for n in share))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": total / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def _request(path: str, token: str | None, body: dict[str, Any] | None = None) -> bytes:
    method = "GET" if body is None else "POST"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Accept: application/json"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    payload = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def _median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 2) for key in rounds[0]}


# ---- helpers over the API ---------------------------------------------------------------------


def _poll(client: httpx.Client, video_id: str, until: str) -> dict[str, Any]:
    while True:
        video: dict[str, Any] = client.get(f"/v1/videos/{video_id}").json()
        if video["status"] == "failed":
            raise RuntimeError(f"video failed: {video['error']}")
        if video["status"] == until:
            return video
        time.sleep(POLL_S)


def _follow(client: httpx.Client, video_id: str) -> None:
    """Follows ``/events`` until the stream ends; the last event must be ``completed``."""
    last = ""
    with client.stream("GET", f"/v1/videos/{video_id}/events") as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event:"):
                last = line.partition(":")[2].strip()
    if last != "completed":
        raise RuntimeError(f"{video_id}: the event stream ended with {last!r}")


def _create(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/v1/videos", json={"prompt": PROMPT, "seed": SEED, **fields})
    response.raise_for_status()
    video_id: str = response.json()["id"]
    return video_id


# ---- the three figures ------------------------------------------------------------------------


def bench_retrieve(
    ours_port: int, token: str, video_id: str, folder: Path, *, total: int, connections: int
) -> dict[str, Any]:
    """(a) Throughput and latency of GET /v1/videos/{id}, ours against a bare endpoint."""
    body = httpx.get(
        f"http://{HOST}:{ours_port}/v1/videos/{video_id}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    body_file = folder / "video.json"
    body_file.write_text(json.dumps(body))
    path = f"/v1/videos/{video_id}"
    ours_request, bare_request = _request(path, token), _request(path, None)
    sync_port, async_port = _free_port(), _free_port()
    rounds: dict[str, list[dict[str, float]]] = {"ours": [], "sync": [], "async": []}
    targets = {
        "ours": (ours_port, ours_request),
        "sync": (sync_port, bare_request),
        "async": (async_port, bare_request),
    }
    with ExitStack() as stack:
        for mode, port in (("sync", sync_port), ("async", async_port)):
            command = [sys.executable, __file__, "--serve-bare", str(port), str(body_file), mode]
            url = f"http://{HOST}:{port}"
            stack.enter_context(_process(command, dict(os.environ), url, folder / f"{mode}.log"))
        for port, request in targets.values():
            asyncio.run(_load(port, request, max(200, total // 10), connections))  # warm-up
        for _ in range(3):  # interleaved, so drift on a shared machine hits all three alike
            for name, (port, request) in targets.items():
                rounds[name].append(asyncio.run(_load(port, request, total, connections)))
    ours, bare, floor = (_median_of(rounds[name]) for name in ("ours", "sync", "async"))
    return {
        "requests_per_round": total,
        "connections": connections,
        "rounds": 3,
        "ours": ours,
        "bare_fastapi": bare,
        "throughput_ratio": round(ours["rps"] / bare["rps"], 2),
        "goal_throughput_ratio": ">= 0.5",
        "bare_fastapi_async_def": floor,
    }


def bench_first_progress(client: httpx.Client, samples: int) -> dict[str, Any]:
    """(b) From POST to claimed and to progress > 0, on an idle server (tiny videos)."""
    claimed, progressed = [], []
    for _ in range(samples):
        started = time.perf_counter()
        video_id = _create(client, size="160x96", seconds=1)
        seen_claim = None
        while True:
            video = client.get(f"/v1/videos/{video_id}").json()
            now = time.perf_counter() - started
            if seen_claim is None and video["status"] != "queued":
                seen_claim = now
            if video["progress"] > 0:
                break
            time.sleep(POLL_S)
        claimed.append(1000 * (seen_claim if seen_claim is not None else now))
        progressed.append(1000 * now)
        _poll(client, video_id, "completed")  # idle again before the next sample
    return {
        "samples": samples,
        "to_in_progress_p50_ms": round(statistics.median(claimed), 1),
        "to_in_progress_max_ms": round(max(claimed), 1),
        "to_progress_above_0_p50_ms": round(statistics.median(progressed), 1),
        "to_progress_above_0_max_ms": round(max(progressed), 1),
        "goal_p50_ms": "<= 100",
    }


def bench_whole_path(
    client: httpx.Client, data_dir: Path, folder: Path, runs: int
) -> dict[str, Any]:
    """(c) A 1-second 640x360 video through the API against render_video in-process.

    The job rows (read from the server's database) split the API time into the wait before a
    worker claimed the job and the worker's own time from claim to completion; the client adds
    the POST's latency, the time from the row's completion to the client seeing it (polling
    or ``/events``) and the download. The POST overlaps the claim and the render's start.
    """
    import baseline
    from openreel.config import Settings
    from openreel.runtime import Runtime
    from openreel.storage.db import Database
    from openreel.storage.jobs import JobStore

    # The baseline makes the same video the server makes: default encoder, the visible label,
    # C2PA signing (with a key of its own, same algorithm) and the per-second fingerprints
    # and file hash of the content registry. What is left over is the API path itself.
    runtime = Runtime.from_settings(Settings(data_dir=folder / "direct-data"))
    encoder = runtime.encoder
    request = baseline.request()
    api: list[float] = []
    followed: list[float] = []
    direct: list[float] = []
    ids: list[str] = []
    # Where the API time goes, per run of each kind: the POST's own latency, the moment the
    # client saw the video completed (wall clock, to set against the job row's completed_at)
    # and the download.
    posts: list[float] = []
    seen: dict[str, float] = {}
    downloads: list[float] = []
    # Warm-up, not timed: the server's first create waits for the moderation model it loads
    # at start, and each side's first render pays for imports and the signer's first use.
    _poll(client, _create(client, size="640x360", seconds=1), "completed")
    from openai import OpenAI

    # The SDK warns that OpenAI's own video service is retired; OpenReel speaks its API.
    warnings.filterwarnings("ignore", message="The Sora API", category=DeprecationWarning)
    token = client.headers["Authorization"].removeprefix("Bearer ")
    sdk = OpenAI(base_url=f"{client.base_url}/v1", api_key=token, max_retries=0)
    sdk_runs: list[float] = []
    baseline.render(runtime, request, folder / "warm.mp4")

    def through_api(follow: bool) -> float:
        """One video: create, poll every 20 ms (or follow /events) until completed, download."""
        started = time.perf_counter()
        video_id = _create(client, size="640x360", seconds=1)
        posts.append(time.perf_counter() - started)
        ids.append(video_id)
        if follow:
            _follow(client, video_id)
        else:
            _poll(client, video_id, "completed")
        seen[video_id] = time.time()
        fetching = time.perf_counter()
        content = client.get(f"/v1/videos/{video_id}/content")
        content.raise_for_status()
        downloads.append(time.perf_counter() - fetching)
        elapsed = time.perf_counter() - started
        sizes.append(len(content.content))
        kinds[video_id] = "events" if follow else "polling"
        return elapsed

    def through_sdk() -> float:
        started = time.perf_counter()
        made = sdk.videos.create_and_poll(
            model="openreel-sketch",
            prompt=PROMPT,
            seconds="1",  # type: ignore[arg-type]
            size="640x360",  # type: ignore[arg-type]
            extra_body={"seed": SEED},
        )
        if made.status != "completed":
            raise RuntimeError(f"video {made.id} ended {made.status}: {made.error}")
        sdk.videos.download_content(made.id, variant="video").read()
        return time.perf_counter() - started

    def in_process(run: int) -> float:
        target = folder / f"direct-{run}.mp4"
        started = time.perf_counter()
        baseline.render(runtime, request, target)
        elapsed = time.perf_counter() - started
        direct_sizes.append(target.stat().st_size)
        return elapsed

    sizes: list[int] = []
    direct_sizes: list[int] = []
    kinds: dict[str, str] = {}
    measures: dict[str, tuple[list[float], Callable[[int], float]]] = {
        "polling": (api, lambda run: through_api(follow=False)),
        "events": (followed, lambda run: through_api(follow=True)),
        "sdk": (sdk_runs, lambda run: through_sdk()),
        "direct": (direct, in_process),
    }
    order = list(measures)
    for run in range(runs):
        # Each kind in turn comes first, and each starts after the same pause: a kind that
        # always followed another would inherit its tail (the server's last writes, the
        # client's garbage collection, the disk's write-back) and the others would not.
        for name in order[run % len(order) :] + order[: run % len(order)]:
            time.sleep(PAUSE_S)
            results, measure = measures[name]
            results.append(measure(run))
    if (
        abs(statistics.median(sizes) - statistics.median(direct_sizes))
        > statistics.median(direct_sizes) / 2
    ):
        raise RuntimeError("the API and the direct render made very different files")
    api_s, direct_s = statistics.median(api), statistics.median(direct)
    followed_s = statistics.median(followed)
    db = Database.for_data_dir(data_dir)
    try:
        jobs = [JobStore(db).get(video_id) for video_id in ids]
    finally:
        db.dispose()
    waits = [job.started_at - job.created_at for job in jobs if job.started_at is not None]
    worker = [
        job.completed_at - job.started_at
        for job in jobs
        if job.started_at is not None and job.completed_at is not None
    ]
    noticed: dict[str, list[float]] = {"polling": [], "events": []}
    for job in jobs:
        if job.completed_at is not None:
            noticed[kinds[job.id]].append(seen[job.id] - job.completed_at)
    return {
        "runs": runs,
        "video": "1 s, 640x360, 24 fps, sketch, with thumbnail and spritesheet",
        "encoder": {"preset": encoder.preset, "crf": encoder.crf},
        "api_median_s": round(api_s, 3),
        "direct_median_s": round(direct_s, 3),
        "api_claim_wait_median_s": round(statistics.median(waits), 3),
        "api_worker_median_s": round(statistics.median(worker), 3),
        "api_post_median_s": round(statistics.median(posts), 3),
        "api_completed_to_seen_polling_median_s": round(statistics.median(noticed["polling"]), 3),
        "api_completed_to_seen_events_median_s": round(statistics.median(noticed["events"]), 3),
        "api_download_median_s": round(statistics.median(downloads), 3),
        "api_runs_s": [round(x, 3) for x in api],
        "direct_runs_s": [round(x, 3) for x in direct],
        "ratio": round(api_s / direct_s, 2),
        "api_events_median_s": round(followed_s, 3),
        "api_events_runs_s": [round(x, 3) for x in followed],
        "ratio_events": round(followed_s / direct_s, 2),
        "api_sdk_median_s": round(statistics.median(sdk_runs), 3),
        "api_sdk_runs_s": [round(x, 3) for x in sdk_runs],
        "ratio_sdk": round(statistics.median(sdk_runs) / direct_s, 2),
        "goal_ratio": "<= 1.15",
    }


def bench_create(folder: Path, *, total: int, connections: int) -> dict[str, Any]:
    """(d) ``POST /v1/videos`` throughput with quota accounting on and off, in one run.

    Two servers, each with its own data folder and one worker, differ only in quotas: on
    (a limit so large every create is admitted, but every admission is checked against the
    ledger and reserved in the job's transaction) or off. Tiny videos (64x64, 1 s at 4 fps)
    keep the worker's share of the CPU small and alike on both. Rounds alternate; medians.
    Goal: on / off >= 0.8.
    """
    body = {"prompt": "a small boat", "seconds": "1", "size": "64x64", "fps": 4}
    quota = {
        "on": {"OPENREEL_QUOTA__SECONDS": "1e12", "OPENREEL_QUOTA__VIDEOS": "1000000"},
        "off": {"OPENREEL_QUOTA__SECONDS": "0", "OPENREEL_QUOTA__VIDEOS": "0"},
    }
    rounds: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    with ExitStack() as stack:
        targets = {}
        for name, extra in quota.items():
            data = folder / f"create-{name}"
            env = _server_env(data) | extra
            token = _mint(env)
            port = _free_port()
            command = [sys.executable, "-m", "openreel", "serve", "--port", str(port)]
            url = f"http://{HOST}:{port}"
            stack.enter_context(
                _process([*command, "--workers", "1"], env, url, folder / f"create-{name}.log")
            )
            targets[name] = (port, _request("/v1/videos", token, body))
        for port, request in targets.values():
            asyncio.run(_load(port, request, max(50, total // 10), connections))  # warm-up
        for _ in range(3):
            for name, (port, request) in targets.items():
                rounds[name].append(asyncio.run(_load(port, request, total, connections)))
    on, off = _median_of(rounds["on"]), _median_of(rounds["off"])
    return {
        "creates_per_round": total,
        "connections": connections,
        "quotas_on": on,
        "quotas_off": off,
        "throughput_ratio": round(on["rps"] / off["rps"], 2),
        "goal_throughput_ratio": ">= 0.8",
    }


def _server_env(data: Path) -> dict[str, str]:
    return os.environ | {
        "OPENREEL_DATA_DIR": str(data),
        "PYTHONUNBUFFERED": "1",
        # Counted on every request, as in production, but never reached here.
        "OPENREEL_RATE_REQUESTS_PER_MINUTE": str(10**9),
        "OPENREEL_RATE_CREATES_PER_MINUTE": str(10**9),
    }


def _mint(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "openreel", "token", "create", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round in (a)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections")
    parser.add_argument("--samples", type=int, default=20, help="jobs timed in (b)")
    parser.add_argument(
        "--runs",
        type=int,
        default=20,
        help="videos made each way in (c) (medians of fewer swing by 0.05)",
    )
    parser.add_argument("--creates", type=int, default=300, help="creates per round in (d)")
    parser.add_argument(
        "--only",
        choices=("retrieve", "first-progress", "whole-path", "create"),
        help="measure one figure instead of all three",
    )
    parser.add_argument("--serve-bare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        _serve_bare(int(args.serve_bare[0]), Path(args.serve_bare[1]), args.serve_bare[2])
        return

    with tempfile.TemporaryDirectory(prefix="openreel-bench-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        env = _server_env(data)
        token = _mint(env)
        port = _free_port()
        url = f"http://{HOST}:{port}"
        serve = [sys.executable, "-m", "openreel", "serve", "--port", str(port), "--workers", "1"]
        with (
            _process(serve, env, url, folder / "server.log"),
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client,
        ):
            first = _create(client, size="160x96", seconds=1)
            _poll(client, first, "completed")
            report: dict[str, Any] = {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
            }
            if args.only in (None, "retrieve"):
                report["retrieve"] = bench_retrieve(
                    port, token, first, folder, total=args.requests, connections=args.connections
                )
            if args.only in (None, "first-progress"):
                report["create_to_first_progress"] = bench_first_progress(client, args.samples)
            if args.only in (None, "whole-path"):
                report["whole_path_1s_640x360"] = bench_whole_path(client, data, folder, args.runs)
        if args.only in (None, "create"):
            report["create_quotas_on_vs_off"] = bench_create(
                folder, total=args.creates, connections=args.connections
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
