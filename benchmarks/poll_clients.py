"""Benchmark: the CPU one status poll costs with each HTTP client, 200 jobs polled every 2 s.

Why it exists: it shows that a waiting hosted job's cost is the poll itself, whatever the
client, so the way to a cheap wait is fewer polls (benchmarks/hosted_poll.py, and the shared
listing in backends/hosted/listing.py), not a faster client. Starts the fake upstream
(benchmarks/fake_upstream_app.py), creates the jobs, then for each client polls every job
every 2 s for ``--window`` seconds and reports this process's CPU per poll. aiohttp is
measured too when it happens to be installed (it is not a dependency).

Run: ``.venv/bin/python benchmarks/poll_clients.py [--jobs 200] [--window 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent
HEADERS = {"Authorization": "Bearer bench"}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _threads(ids: list[str], window: float, poll: Callable[[str], None]) -> int:
    """Each job in its own thread, as the hosted pool runs them."""
    stop = time.monotonic() + window
    count = [0]
    lock = threading.Lock()

    def follow(video_id: str, index: int) -> None:
        time.sleep(index * 0.01)  # spread the polls over the interval
        while time.monotonic() < stop:
            poll(video_id)
            with lock:
                count[0] += 1
            time.sleep(2)

    threads = [threading.Thread(target=follow, args=(v, i)) for i, v in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0]


def httpx_sync(base: str, ids: list[str], window: float) -> int:
    with httpx.Client(base_url=base, headers=HEADERS) as client:
        return _threads(ids, window, lambda v: client.get(f"/videos/{v}").json())


def stdlib(base: str, ids: list[str], window: float) -> int:
    port = int(base.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    local = threading.local()

    def poll(video_id: str) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port)
        local.conn.request("GET", f"/v1/videos/{video_id}", headers=HEADERS)
        json.loads(local.conn.getresponse().read())

    return _threads(ids, window, poll)


def httpx_async(base: str, ids: list[str], window: float) -> int:
    async def main() -> int:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=len(ids))
        async with httpx.AsyncClient(base_url=base, headers=HEADERS, limits=limits) as client:
            stop, count = time.monotonic() + window, 0

            async def follow(video_id: str, index: int) -> None:
                nonlocal count
                await asyncio.sleep(index * 0.01)
                while time.monotonic() < stop:
                    (await client.get(f"/videos/{video_id}")).json()
                    count += 1
                    await asyncio.sleep(2)

            await asyncio.gather(*(follow(v, i) for i, v in enumerate(ids)))
            return count

    return asyncio.run(main())


def aiohttp_async(base: str, ids: list[str], window: float) -> int:
    import aiohttp  # type: ignore[import-not-found]  # optional: measured only if installed

    async def main() -> int:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(headers=HEADERS, connector=connector) as client:
            stop, count = time.monotonic() + window, 0

            async def follow(video_id: str, index: int) -> None:
                nonlocal count
                await asyncio.sleep(index * 0.01)
                while time.monotonic() < stop:
                    async with client.get(f"{base}/videos/{video_id}") as response:
                        await response.json()
                    count += 1
                    await asyncio.sleep(2)

            await asyncio.gather(*(follow(v, i) for i, v in enumerate(ids)))
            return count

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--window", type=float, default=15.0)
    args = parser.parse_args()
    port = _port()
    env = os.environ | {"HOLD_SECONDS": "3600"}
    fake = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT), "fake_upstream_app:app",
         "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    clients: dict[str, Callable[[str, list[str], float], int]] = {
        "httpx, a thread per job": httpx_sync,
        "httpx async": httpx_async,
        "http.client, a thread per job": stdlib,
    }
    try:
        import aiohttp  # type: ignore[import-not-found]  # noqa: F401

        clients["aiohttp"] = aiohttp_async
    except ImportError:
        pass
    me = psutil.Process()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/videos/none", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the fake upstream did not start") from None
                time.sleep(0.2)
        body = {"model": "fake", "prompt": "a boat", "seconds": "1", "size": "640x360"}
        with httpx.Client(base_url=base, headers=HEADERS) as client:
            ids = [client.post("/videos", json=body).json()["id"] for _ in range(args.jobs)]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")  # fmt: skip
        print(f"{args.jobs} jobs, each polled every 2 s for {args.window:g} s")
        for name, run in clients.items():
            before, started = me.cpu_times(), time.monotonic()
            polls = run(base, ids, args.window)
            after, elapsed = me.cpu_times(), time.monotonic() - started
            cpu = after.user + after.system - before.user - before.system
            print(f"  {name:32} {polls:5} polls  {cpu / elapsed * 100:5.1f}% of a core  "
                  f"{cpu / polls * 1e3:.2f} ms per poll")  # fmt: skip
    finally:
        fake.terminate()
        fake.wait(30)


if __name__ == "__main__":
    main()
