"""Benchmark: the server's own time per request, without a network or a client in the way.

Builds the server in this process (``Server.open``, the app of ``openreel serve``, SQLite,
one render worker), makes one small video, then calls the ASGI app directly, one request
after another, and reports the median time per request of several rounds for:

- ``GET /v1/videos/{id}`` (a status poll),
- ``GET /v1/videos/{id}/events`` of a finished video (token check, snapshot, end of stream),
- ``GET /v1/videos/{id}/content`` (the MP4, a 1-second 160x96 video).

Each includes the middleware, the token check, the rate-limit count and the database read. It
is the figure to compare two versions of the code with (``PYTHONPATH=/old/src``): on a loaded
two-core machine the loopback, the client and the scheduler add more to a request than the
route itself does, and hide a change of a few hundred microseconds.

Run: ``.venv/bin/python benchmarks/request_cost.py [--requests 1000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import openreel
from openreel.api.app import create_app
from openreel.config import ModerationConfig, Settings
from openreel.runtime import Server

App = Any  # an ASGI application


async def _call(app: App, method: str, path: str, token: str, body: bytes = b"") -> list[Any]:
    """One request through the ASGI app; returns the messages it sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    delivered = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # the client stays connected until the response ends
        return {"type": "http.disconnect"}

    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    done.set()
    if sent[0]["status"] != 200:
        raise RuntimeError(f"{method} {path}: {sent[0]['status']} {sent[1].get('body')!r}")
    return sent


async def _measure(app: App, token: str, requests: int, rounds: int) -> dict[str, float]:
    body = json.dumps({"prompt": "a lighthouse at dusk", "size": "160x96", "seconds": 1})
    sent = await _call(app, "POST", "/v1/videos", token, body.encode())
    video_id = json.loads(sent[1]["body"])["id"]
    while True:
        sent = await _call(app, "GET", f"/v1/videos/{video_id}", token)
        if json.loads(sent[1]["body"])["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    paths = {
        "retrieve": f"/v1/videos/{video_id}",
        "events_of_a_finished_video": f"/v1/videos/{video_id}/events",
        "content_video": f"/v1/videos/{video_id}/content",
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    for path in paths.values():  # warm-up
        for _ in range(requests // 10):
            await _call(app, "GET", path, token)
    for _ in range(rounds):  # rounds interleaved, so drift hits every route alike
        for name, path in paths.items():
            started = time.perf_counter()
            for _ in range(requests):
                await _call(app, "GET", path, token)
            times[name].append((time.perf_counter() - started) / requests)
    return {f"{name}_ms": round(1000 * statistics.median(t), 3) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per route a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians are reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openreel-cost-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            workers=1,
            rate_requests_per_minute=0,
            rate_creates_per_minute=0,
            moderation=ModerationConfig(semantic="off"),
        )
        server = Server.open(settings)
        try:
            server.start()
            token = server.services.auth.issue("bench").token
            app = create_app(server.services)
            figures = asyncio.run(_measure(app, token, args.requests, args.rounds))
        finally:
            server.close()
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "openreel": str(Path(openreel.__file__).parent),
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        **figures,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
