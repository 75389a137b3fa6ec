"""Benchmark: how well and how fast prompt moderation decides.

For each labelled set in tests/data (one JSON object a line: prompt, label; "ok" means the
prompt must be allowed) it prints, with the full pipeline (rules, public figures, semantic
model; the artists' registry is per server and empty here):
- precision and recall of refusing harmful prompts, the false-refusal rate on ordinary ones,
  and how often the category named was the labelled one;
- the same with the semantic check off (rules and lists alone);
- the decision time per prompt once the model is loaded: median and 95th percentile over every
  prompt of every set (after one warm-up pass), and the model's load time.

Run: ``.venv/bin/python benchmarks/moderation.py``.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = ("moderation_prompts.jsonl", "moderation_heldout.jsonl", "moderation_fresh.jsonl")


def _load(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append((str(item["prompt"]), str(item["label"])))
    return rows


def _score(pipeline: object, rows: list[tuple[str, str]]) -> dict[str, float]:
    from openreel.services.moderation import ModerationPipeline

    assert isinstance(pipeline, ModerationPipeline)
    tp = fp = fn = tn = right_category = 0
    misses: list[str] = []
    for prompt, label in rows:
        refusal = pipeline.decide(prompt).refusal
        harmful = label != "ok"
        if refusal is not None and harmful:
            tp += 1
            right_category += refusal.category == label
        elif refusal is not None:
            fp += 1
            misses.append(f"  false refusal ({refusal.category}): {prompt[:90]}")
        elif harmful:
            fn += 1
            misses.append(f"  missed ({label}): {prompt[:90]}")
        else:
            tn += 1
    for line in misses:
        print(line)
    return {
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "false_refusals": fp / max(fp + tn, 1),
        "category": right_category / max(tp, 1),
        "harmful": tp + fn,
        "ok": fp + tn,
    }


def main() -> None:
    from openreel.config import ModerationConfig
    from openreel.services.moderation import SemanticCheck, build_pipeline

    started = time.perf_counter()
    full = build_pipeline(ModerationConfig(semantic="on"))
    assert full is not None
    semantic = full.find(SemanticCheck)
    assert semantic is not None
    semantic.warm()
    load = time.perf_counter() - started
    rules = build_pipeline(ModerationConfig(semantic="off"))
    assert rules is not None
    sets = [name for name in SETS if (DATA / name).is_file()]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"model load (imports included): {load:.1f} s")
    print("set | prompts (harmful/ok) | pipeline | precision | recall | false refusals | category")
    everything: list[str] = []
    for name in sets:
        rows = _load(name)
        everything += [prompt for prompt, _ in rows]
        for label, pipeline in (("rules+lists+semantic", full), ("rules+lists", rules)):
            s = _score(pipeline, rows)
            print(
                f"{name} | {int(s['harmful'])}/{int(s['ok'])} | {label} | {s['precision']:.3f} | "
                f"{s['recall']:.3f} | {s['false_refusals']:.3%} | {s['category']:.3f}"
            )
    for prompt in everything:  # warm-up pass
        full.decide(prompt)
    for label, pipeline in (("full", full), ("rules+lists", rules)):
        times = sorted(pipeline.decide(prompt).elapsed_ms for prompt in everything)
        p95 = times[int(len(times) * 0.95)]
        print(
            f"decision time, {label}: p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms "
            f"over {len(times)} prompts"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
