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
ABBA so drift on a shared machine hits both sides alike; medians of wall time and of this
process's CPU time are printed (torch runs on one thread, so CPU time is this process's own
work, which other tenants of a busy shared machine do not inflate the way they move wall
time by 10-20%). Each backend run also times its pipeline call(s) from inside: "outside" is
the backend's wall time beyond that, as a share of it, measured within one run.

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
from dataclasses import dataclass
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
    from tests.support.tiny_diffusers import build_wan

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


@dataclass(frozen=True, slots=True)
class Timing:
    """One run: wall seconds, this process's CPU seconds, and seconds inside the pipeline."""

    wall: float
    cpu: float
    inside: float = 0.0


class _InsideTimer:
    """Times every call of a pipeline class from inside (signature kept for the backend)."""

    def __init__(self, cls: type) -> None:
        import functools

        self.seconds = 0.0
        original = cls.__call__

        @functools.wraps(original)
        def timed(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(pipe, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        cls.__call__ = timed  # type: ignore[method-assign]


def _timed(fn: Callable[[], object], inside: _InsideTimer) -> Timing:
    inside.seconds = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, inside.seconds)


def _abba(
    a: Callable[[], object], b: Callable[[], object], runs: int, inside: _InsideTimer
) -> tuple[list[Timing], list[Timing]]:
    """``runs`` timings of each, interleaved ABBA (after one warm-up each)."""
    a(), b()
    times_a: list[Timing] = []
    times_b: list[Timing] = []
    for index in range(runs):
        for name in "ab" if index % 2 == 0 else "ba":
            if name == "a":
                times_a.append(_timed(a, inside))
            else:
                times_b.append(_timed(b, inside))
    return times_a, times_b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import torch

    from openreel.backends.diffusers.backend import DiffusersBackend
    from openreel.backends.providers import build_registry
    from openreel.config import LocalConfig, Settings
    from openreel.domain import VideoRequest
    from openreel.media.encode import EncoderSettings, VideoWriter
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
    inside = _InsideTimer(type(pipe))

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

    def bare() -> None:
        bare_frames()

    def bare_encoded() -> None:
        video = bare_frames()[0]
        with VideoWriter(work / "bare.mp4", width=NATIVE, height=NATIVE, fps=FPS) as writer:
            for frame in video[: native.frame_count]:
                writer.write((np.clip(frame * 255 + 0.5, 0, 255)).astype(np.uint8))

    def through(side: int) -> Callable[[], None]:
        def run() -> None:
            for _ in backend.generate(request(side), lambda d, t: None, lambda: False):
                pass

        return run

    def through_encoded(side: int) -> Callable[[], None]:
        def run() -> None:
            render_video(backend, request(side), work / f"b{side}.mp4", encoder=encoder)

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
    print(
        "| case | bare wall, median (min) | backend wall, median (min) | ratio of medians "
        "(of mins) | median of paired ratios | CPU ratio of medians "
        "| backend outside the pipeline call |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, a, b in rows:
        times_a, times_b = _abba(a, b, args.runs, inside)
        wall_a = statistics.median(t.wall for t in times_a)
        wall_b = statistics.median(t.wall for t in times_b)
        min_a = min(t.wall for t in times_a)
        min_b = min(t.wall for t in times_b)
        cpu_a = statistics.median(t.cpu for t in times_a)
        cpu_b = statistics.median(t.cpu for t in times_b)
        outside = statistics.median((t.wall - t.inside) / t.inside for t in times_b)
        # Run i of each side ran next to each other (ABBA), so their ratio cancels the slow
        # drift of a shared machine's load.
        paired = statistics.median(
            tb.wall / ta.wall for ta, tb in zip(times_a, times_b, strict=True)
        )
        print(
            f"| {name} | {wall_a:.3f} s ({min_a:.3f}) | {wall_b:.3f} s ({min_b:.3f}) "
            f"| {wall_b / wall_a:.3f} ({min_b / min_a:.3f}) | {paired:.3f} | {cpu_b / cpu_a:.3f} "
            f"| {100 * outside:+.1f}% |"
        )


if __name__ == "__main__":
    main()
