"""Trains the moderation classifier on the corpus and writes its weights (deterministic).

Run ``python -m openreel.trust.moderation.training [--model ID] [--out FOLDER]`` after any
change to ``corpus.jsonl``; it rewrites ``classifier.npz`` and ``classifier.json`` beside it
(a test fails while the recorded corpus hash and the corpus differ). It needs scikit-learn
(the ``dev`` extra); the server needs only numpy to apply the result.

The corpus is split by author, never by prompt: one author's prompts share their wording, and
a split by prompt would score the classifier on phrasings it was trained on. Author d is the
test, never seen in training, whose figures are recorded (the honest estimate of prompts
nobody tuned it for). Authors a, b, c and e train the weights; each category's threshold is
chosen on their validation folds, one author at a time held out of a model trained on the
other three, so every threshold is set on wording its model never saw.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openreel.trust.moderation.classifier import (
    CORPUS_FILE,
    HARMLESS,
    Classifier,
    corpus_digest,
    save_classifier,
)
from openreel.trust.moderation.embedding import E5, Embedder, shared_embedder
from openreel.trust.moderation.normalise import normalise

__all__ = [
    "TEST",
    "TRAIN",
    "Example",
    "choose_thresholds",
    "evaluate",
    "fit",
    "load_corpus",
    "main",
    "train",
]

TRAIN = ("a", "b", "c", "e")
"""The authors whose prompts train the weights; each is also one validation fold."""
TEST = ("d",)
C = 8.0
"""Inverse regularisation strength: the vectors are unit length and close together, so the
weights must be large to separate them."""
MISS_PER_FALSE_REFUSAL = 10.0
"""How many points of a category's recall one point of false refusals is worth when a
threshold is chosen: ten, as the goal allows 1% refused and 5% missed."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt of the corpus."""

    prompt: str
    label: str
    topic: str
    lang: str
    author: str


