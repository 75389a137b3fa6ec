"""Benchmark: what signing and content hashing add to a 10-second 1080p24 sketch video.

The README's prompt is rendered with ``render_video`` in one process, alternating two
configurations run for run: the label on in both, and then
- baseline: no C2PA signing, no content fingerprint;
- full: C2PA signing as the last step, the per-second perceptual hashes taken from the frames
  as they are written, and the SHA-256 of the signed file (everything the server does).
Each figure is the median of several runs; the ratio full / baseline is the figure the goal
is set on (at most 1.10). The cost of each step alone is timed too.

Run: ``.venv/bin/python benchmarks/provenance.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

PROMPT = "a lighthouse on a stormy coast at dusk, slow push-in"
SEED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from openreel.backends.sketch.backend import SketchBackend
    from openreel.config import Settings
    from openreel.domain import VideoRequest
    from openreel.media.fingerprint import SecondSampler, file_sha256
    from openreel.runtime import Runtime, signing
    from openreel.services.generation import render_video

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data")
        runtime = Runtime.from_settings(settings)
        provenance = signing(settings)
        backend = SketchBackend()
        request = VideoRequest(prompt=PROMPT, seed=SEED)
        total = request.frame_count
        walls: dict[str, list[float]] = {"baseline": [], "full": []}
        steps: dict[str, list[float]] = {"hash frames": [], "sign": [], "sha256": []}

        # ABBA order (baseline, full, full, baseline, ...) so drift in the machine's speed
        # falls on both configurations alike.
        order = [
            ("baseline", "full") if i % 2 == 0 else ("full", "baseline") for i in range(args.runs)
        ]
        for mode in (m for pair in order for m in pair):
            out = folder / f"{mode}.mp4"
            sampler = SecondSampler(total, request.fps) if mode == "full" else None
            started = time.perf_counter()
            render_video(
                backend,
                request,
                out,
                encoder=runtime.encoder,
                label=runtime.label,
                provenance=provenance if mode == "full" else None,
                sampler=sampler,
            )
            if sampler is not None:
                sampler.fingerprint(file_sha256(out))
            walls[mode].append(time.perf_counter() - started)
            out.unlink()

        # Each step alone, on the same video, after the timed runs.
        assert provenance is not None
        frames = list(backend.generate(request))[:: request.fps][:10]
        plain = folder / "plain.mp4"
        for _ in range(args.runs):
            one = SecondSampler(len(frames), 1.0)
            t = time.perf_counter()
            for i, frame in enumerate(frames):
                one.add(i, frame)
            steps["hash frames"].append(time.perf_counter() - t)
            render_video(backend, request, plain, encoder=runtime.encoder, label=runtime.label)
            t = time.perf_counter()
            provenance.sign(plain, backend, request)
            steps["sign"].append(time.perf_counter() - t)
            t = time.perf_counter()
            file_sha256(plain)
            steps["sha256"].append(time.perf_counter() - t)

    base = statistics.median(walls["baseline"])
    full = statistics.median(walls["full"])
    print(f"machine: {platform.machine()}, {platform.python_version()}, runs: {args.runs} each")
    print(f"baseline (label, no signing, no hashing): {base:.2f} s  runs {_fmt(walls['baseline'])}")
    print(f"full (label + C2PA + fingerprint):        {full:.2f} s  runs {_fmt(walls['full'])}")
    print(f"ratio full / baseline: {full / base:.3f}  (goal <= 1.10)")
    for name, values in steps.items():
        print(f"  {name} alone: {statistics.median(values) * 1000:.1f} ms (median)")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
