"""Benchmark: an edit and an extension of an uploaded 10 s 1080p video against a fresh render.

The goal (issue 20): an edit, or an extension by 10 s, of a 10-second 1080p24 sketch video
uploaded as a file takes at most 1.5x a fresh 10-second 1080p24 render. Each run makes, side
by side on one in-process server (one worker, render processes on, as ``openreel serve``):

- fresh: ``POST /v1/videos`` of a 10 s 1080p24 sketch video;
- edit: ``POST /v1/videos/edits`` with that video uploaded as a file, "at night and snowing";
- extension: ``POST /v1/videos/extensions`` with it uploaded, 10 s more (a 20 s result).

Each time is from the request sent to the video seen completed (the upload, its checks, the
decode of the footage and the encode included). Prints the medians and their ratios to the
fresh render's median, and the machine's one-minute load average after each video (the
machine may be shared: the ratios are only comparable at a like load).

Run: ``.venv/bin/python benchmarks/edits.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from openreel.api.app import create_app
from openreel.config import QuotaConfig, Settings
from openreel.runtime import Server

PROMPT = "a lighthouse on a stormy coast at dusk with birds, slow push-in"
SIZE = {"model": "openreel-sketch", "seconds": "10", "size": "1920x1080", "fps": 24}


def _finish(client: TestClient, headers: dict[str, str], response: Any) -> float:
    """Waits for the video of ``response`` to complete; returns when it did."""
    assert response.status_code == 200, response.text
    video_id = response.json()["id"]
    while True:
        video = client.get(f"/v1/videos/{video_id}", headers=headers).json()
        if video["status"] == "completed":
            return time.perf_counter()
        if video["status"] == "failed":
            raise SystemExit(f"{video_id} failed: {video['error']}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            workers=1,
            quota=QuotaConfig(seconds=0, videos=0),
            rate_requests_per_minute=0,
            rate_creates_per_minute=0,
        )
        server = Server.open(settings)
        server.start()
        try:
            token = server.services.auth.issue("bench").token
            headers = {"Authorization": f"Bearer {token}"}
            with TestClient(create_app(server.services)) as client:
                source = client.post(
                    "/v1/videos", json={"prompt": PROMPT, "seed": 7, **SIZE}, headers=headers
                )
                _finish(client, headers, source)
                upload = client.get(
                    f"/v1/videos/{source.json()['id']}/content", headers=headers
                ).content
                times: dict[str, list[float]] = {"fresh": [], "edit": [], "extension": []}
                for run in range(args.runs):
                    for kind in ("fresh", "edit", "extension"):
                        started = time.perf_counter()
                        if kind == "fresh":
                            response = client.post(
                                "/v1/videos",
                                json={"prompt": PROMPT, "seed": 100 + run, **SIZE},
                                headers=headers,
                            )
                        elif kind == "edit":
                            response = client.post(
                                "/v1/videos/edits",
                                data={"prompt": "at night and snowing"},
                                files={"video": ("source.mp4", upload, "video/mp4")},
                                headers=headers,
                            )
                        else:
                            response = client.post(
                                "/v1/videos/extensions",
                                data={"prompt": "the storm passes, gulls fly", "seconds": "10"},
                                files={"video": ("source.mp4", upload, "video/mp4")},
                                headers=headers,
                            )
                        times[kind].append(_finish(client, headers, response) - started)
                        load = os.getloadavg()[0]
                        print(
                            f"run {run + 1} {kind}: {times[kind][-1]:.2f} s (load {load:.1f})",
                            flush=True,
                        )
        finally:
            server.close(timeout=30)
    fresh = statistics.median(times["fresh"])
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"upload: {len(upload) / 1e6:.1f} MB, runs: {args.runs}")
    for kind, values in times.items():
        median = statistics.median(values)
        print(f"{kind:>9}: median {median:6.2f} s  ratio to fresh {median / fresh:4.2f}x")


if __name__ == "__main__":
    main()
