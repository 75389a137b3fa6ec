"""Benchmark: how long a full garbage collection holds a server's threads, before and after
``gc.freeze`` (what ``openreel serve`` does once it has started and loaded its models).

Builds what a server process holds (the CLI and API imports, and the semantic moderation
model, loaded and used once), then times ``gc.collect()`` (a full collection: what Python runs
now and then as objects pile up, with every thread waiting) a few times, freezes the heap and
times it again. Prints the tracked objects and the medians.

Run: ``.venv/bin/python benchmarks/gc_pause.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time

import openreel.cli  # noqa: F401  (what a server imports)
from openreel.trust.moderation.classifier import load_classifier
from openreel.trust.moderation.embedding import shared_embedder


def _collections(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    shared_embedder(load_classifier().model)(["a lighthouse on a stormy coast at dusk"])
    tracked = len(gc.get_objects())
    before = _collections(args.runs)
    gc.freeze()
    after = _collections(args.runs)
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "tracked_objects": tracked,
                "full_collection_median_ms": round(before, 1),
                "after_freeze_median_ms": round(after, 2),
                "frozen": gc.get_freeze_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