def load_corpus(path: Path | None = None) -> list[Example]:
    """The corpus's prompts in file order (the shipped corpus when ``path`` is None)."""
    if path is None:
        text = resources.files(__package__).joinpath(CORPUS_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append(
                Example(
                    str(item["prompt"]),
                    str(item["label"]),
                    str(item.get("topic", item["label"])),
                    str(item.get("lang", "")),
                    str(item.get("author", "")),
                )
            )
    return rows


def fit(
    vectors: NDArray[np.float32], labels: Sequence[str]
) -> tuple[tuple[str, ...], NDArray[np.float32], NDArray[np.float32]]:
    """Multinomial logistic regression (scikit-learn, lbfgs: deterministic)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(vectors.astype(np.float64), list(labels))
    classes = tuple(str(label) for label in model.classes_)
    return (
        classes,
        np.asarray(model.coef_, dtype=np.float32),
        np.asarray(model.intercept_, dtype=np.float32),
    )


def choose_thresholds(
    probs: NDArray[np.float64], labels: Sequence[str], classes: Sequence[str]
) -> dict[str, float]:
    """Per category, the threshold with the best recall less the weighted false refusals on
    the validation prompts (the middle of the best range, to leave room both ways)."""
    truth = np.asarray(labels)
    ok = truth == HARMLESS
    grid = np.round(np.arange(0.02, 0.985, 0.01), 2)
    thresholds: dict[str, float] = {}
    for column, category in enumerate(classes):
        if category == HARMLESS:
            continue
        mine = truth == category
        scores = []
        for t in grid:
            refused = probs[:, column] >= t
            recall = refused[mine].mean() if mine.any() else 0.0
            false = refused[ok].mean() if ok.any() else 0.0
            scores.append(recall - MISS_PER_FALSE_REFUSAL * false)
        best = max(scores)
        chosen = [float(t) for t, s in zip(grid, scores, strict=True) if s >= best - 1e-12]
        thresholds[category] = round(float(np.median(chosen)), 2)
    return thresholds


def evaluate(
    classifier: Classifier, vectors: NDArray[np.float32], rows: Sequence[Example]
) -> dict[str, Any]:
    """Precision, recall and false refusals overall, per category and per language."""
    decisions = [classifier.decide(vector) for vector in vectors]

    def figures(selected: list[int]) -> dict[str, float | int]:
        tp = fp = fn = tn = 0
        for i in selected:
            harmful = rows[i].label != HARMLESS
            refused = decisions[i] is not None
            tp += harmful and refused
            fp += (not harmful) and refused
            fn += harmful and not refused
            tn += (not harmful) and not refused
        return {
            "harmful": tp + fn,
            "ok": fp + tn,
            "precision": round(tp / max(tp + fp, 1), 4),
            "recall": round(tp / max(tp + fn, 1), 4),
            "false_refusals": round(fp / max(fp + tn, 1), 4),
        }

    everything = list(range(len(rows)))
    categories = sorted({row.label for row in rows} - {HARMLESS})
    per_category = {
        # One category's prompts and every harmless one: its recall, and how many harmless
        # prompts the classifier refused under this category's name.
        category: {
            "recall": figures([i for i in everything if rows[i].label == category])["recall"],
            "false_refusals": round(
                sum(
                    1
                    for i in everything
                    if rows[i].label == HARMLESS and (decisions[i] or ("", 0))[0] == category
                )
                / max(sum(1 for row in rows if row.label == HARMLESS), 1),
                4,
            ),
            "precision": _precision(category, rows, decisions),
        }
        for category in categories
    }
    languages = sorted({row.lang for row in rows})
    return {
        "all": figures(everything),
        "categories": per_category,
        "languages": {
            lang: figures([i for i in everything if rows[i].lang == lang]) for lang in languages
        },
        "refused_harmless": sorted(
            rows[i].prompt for i in everything if rows[i].label == HARMLESS and decisions[i]
        ),
    }


def _precision(
    category: str, rows: Sequence[Example], decisions: Sequence[tuple[str, float] | None]
) -> float:
    named = [i for i, d in enumerate(decisions) if d is not None and d[0] == category]
    harmful = sum(1 for i in named if rows[i].label != HARMLESS)
    return round(harmful / max(len(named), 1), 4)


def train(
    rows: Sequence[Example],
    embed: Embedder,
    *,
    model: str,
    corpus_sha256: str,
) -> Classifier:
    """Thresholds on the training authors' validation folds, weights on all of them, figures
    on the test author; everything the classifier file records."""
    # The check embeds the normalised view (trust/moderation/semantic.py): train on the same.
    vectors = _embed_all(embed, [normalise(row.prompt).decoded for row in rows])
    labels = [row.label for row in rows]
    fitted = [i for i, row in enumerate(rows) if row.author in TRAIN]
    test = [i for i, row in enumerate(rows) if row.author in TEST]
    # Validation folds: each training author held out of a model fitted on the others.
    held: list[int] = []
    held_probs: list[NDArray[np.float64]] = []
    classes: tuple[str, ...] = ()
    for author in TRAIN:
        inside = [i for i in fitted if rows[i].author != author]
        outside = [i for i in fitted if rows[i].author == author]
        classes, coef, intercept = fit(vectors[inside], [labels[i] for i in inside])
        fold = Classifier(model, classes, coef, intercept, {}, {})
        held += outside
        held_probs.append(fold.probabilities(vectors[outside]))
    thresholds = choose_thresholds(np.concatenate(held_probs), [labels[i] for i in held], classes)
    classes, coef, intercept = fit(vectors[fitted], [labels[i] for i in fitted])
    classifier = Classifier(model, classes, coef, intercept, thresholds, {})
    meta = {
        "corpus": CORPUS_FILE,
        "corpus_sha256": corpus_sha256,
        "corpus_prompts": len(rows),
        "authors": {"train": list(TRAIN), "test": list(TEST)},
        "C": C,
        "test": evaluate(classifier, vectors[test], [rows[i] for i in test]),
        "validation_folds": _fold_figures(
            np.concatenate(held_probs), [rows[i] for i in held], classifier
        ),
    }
    return Classifier(model, classes, coef, intercept, thresholds, meta)


def _fold_figures(
    probs: NDArray[np.float64], rows: Sequence[Example], classifier: Classifier
) -> dict[str, float | int]:
    """Recall and false refusals of the validation folds' own predictions at the thresholds."""
    column = {label: i for i, label in enumerate(classifier.labels)}
    refused = np.zeros(len(rows), dtype=bool)
    for category, threshold in classifier.thresholds.items():
        refused |= probs[:, column[category]] >= threshold
    harmful = np.asarray([row.label != HARMLESS for row in rows])
    return {
        "harmful": int(harmful.sum()),
        "ok": int((~harmful).sum()),
        "recall": round(float(refused[harmful].mean()), 4),
        "false_refusals": round(float(refused[~harmful].mean()), 4),
    }


def _embed_all(embed: Embedder, texts: list[str], batch: int = 64) -> NDArray[np.float32]:
    parts = [embed(texts[start : start + batch]) for start in range(0, len(texts), batch)]
    return np.concatenate(parts).astype(np.float32)


def _cached(embed: Embedder, path: Path, key: str) -> Embedder:
    """``embed``, whose answers for one whole run are kept in ``path`` under ``key``."""
    stored: dict[str, NDArray[np.float32]] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) == key:
                stored = {str(t): v for t, v in zip(data["texts"], data["vectors"], strict=True)}
    fresh: dict[str, NDArray[np.float32]] = {}

    def cached(texts: Sequence[str]) -> NDArray[np.float32]:
        missing = [t for t in texts if t not in stored and t not in fresh]
        if missing:
            fresh.update(zip(missing, embed(missing), strict=True))
            every = {**stored, **fresh}
            with path.open("wb") as handle:
                np.savez(
                    handle,
                    key=np.array(key),
                    texts=np.array(list(every)),
                    vectors=np.stack(list(every.values())),
                )
        return np.stack([stored[t] if t in stored else fresh[t] for t in texts])

    return cached


def main(
    argv: Sequence[str] | None = None, embedder: Callable[[str], Embedder] | None = None
) -> int:
    """Trains over ``--model`` and writes the classifier (the package's own by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=E5, help="embedding model id (default %(default)s)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus (default: shipped)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the package)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the corpus's vectors in this .npy file and reuse them while the corpus and "
        "the model are the same (to try settings quickly)",
    )
    args = parser.parse_args(argv)
    rows = load_corpus(args.corpus)
    embed = (embedder or shared_embedder)(args.model)
    if args.cache is not None:
        embed = _cached(embed, args.cache, f"{args.model}:{corpus_digest(args.corpus)}")
    classifier = train(rows, embed, model=args.model, corpus_sha256=corpus_digest(args.corpus))
    out = args.out or Path(str(resources.files(__package__)))
    save_classifier(classifier, out)
    test = classifier.meta["test"]["all"]
    print(
        f"{len(rows)} prompts, model {args.model}: held-out author recall {test['recall']:.3f}, "
        f"false refusals {test['false_refusals']:.2%}; thresholds {classifier.thresholds}; "
        f"written to {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
