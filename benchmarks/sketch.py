"""Benchmark: a 10-second 1080p24 sketch video, end to end, against the encode-only floor.

Prints, as medians of several runs:
- render wall: frames generated and encoded to an MP4 by ``openreel generate`` (in-process time
  from the first frame to the file committed) and the whole command's wall time with start-up;
- real-time factor: render wall / 10 s;
- encode-only floor: the very same frames, rendered beforehand and held in memory, encoded
  with the same encoder settings, in the same run;
- ratio of render wall to that floor;
- peak resident memory of the ``generate`` process.

Run: ``.venv/bin/python benchmarks/sketch.py [--runs 3] [--prompt "..."] [--sound]`` (``--prompt`` times
another scene the same way, e.g. the five animals of ``ANIMALS_PROMPT``, beside the default).
With ``--sound``, the same video with its sound and without, side by side instead (runs
alternate): the whole render with ``--audio`` and ``--no-audio``, its peak RSS, the muxing
alone (the same in-memory frames encoded with and without the same in-memory soundtrack),
and the soundtrack's synthesis alone.
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
ANIMALS_PROMPT = (
    "a dog, a galloping horse, two deer, a fox and a dragon flying over the hills at dusk, "
    "slow push-in"
)
"""Five of the animal subjects at once, the issue's "scene with five new subjects"."""
SEED = 7


def _generate_once(folder: Path, prompt: str, *switches: str) -> tuple[float, float, float]:
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
            *switches,
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


def _sound(runs: int, prompt: str) -> dict[str, object]:
    """The video with and without its sound, side by side (see the module docstring)."""
    from openreel.backends.sketch.backend import SketchBackend
    from openreel.config import Settings
    from openreel.domain import VideoRequest
    from openreel.media.encode import VideoWriter
    from openreel.runtime import Runtime

    renders: dict[str, list[float]] = {"--audio": [], "--no-audio": []}
    rss: dict[str, list[float]] = {"--audio": [], "--no-audio": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for switch in ("--audio", "--no-audio"):
                render, _, peak = _generate_once(Path(tmp), prompt, switch)
                renders[switch].append(render)
                rss[switch].append(peak)
    runtime = Runtime.from_settings(Settings())
    request = VideoRequest(prompt=prompt, seed=SEED, audio=True)
    backend = SketchBackend()
    frames = list(backend.generate(request))
    synthesis = []
    for _ in range(runs):
        started = time.perf_counter()
        track = backend.soundtrack(request)
        synthesis.append(time.perf_counter() - started)
    muxing: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for audio in (False, True):
                started = time.perf_counter()
                with VideoWriter(
                    Path(tmp) / "floor.mp4",
                    width=request.width,
                    height=request.height,
                    fps=request.fps,
                    settings=runtime.encoder,
                    audio=audio,
                ) as writer:
                    if audio:
                        writer.provide_soundtrack(track)
                    for frame in frames:
                        writer.write(frame)
                muxing[audio].append(time.perf_counter() - started)
    loud, quiet = statistics.median(renders["--audio"]), statistics.median(renders["--no-audio"])
    mux_on, mux_off = statistics.median(muxing[True]), statistics.median(muxing[False])
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": runs,
        "render_with_sound_s": round(loud, 2),
        "render_without_sound_s": round(quiet, 2),
        "render_ratio": round(loud / quiet, 3),
        "peak_rss_with_sound_mb": round(statistics.median(rss["--audio"]), 1),
        "peak_rss_without_sound_mb": round(statistics.median(rss["--no-audio"]), 1),
        "encode_with_sound_s": round(mux_on, 2),
        "encode_without_sound_s": round(mux_off, 2),
        "muxing_ratio": round(mux_on / mux_off, 3),
        "synthesis_s": round(statistics.median(synthesis), 3),
        "all_render_s": {k: [round(v, 2) for v in vs] for k, vs in renders.items()},
        "all_rss_mb": {k: [round(v, 1) for v in vs] for k, vs in rss.items()},
        "all_encode_s": {str(k): [round(v, 2) for v in vs] for k, vs in muxing.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt", default=PROMPT, help="the scene to time")
    parser.add_argument("--sound", action="store_true", help="with and without sound instead")
    args = parser.parse_args()
    if args.sound:
        print(json.dumps(_sound(args.runs, args.prompt), indent=2))
        return
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
