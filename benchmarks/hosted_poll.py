"""Benchmark: what one server process spends while hundreds of hosted jobs wait upstream.

Starts the fake upstream (benchmarks/fake_upstream_app.py, holding every video for a while)
and a real ``openreel serve`` with 200 hosted workers pointed at it, creates 200 videos of
the upstream model, waits until all are being followed, then samples the server process's
CPU time and resident memory over a window, and finally checks that every job completed.
``POLL_AFTER_MS`` sets the interval the fake asks for (2000 by default). The semantic
moderation model is off (it is
measured on its own in benchmarks/moderation.py and would dominate the memory figure).

Run: ``.venv/bin/python benchmarks/hosted_poll.py [--jobs 200] [--window 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--log", type=Path, help="write the server's log here")
    args = parser.parse_args()
    env = os.environ | {"HOLD_SECONDS": str(args.window + 40)}
    up_port, port = _port(), _port()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        upstream = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT), "fake_upstream_app:app",
             "--port", str(up_port), "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        server_env = env | {
            "OPENREEL_DATA_DIR": str(data),
            "OPENREEL_UPSTREAM__URL": f"http://127.0.0.1:{up_port}/v1",
            "OPENREEL_UPSTREAM__MODELS": json.dumps(["fake"]),
            "OPENREEL_PROVIDERS__UPSTREAM": "bench-key",
            "OPENREEL_HOSTED_WORKERS": str(args.jobs),
            "OPENREEL_MODERATION__SEMANTIC": "off",
            "OPENREEL_RATE_REQUESTS_PER_MINUTE": "0",
            "OPENREEL_RATE_CREATES_PER_MINUTE": "0",
            "OPENREEL_QUOTA__SECONDS": "0",
            "OPENREEL_QUOTA__VIDEOS": "0",
        }
        token = subprocess.run(
            [sys.executable, "-m", "openreel", "token", "create", "bench"],
            env=server_env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        log = args.log.open("wb") if args.log else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "-m", "openreel", "serve", "--port", str(port)],
            env=server_env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            _wait_up(f"http://127.0.0.1:{up_port}/v1/videos/none", upstream)
            _wait_up(f"http://127.0.0.1:{port}/healthz", server)
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            for _ in range(args.jobs):
                body = {"model": "upstream/fake", "prompt": "a boat", "seconds": "1",
                        "size": "640x360"}  # fmt: skip
                client.post("/videos", json=body).raise_for_status()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                page = client.get("/videos", params={"limit": 100}).json()["data"]
                if all(v["status"] == "in_progress" for v in page):
                    break
                time.sleep(1)
            time.sleep(3)  # let the first polls settle
            proc = psutil.Process(server.pid)
            before = proc.cpu_times()
            started = time.monotonic()
            rss = []
            while time.monotonic() - started < args.window:
                rss.append(proc.memory_info().rss)
                time.sleep(1)
            after = proc.cpu_times()
            elapsed = time.monotonic() - started
            cpu = (after.user + after.system - before.user - before.system) / elapsed
            threads = proc.num_threads()
            # Then every job must come back finished: cheap waiting that loses jobs is no win.
            deadline = time.monotonic() + 180
            statuses: dict[str, int] = {}
            errors: set[str] = set()
            while time.monotonic() < deadline:
                statuses, errors = {}, set()
                page: dict[str, object] = {"limit": 100}
                while True:
                    body = client.get("/videos", params=page).json()
                    for video in body["data"]:
                        statuses[video["status"]] = statuses.get(video["status"], 0) + 1
                        if video.get("error"):
                            errors.add(f"{video['error']['code']}: {video['error']['message']}")
                    if not body.get("has_more"):
                        break
                    page["after"] = body["data"][-1]["id"]
                if statuses.get("completed", 0) + statuses.get("failed", 0) >= args.jobs:
                    break
                time.sleep(2)
        finally:
            server.terminate()
            upstream.terminate()
            server.wait(30)
            upstream.wait(30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{args.jobs} hosted jobs in progress, followed by one server process ({threads} threads)"
    )
    print(f"CPU while waiting: {cpu * 100:.1f}% of one core over {elapsed:.0f} s  (goal < 5%)")
    print(f"resident memory: max {max(rss) / 2**20:.0f} MB  (goal < 200 MB)")
    print(f"then: {statuses.get('completed', 0)}/{args.jobs} completed, {statuses}")
    for error in sorted(errors):
        print(f"  failed with {error}")


if __name__ == "__main__":
    main()
