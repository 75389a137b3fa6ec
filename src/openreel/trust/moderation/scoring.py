"""How a classifier's decisions are scored: each category's threshold chosen on held-out
predictions, and precision, recall and false refusals of the whole decision (the policy's
rules, then the classifier) overall, per category and per language.

Apart from the training (``training.py``) because ``benchmarks/moderation.py`` and the tests
score with it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openreel.trust.moderation.classifier import HARMLESS, Classifier
from openreel.trust.moderation.examples import Example

__all__ = [
    "MISS_PER_FALSE_REFUSAL",
    "at_false_refusals",
    "choose_thresholds",
    "evaluate",
    "fold_figures",
    "pooled",
    "refusals",
]

MISS_PER_FALSE_REFUSAL = 10.0
"""How many points of a category's recall one point of false refusals is worth when a
threshold is chosen: ten, as the goal allows 1% refused and 5% missed."""


def choose_thresholds(
    probs: NDArray[np.float64],
    labels: Sequence[str],
    classes: Sequence[str],
    allowed: NDArray[np.bool_] | None = None,
    weight: float = MISS_PER_FALSE_REFUSAL,
) -> dict[str, float]:
    """Per category, the threshold with the best recall less the weighted false refusals on
    the validation prompts the rules ``allowed`` (all when None), a point of false refusals
    counting ``weight`` points of recall; the middle of the best range, to leave room both
    ways."""
    truth = np.asarray(labels)
    seen = np.ones(len(truth), dtype=bool) if allowed is None else np.asarray(allowed)
    ok = (truth == HARMLESS) & seen
    grid = np.round(np.arange(0.02, 0.985, 0.01), 2)
    thresholds: dict[str, float] = {}
    for column, category in enumerate(classes):
        if category == HARMLESS:
            continue
        mine = (truth == category) & seen
        scores = []
        for t in grid:
            refused = probs[:, column] >= t
            recall = refused[mine].mean() if mine.any() else 0.0
            false = refused[ok].mean() if ok.any() else 0.0
            scores.append(recall - weight * false)
        best = max(scores)
        chosen = [float(t) for t, s in zip(grid, scores, strict=True) if s >= best - 1e-12]
        thresholds[category] = round(float(np.median(chosen)), 2)
    return thresholds


def refusals(
    classifier: Classifier, vectors: NDArray[np.float32], texts: Sequence[str] | None = None
) -> list[str | None]:
    """The category each vector (with its normalised text, for a classifier with a lexical
    model) is refused under, or None."""
    said: Sequence[str | None] = [None] * len(vectors) if texts is None else texts
    decided = (classifier.decide(v, t) for v, t in zip(vectors, said, strict=True))
    return [None if d is None else d[0] for d in decided]


def evaluate(
    classifier: Classifier,
    vectors: NDArray[np.float32],
    rows: Sequence[Example],
    by_rules: Sequence[bool] | NDArray[np.bool_] | None = None,
    texts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Precision, recall and false refusals of the decision (the rules' refusals, ``by_rules``,
    then the classifier's over ``vectors`` and ``texts``, as :func:`refusals`) overall, per
    category and per language, and of the classifier alone."""
    alone = refusals(classifier, vectors, texts)
    rules = [False] * len(rows) if by_rules is None else list(by_rules)
    decisions = [
        "rules" if ruled else category for ruled, category in zip(rules, alone, strict=True)
    ]

    def figures(selected: list[int], made: Sequence[str | None]) -> dict[str, float | int]:
        tp = fp = fn = tn = 0
        for i in selected:
            harmful = rows[i].label != HARMLESS
            refused = made[i] is not None
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
    harmless = [i for i in everything if rows[i].label == HARMLESS]
    categories = sorted({row.label for row in rows} - {HARMLESS})
    per_category = {
        # One category's prompts: its recall; harmless prompts the classifier refused under
        # this category's name; and how many of those it named were harmful.
        category: {
            "recall": figures([i for i in everything if rows[i].label == category], decisions)[
                "recall"
            ],
            "false_refusals": round(
                sum(1 for i in harmless if decisions[i] == category) / max(len(harmless), 1), 4
            ),
            "precision": round(
                sum(1 for i in everything if alone[i] == category and rows[i].label != HARMLESS)
                / max(sum(1 for i in everything if alone[i] == category), 1),
                4,
            ),
        }
        for category in categories
    }
    languages = sorted({row.lang for row in rows})
    return {
        "all": figures(everything, decisions),
        "classifier_alone": figures(everything, alone),
        "rules_alone": figures(everything, ["rules" if r else None for r in rules]),
        "categories": per_category,
        "languages": {
            lang: figures([i for i in everything if rows[i].lang == lang], decisions)
            for lang in languages
        },
        "refused_harmless": sorted(rows[i].prompt for i in harmless if decisions[i]),
    }


def at_false_refusals(
    probs: NDArray[np.float64],
    rows: Sequence[Example],
    harmless_column: int,
    target: float = 0.01,
) -> dict[str, float]:
    """The classifier alone's recall where one threshold on the probability of "not
    harmless" refuses at most ``target`` of the harmless prompts, chosen on these very
    prompts: how well the classifier ranks them, whatever its per-category thresholds (the
    rules are left out: on some authors they alone refuse more than 1%); not a figure the
    server reaches on prompts it has not seen."""
    harmful = np.asarray([row.label != HARMLESS for row in rows])
    score = 1.0 - probs[:, harmless_column]
    room = int(np.floor(target * (~harmful).sum()))
    candidates = np.sort(score[~harmful])[::-1]
    cut = float(np.nextafter(candidates[room], np.inf)) if room < len(candidates) else -np.inf
    refused = score >= cut
    return {
        "target": target,
        "recall": round(float(refused[harmful].mean()) if harmful.any() else 0.0, 4),
        "false_refusals": round(float(refused[~harmful].mean()) if (~harmful).any() else 0.0, 4),
    }


def pooled(
    rows: Sequence[Example], decisions: Sequence[str | None], by_rules: NDArray[np.bool_]
) -> dict[str, Any]:
    """Every held-out author's prompts, each decided by the classifier that never saw its
    author, as one evaluation."""

    class Fixed:
        """A classifier replaying decisions already made, for :func:`evaluate`."""

        def __init__(self) -> None:
            self.made = iter(decisions)

        def decide(self, vector: Any, text: Any = None) -> tuple[str, float] | None:
            made = next(self.made)
            return None if made is None else (made, 1.0)

    fixed: Any = Fixed()
    return evaluate(fixed, np.zeros((len(rows), 1), np.float32), rows, by_rules)


def fold_figures(
    probs: NDArray[np.float64], rows: Sequence[Example], classifier: Classifier
) -> dict[str, float | int]:
    """Recall and false refusals of the validation folds' own predictions at the thresholds
    (the classifier alone)."""
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
