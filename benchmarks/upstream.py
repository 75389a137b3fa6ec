"""Benchmark: what OpenReel itself spends on one video through each upstream dialect.

Each dialect's fake GPU server (tests/support/gpu_servers.py; the ``openai`` one is
tests/support/hosted/fake_upstream.py) is served on loopback by a real HTTP server, and its
videos finish at the first look, so the time left is OpenReel's and the network's. For each
run the real ``UpstreamBackend`` makes one video (create, poll, download, then the decode that
fits the result to the request), and the fake's own handling time is subtracted. Side by side,
a bare httpx client makes the same three requests with nothing around them: the baseline.

Reported per dialect, medians of ``--runs``: submit to result downloaded ("result seen", the
goal: at or under 100 ms beyond the upstream's own time), bare httpx for the same requests, and
the decode of the result into the request's frames (the same for every hosted video).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/upstream.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import gpu_servers  # noqa: E402
from tests.support.hosted import fake_upstream  # noqa: E402
from tests.support.hosted.harness import make_mp4  # noqa: E402

from openreel.backends.base import BackendCapabilities  # noqa: E402
from openreel.backends.hosted.base import HostedModel, PollPolicy  # noqa: E402
from openreel.backends.hosted.dialects import DIALECTS, create_body  # noqa: E402
from openreel.backends.hosted.upstream import UpstreamClient  # noqa: E402
from openreel.backends.hosted.upstream_backend import UpstreamBackend  # noqa: E402
from openreel.backends.hosted.upstream_jobs import JobSlots  # noqa: E402
from openreel.domain import VideoRequest  # noqa: E402

CAPS = BackendCapabilities(
    max_seconds=20, min_side=64, max_side=1920, fps_range=(1, 60), sizes=("1280x720",)
)


class _Timed(UpstreamClient):
    """The real client, noting when the download ends (the result is seen)."""

    downloaded_at = 0.0

    def download(self, job_id: str, target: Path) -> None:
        super().download(job_id, target)
        self.downloaded_at = time.perf_counter()


def _fake(dialect: str, video: bytes) -> Any:
    if dialect == "openai":
        return fake_upstream.FakeUpstream(progress=[], video=video, listing=True)
    kind = {
        "vllm-omni": gpu_servers.FakeVllmOmni,
        "sglang": gpu_servers.FakeSGLang,
        "fastvideo": gpu_servers.FakeFastVideo,
    }[dialect]
    return kind(runs_polls=0, video=video)


def _openreel(dialect: str, url: str, request: VideoRequest) -> tuple[float, float]:
    """One video through the real backend: (submit to downloaded, decode) in seconds."""
    key = fake_upstream.KEY if dialect == "openai" else None
    slots = JobSlots(1) if dialect == "fastvideo" else None
    client = _Timed(url, key, name="bench", dialect=dialect, slots=slots)
    model = HostedModel(request.model, "wan", CAPS)
    policy = PollPolicy(interval_s=0.01, cancel_check_s=0.01)
    backend = UpstreamBackend("bench", client, (model,), slots=slots, policy=policy)
    try:
        started = time.perf_counter()
        frames = sum(1 for _ in backend.generate(request))
        ended = time.perf_counter()
    finally:
        backend.close()
    assert frames == request.frame_count
    return client.downloaded_at - started, ended - client.downloaded_at


def _bare(dialect: str, url: str, request: VideoRequest) -> float:
    """The same create, retrieve and download with a bare httpx client."""
    headers = {"Authorization": f"Bearer {fake_upstream.KEY}"} if dialect == "openai" else {}
    with httpx.Client(base_url=url, headers=headers) as http:
        started = time.perf_counter()
        body = create_body(DIALECTS[dialect], "wan", request)
        video_id = http.post("/videos", **body).json()["id"]
        http.get(f"/videos/{video_id}")
        http.get(f"/videos/{video_id}/content").read()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    request = VideoRequest(
        prompt="a lighthouse at dusk",
        model="bench/wan",
        seconds=args.seconds,
        width=1280,
        height=720,
        fps=24,
        seed=7,
    )
    video = make_mp4(args.seconds, (1280, 720), 24)
    print(
        f"{datetime.date.today()} {platform.node()} {platform.processor() or platform.machine()} "
        f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} runs={args.runs} "
        f"clip={args.seconds:g}s 1280x720 24fps ({len(video) // 1024} KiB)"
    )
    print("dialect     openreel_ms  bare_ms  beyond_bare_ms  decode_ms")
    for dialect in ("openai", "vllm-omni", "sglang", "fastvideo"):
        ours, bare, decode = [], [], []
        for _ in range(args.runs):
            fake = _fake(dialect, video)
            with gpu_servers.serve(fake) as served:
                before = served.handled_s
                seen, decoded = _openreel(dialect, served.url, request)
                ours.append(seen - (served.handled_s - before))
                decode.append(decoded)
                before = served.handled_s
                bare.append(_bare(dialect, served.url, request) - (served.handled_s - before))
        o, b, d = (statistics.median(x) * 1000 for x in (ours, bare, decode))
        print(f"{dialect:<11} {o:>11.1f} {b:>8.1f} {o - b:>15.1f} {d:>10.1f}")


if __name__ == "__main__":
    main()
