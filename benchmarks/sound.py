"""Benchmark: the sketch soundscape of a 10-second clip, side by side with drawing its frames.

For the README's storm prompt (rain, lightning and thunder, surf, a push-in) and for a busy city
(three cars, a train, birds), at 1920x1080 and 24 fps, prints as medians of several runs:
- render: CPU seconds to draw the 240 frames (no encoding);
- sound: seconds of ``soundscape()`` for the same 240 frames, handed the renderer (how the
  backend can call it) and building its own;
- their ratio, which is what sound adds to a video's drawing time at most (encoding excluded);
- the peak memory ``soundscape()`` allocates (tracemalloc), with and without the renderer.

Run: ``.venv/bin/python benchmarks/sound.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc

from openreel.backends.sketch.plan import Pace, ScenePlan, Setting, Subject, SubjectKind
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound import soundscape
from openreel.backends.sketch.understand import understand

W, H, FPS, FRAMES, SEED = 1920, 1080, 24, 240, 7
SCENES = {
    "storm": understand("a lighthouse on a stormy coast at dusk, slow push-in"),
    "city": ScenePlan(
        setting=Setting.CITY,
        pace=Pace.FAST,
        subjects=(
            Subject(SubjectKind.CAR, 3),
            Subject(SubjectKind.TRAIN),
            Subject(SubjectKind.BIRDS, 2),
        ),
    ),
}


def _renderer(plan: ScenePlan) -> SceneRenderer:
    return SceneRenderer(plan, width=W, height=H, fps=FPS, frames=FRAMES, seed=SEED)


def _render(plan: ScenePlan) -> float:
    started = time.process_time()
    renderer = _renderer(plan)
    for index in range(FRAMES):
        renderer.render(index)
    return time.process_time() - started


def _sound(plan: ScenePlan, renderer: SceneRenderer | None) -> tuple[float, float]:
    """(CPU seconds, peak MB allocated) of one soundscape call."""
    tracemalloc.start()
    started = time.process_time()
    soundscape(
        plan,
        width=W,
        height=H,
        fps=FPS,
        start_frame=0,
        frames=FRAMES,
        seed=SEED,
        renderer=renderer,
    )
    took = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return took, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "runs": args.runs,
    }
    for name, plan in SCENES.items():
        renders, given, own, given_mb, own_mb = [], [], [], [], []
        for _ in range(args.runs):  # alternate, so load drifts hit both alike
            renders.append(_render(plan))
            seconds, peak = _sound(plan, _renderer(plan))
            given.append(seconds)
            given_mb.append(peak)
            seconds, peak = _sound(plan, None)
            own.append(seconds)
            own_mb.append(peak)
        render = statistics.median(renders)
        report[name] = {
            "render_cpu_s": round(render, 3),
            "sound_with_renderer_cpu_s": round(statistics.median(given), 3),
            "sound_own_renderer_cpu_s": round(statistics.median(own), 3),
            "sound_over_render": round(statistics.median(given) / render, 4),
            "sound_own_over_render": round(statistics.median(own) / render, 4),
            "sound_peak_mb_with_renderer": round(max(given_mb), 1),
            "sound_peak_mb_own_renderer": round(max(own_mb), 1),
            "all_render_s": [round(v, 2) for v in renders],
            "all_sound_s": [round(v, 3) for v in given],
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
