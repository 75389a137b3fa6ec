"""Benchmark: a 10-second 1080p24 sketch video, end to end, against the encode-only floor.

Prints, as medians of several runs:
- render wall: frames generated and encoded to an MP4 by ``openreel generate`` (in-process time
  from the first frame to the file committed) and the whole command's wall time with start-up;
- real-time factor: render wall / 10 s;
- encode-only floor: the very same frames, rendered beforehand and held in memory, encoded
  with the same encoder settings, in the same run;
- ratio of render wall to that floor;
- peak resident memory of the ``generate`` process.

Run: ``.venv/bin/python benchmarks/sketch.py [--runs 3] [--prompt TEXT]`` (the README's example
unless ``--prompt`` names another scene).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "a lighthouse on a stormy coast at dusk, slow push-in"
SEED = 7


def _generate_once(folder: Path, prompt: str) -> tuple[float, float, float]:
    """Runs the real command; returns (render seconds, command seconds, peak RSS in MB)."""
    out = folder / "bench.mp4"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openreel",
            "generate",
            prompt,
            "-o",
            str(out),
            "--seed",
            str(SEED),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    command = time.perf_counter() - started
    stdout = proc.stdout.read() if proc.stdout else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"generate failed: {proc.stderr.read() if proc.stderr else b''!r}")
    result = json.loads(stdout)
    out.unlink()
    return float(result["render_seconds"]), command, usage.ru_maxrss / 1024


def _encode_floor(runs: int, prompt: str) -> list[float]:
    """Renders the same frames into memory once, then times encoding them alone."""
    from openreel.backends.sketch.backend import SketchBackend
    from openreel.config import Settings
    from openreel.domain import VideoRequest
    from openreel.media.encode import encode_video
    from openreel.runtime import Runtime

    runtime = Runtime.from_settings(Settings())
    request = VideoRequest(prompt=prompt, seed=SEED)
    frames = list(SketchBackend().generate(request))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            started = time.perf_counter()
            encode_video(
                frames,
                Path(tmp) / "floor.mp4",
                width=request.width,
                height=request.height,
                fps=request.fps,
                settings=runtime.encoder,
            )
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt", default=PROMPT)
    args = parser.parse_args()
    renders, commands, rss = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            r, c, m = _generate_once(Path(tmp), args.prompt)
            renders.append(r)
            commands.append(c)
            rss.append(m)
    floors = _encode_floor(args.runs, args.prompt)
    render, floor = statistics.median(renders), statistics.median(floors)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "prompt": args.prompt,
        "runs": args.runs,
        "render_wall_s": round(render, 2),
        "command_wall_s": round(statistics.median(commands), 2),
        "real_time_factor": round(render / 10.0, 3),
        "encode_only_floor_s": round(floor, 2),
        "ratio_to_floor": round(render / floor, 3),
        "peak_rss_mb": round(max(rss), 1),
        "all_render_s": [round(v, 2) for v in renders],
        "all_floor_s": [round(v, 2) for v in floors],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
