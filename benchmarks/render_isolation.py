"""Benchmark: what other Python work in the same process costs a sketch render, and in another.

A server renders while it does other things: answers clients, checks the next prompt, writes
rows. This renders the whole-path video of benchmarks/api.py (1 s, 640x360, with previews,
label, C2PA signature and fingerprints) three ways, taking turns, each after the same pause:

- ``alone``: nothing else runs;
- ``thread``: a thread of this process runs ``--busy-ms`` of pure Python at the same time
  (it competes for the interpreter lock as well as for a core);
- ``process``: another process runs the same work (it competes for a core only);
- ``child``: the render itself goes to a render process (``services.render_process``, what
  the server does) while a thread of this process runs the same work.

With ``--pieces N`` the work comes in N equal pieces spread over the render (one every
``SPREAD_S / N``) instead of all at its start, where the render is one thread building its
first frame; ``--busy-ms 0`` compares a child's render alone with the same render in a thread.
Prints medians (ms) and each one's excess over ``alone``.

Run: ``.venv/bin/python benchmarks/render_isolation.py [--runs 15] [--busy-ms 30] [--pieces 1]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import baseline
from openreel.backends.sketch.backend import SketchBackend
from openreel.config import Settings
from openreel.runtime import Runtime
from openreel.services.render_process import RenderCall, RenderProcesses, render_in_thread

PAUSE_S = 0.1
SPREAD_S = 0.15
"""How long ``--pieces`` spreads the work over (about the whole video's render)."""


def busy(milliseconds: float) -> None:
    """Pure Python for ``milliseconds`` (holds the interpreter lock all along)."""
    end = time.perf_counter() + milliseconds / 1000
    total = 0
    while time.perf_counter() < end:
        for i in range(200):
            total += i * i


def busy_in_pieces(milliseconds: float, pieces: int) -> None:
    """``milliseconds`` of pure Python in ``pieces`` equal parts spread over ``SPREAD_S``."""
    for _ in range(pieces):
        busy(milliseconds / pieces)
        if pieces > 1:
            time.sleep(SPREAD_S / pieces)


def _busy_worker(orders: Any) -> None:
    while (order := orders.get()) is not None:
        busy_in_pieces(*order)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--busy-ms", type=float, default=30.0)
    parser.add_argument("--pieces", type=int, default=1, help="spread the work in N pieces")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="openreel-isolation-"))
    runtime = Runtime.from_settings(Settings(data_dir=folder / "data"))
    wanted = baseline.request()

    def call(name: str) -> RenderCall:
        return baseline.call(runtime, wanted, folder / f"{name}.mp4")

    orders: Any = multiprocessing.get_context("spawn").Queue()
    other = multiprocessing.get_context("spawn").Process(target=_busy_worker, args=(orders,))
    other.start()
    children = RenderProcesses((SketchBackend,))
    try:

        def quiet(_done: int, _total: int) -> None:
            return None

        def go_on() -> bool:
            return False

        # Warm-up: first-use imports here and in the child.
        render_in_thread(call("warm"), progress=quiet, cancelled=go_on)
        children.render(call("warm-child"), progress=quiet, cancelled=go_on)
        kinds = ("alone", "thread", "process", "child")
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for run in range(args.runs):
            for kind in kinds:
                time.sleep(PAUSE_S)
                started = time.perf_counter()
                helper = None
                if kind in ("thread", "child"):
                    helper = threading.Thread(
                        target=busy_in_pieces, args=(args.busy_ms, args.pieces)
                    )
                    helper.start()
                elif kind == "process":
                    orders.put((args.busy_ms, args.pieces))
                if kind == "child":
                    children.render(call(f"{kind}-{run}"), progress=quiet, cancelled=go_on)
                else:
                    render_in_thread(call(f"{kind}-{run}"), progress=quiet, cancelled=go_on)
                times[kind].append(time.perf_counter() - started)
                if helper is not None:
                    helper.join()
    finally:
        orders.put(None)
        other.join(10)
        children.close()
    medians = {kind: 1000 * statistics.median(values) for kind, values in times.items()}
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "runs": args.runs,
                "busy_ms": args.busy_ms,
                "pieces": args.pieces,
                "median_ms": {kind: round(value, 1) for kind, value in medians.items()},
                "excess_over_alone_ms": {
                    kind: round(value - medians["alone"], 1) for kind, value in medians.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
