"""Benchmark: what the diffusers backend adds around a pipeline call.

The same tiny random Wan pipeline (built offline, saved and loaded through the real catalogue)
makes the same clip two ways:

- **bare**: ``pipe(...)`` called directly with the plan's size, frames, steps and seed, output
  as float arrays (what a script using diffusers alone would get);
- **backend**: ``DiffusersBackend.generate`` for a request at the model's native size and rate
  (progress per step, cancel checks per step and frame, uint8 conversion, stitching), and
  again for a request at twice the native size (Lanczos scaling included).

Each is timed with encoding excluded (frames only) and included (frames into an H.264 MP4
with the project's encoder; for bare, its frames encoded afterwards). Runs are interleaved
ABBA so drift on a shared machine hits both sides alike; medians are printed.

Run: ``.venv/bin/python benchmarks/diffusers_overhead.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tiny pipeline builder lives with the tests

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NATIVE = 128
FPS = 16
SECONDS = 2.0
STEPS = 4


def _catalogue(folder: Path) -> Path:
    from tests.backends.diffusers.tiny import build_wan

    build_wan(folder / "wan")
    path = folder / "catalogue.toml"
    path.write_text(
        f"""[[model]]
id = "bench-wan"
family = "wan"
source = "{folder / "wan"}"
dtype = "float32"
memory = "none"
steps = {STEPS}
guidance = 5.0
width = {NATIVE}
height = {NATIVE}
fps = {FPS}
max_frames = 81
max_seconds = 10
call = {{ max_sequence_length = 16 }}
"""
    )
    return path


def _median_pair(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed ABBA ``runs`` times each (after one warm-up each)."""
    a(), b()
    times_a: list[float] = []
    times_b: list[float] = []
    for index in range(runs):
        order = [(a, times_a), (b, times_b)]
        if index % 2:
            order.reverse()
        for fn, sink in order:
            sink.append(fn())
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import torch

    from openreel.backends.diffusers.backend import DiffusersBackend
    from openreel.config import LocalConfig, Settings
    from openreel.domain import VideoRequest
    from openreel.media.encode import EncoderSettings, VideoWriter
    from openreel.runtime import build_registry
    from openreel.services.generation import render_video

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="openreel-bench-"))
    local = LocalConfig(catalogue=_catalogue(work), device="cpu")
    backend = build_registry(Settings(local=local)).for_model("bench-wan")
    assert isinstance(backend, DiffusersBackend)

    def request(side: int) -> VideoRequest:
        return VideoRequest(
            prompt="a red kite over a beach",
            seconds=SECONDS,
            width=side,
            height=side,
            fps=FPS,
            seed=9,
            model="bench-wan",
        )

    native = request(NATIVE)
    plan = backend.plan(native)
    if len(plan.segments.frames) != 1 or plan.scales or plan.retimes:
        raise SystemExit(f"the native request should be one plain call; got {plan}")
    frames = plan.segments.frames[0]
    pipe = backend.cache.get(backend.entry("bench-wan")).pipe
    encoder = EncoderSettings()

    def bare_frames() -> Any:
        return pipe(
            prompt=native.prompt,
            width=NATIVE,
            height=NATIVE,
            num_frames=frames,
            num_inference_steps=STEPS,
            guidance_scale=5.0,
            generator=torch.Generator("cpu").manual_seed(9),
            output_type="np",
            max_sequence_length=16,
        ).frames

    def bare() -> float:
        started = time.perf_counter()
        bare_frames()
        return time.perf_counter() - started

    def bare_encoded() -> float:
        started = time.perf_counter()
        video = bare_frames()[0]
        with VideoWriter(work / "bare.mp4", width=NATIVE, height=NATIVE, fps=FPS) as writer:
            for frame in video[: native.frame_count]:
                writer.write((np.clip(frame * 255 + 0.5, 0, 255)).astype(np.uint8))
        return time.perf_counter() - started

    def through(side: int) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            for _ in backend.generate(request(side), lambda d, t: None, lambda: False):
                pass
            return time.perf_counter() - started

        return run

    def through_encoded(side: int) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            render_video(backend, request(side), work / f"b{side}.mp4", encoder=encoder)
            return time.perf_counter() - started

        return run

    rows = [
        ("native size, encode excluded", bare, through(NATIVE)),
        ("native size, encode included", bare_encoded, through_encoded(NATIVE)),
        (f"scaled to {2 * NATIVE}x{2 * NATIVE}, encode excluded", bare, through(2 * NATIVE)),
        (
            f"scaled to {2 * NATIVE}x{2 * NATIVE}, encode included",
            bare_encoded,
            through_encoded(2 * NATIVE),
        ),
    ]
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.threads} thread(s); tiny Wan {NATIVE}x{NATIVE}, {frames} frames, "
        f"{STEPS} steps, CFG on; median of {args.runs} ABBA runs"
    )
    print("| case | bare | backend | ratio |")
    print("| --- | --- | --- | --- |")
    for name, a, b in rows:
        median_a, median_b = _median_pair(a, b, args.runs)
        print(f"| {name} | {median_a:.3f} s | {median_b:.3f} s | {median_b / median_a:.3f} |")


if __name__ == "__main__":
    main()
