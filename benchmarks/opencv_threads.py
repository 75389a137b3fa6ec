"""Benchmark: a sketch render with OpenCV's thread pool on (its default) and off.

Renders the same video (with previews, label, C2PA signature and fingerprints, as the server
does) alternately with ``cv2.setNumThreads(default)`` and ``cv2.setNumThreads(1)``, each after
the same pause, and prints the medians of wall time and of this process's CPU time.

Run: ``.venv/bin/python benchmarks/opencv_threads.py [--size 640x360] [--seconds 1] [--runs 15]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2

import baseline
from openreel.config import Settings
from openreel.domain import parse_size
from openreel.runtime import Runtime

PAUSE_S = 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--seconds", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    width, height = parse_size(args.size)
    folder = Path(tempfile.mkdtemp(prefix="openreel-opencv-"))
    default = cv2.getNumThreads()
    # Settings(opencv_threads=None) leaves OpenCV's default in place while building.
    runtime = Runtime.from_settings(Settings(data_dir=folder / "data", opencv_threads=None))
    wanted = baseline.request(width, height, args.seconds)

    def render(name: str) -> None:
        baseline.render(runtime, wanted, folder / f"{name}.mp4")

    render("warm")
    wall: dict[int, list[float]] = {default: [], 1: []}
    cpu: dict[int, list[float]] = {default: [], 1: []}
    for run in range(args.runs):
        for count in (default, 1):
            cv2.setNumThreads(count)
            time.sleep(PAUSE_S)
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            render(f"{count}-{run}")
            wall[count].append(time.perf_counter() - wall_start)
            cpu[count].append(time.process_time() - cpu_start)
    cv2.setNumThreads(default)
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "video": f"{args.seconds} s, {args.size}, 24 fps",
                "runs": args.runs,
                "opencv_default_threads": default,
                "wall_median_ms": {
                    str(k): round(1000 * statistics.median(v), 1) for k, v in wall.items()
                },
                "cpu_median_ms": {
                    str(k): round(1000 * statistics.median(v), 1) for k, v in cpu.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
