"""Trains the moderation classifier on the corpus and writes its weights (deterministic).

Run ``OMP_NUM_THREADS=1 python -m openreel.trust.moderation.training
--miss-per-false-refusal 80 [--kind mlp|lr] [--out FOLDER]`` after any change to
``corpus.jsonl``; it rewrites ``classifier.npz``, ``classifier.json`` and the harmful
examples' vectors (``neighbours.npz``, :mod:`.neighbours`) beside it (a test fails while the
recorded corpus hash and the corpus differ). It needs torch and scikit-learn (the ``dev``
extra: the logistic regressions and the character n-grams); the server needs numpy and, for
the model, torch.

The corpus is split by author, never by prompt: one author's prompts share their wording, and
a split by prompt would score the classifier on phrasings it was trained on. Authors a to e
are templates (a few hundred descriptions, each framed several ways); f to j, l to o and q to
v wrote freely, each in their own voice (k, p, w and x wrote the first-sight sets in
``tests/data``, never trained on). The figures recorded are first-sight figures: each group of freeform authors
(:data:`HELD_OUT`) in turn is held out of a classifier trained on every other author,
thresholds included, and scored (the whole decision: the policy's rules first, then the
classifier). The shipped classifier is then trained on everyone. Each category's threshold is
chosen on those held-out groups' probabilities (each from weights that never saw its authors),
over the prompts the rules let through, as the classifier only ever sees those; a held-out
group's own figures use thresholds chosen on the other groups, never on itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import replace
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
from openreel.trust.moderation.embedding import (
    E5_LAYERS,
    SENTENCE_WIDTH,
    Embedder,
    shared_embedder,
)
from openreel.trust.moderation.examples import Example, load_corpus
from openreel.trust.moderation.lexical import NGRAMS, fit_lexical
from openreel.trust.moderation.neighbours import build_neighbours, save_neighbours
from openreel.trust.moderation.normalise import normalise
from openreel.trust.moderation.scoring import (
    MISS_PER_FALSE_REFUSAL,
    at_false_refusals,
    choose_thresholds,
    evaluate,
    fold_figures,
    pooled,
    refusals,
)

__all__ = [
    "FREEFORM",
    "HELD_OUT",
    "TEMPLATES",
    "FrozenFeatures",
    "fit",
    "main",
    "policy_rules",
    "remembered",
    "train",
]

TEMPLATES = ("a", "b", "c", "d", "e")
"""Authors whose prompts are templates: always in training."""
FREEFORM = ("f", "g", "h", "i", "j", "l", "m", "n", "o", "q", "r", "s", "t", "u", "v")
"""Authors who wrote freely (k, p, w and x wrote the first-sight sets in tests/data, never
trained on)."""
HELD_OUT = ("fimqt", "gjnru", "hlosv")
"""The freeform authors held out together, in turn, for the recorded figures: three groups
(each mixing earlier and later authors, the German-only t and the French-only u apart), so
the classifier is fitted four times, not sixteen."""
KIND = "mlp"
"""``lr`` (multinomial logistic regression over the embedding) or ``mlp`` (one hidden layer
over it: the shipped one, best on the held-out authors; benchmarks/README.md)."""
C = 8.0
"""Inverse regularisation strength: the vectors are unit length and close together, so the
weights must be large to separate them."""
HIDDEN = 256
DROPOUT = 0.2
WEIGHT_DECAY = 1e-4
NETWORK_EPOCHS = 100
"""The network's hidden units, the dropout after them and its decoupled weight decay, and
its passes over the corpus, when ``KIND`` is ``mlp`` (chosen on the held-out authors:
benchmarks/README.md)."""
LEXICAL_WEIGHT = 0.6
"""The character n-gram model's share of the shipped classifier's probabilities (the
network's is the rest), chosen on the held-out authors (:mod:`.lexical`)."""


def fit(vectors: NDArray[np.float32], labels: Sequence[str], kind: str = KIND) -> Classifier:
    """The weights, with no thresholds yet (deterministic)."""
    if kind == "mlp":
        return fit_network(vectors, labels)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(vectors.astype(np.float64), list(labels))
    return Classifier(
        "",
        tuple(str(label) for label in model.classes_),
        np.asarray(model.coef_, dtype=np.float32),
        np.asarray(model.intercept_, dtype=np.float32),
        {},
        {},
    )


def fit_network(vectors: NDArray[np.float32], labels: Sequence[str], seed: int = 0) -> Classifier:
    """One hidden layer of ReLU units with dropout, trained by AdamW in batches of 128.

    torch rather than scikit-learn's MLPClassifier: the same network fitted in seconds, not
    the quarter of an hour scikit-learn's float64 solver took on the corpus, and with the
    dropout that made it rank held-out authors better. One thread and fixed seeds: the same
    corpus gives the same weights.
    """
    import torch

    classes = tuple(sorted(set(labels)))
    column = {label: n for n, label in enumerate(classes)}
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        order = torch.Generator().manual_seed(seed)
        inputs = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        truth = torch.tensor([column[label] for label in labels])
        hidden = torch.nn.Linear(inputs.shape[1], HIDDEN)
        output = torch.nn.Linear(HIDDEN, len(classes))
        network = torch.nn.Sequential(hidden, torch.nn.ReLU(), torch.nn.Dropout(DROPOUT), output)
        optimiser = torch.optim.AdamW(network.parameters(), lr=1e-3, weight_decay=WEIGHT_DECAY)
        network.train()
        for _epoch in range(NETWORK_EPOCHS):
            shuffled = torch.randperm(len(inputs), generator=order)
            for start in range(0, len(inputs), 128):
                batch = shuffled[start : start + 128]
                loss: Any = torch.nn.functional.cross_entropy(network(inputs[batch]), truth[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    finally:
        torch.set_num_threads(before)

    def array(parameter: Any) -> NDArray[np.float32]:
        return np.asarray(parameter.detach().numpy(), dtype=np.float32)

    return Classifier(
        "",
        classes,
        array(output.weight),
        array(output.bias),
        {},
        {},
        array(hidden.weight),
        array(hidden.bias),
    )


def policy_rules() -> Callable[[str], bool]:
    """Whether the built-in policy's rules and name lists refuse a prompt (they run before
    the classifier)."""
    from openreel.trust.moderation.names import NameCheck
    from openreel.trust.moderation.pipeline import ModerationPipeline
    from openreel.trust.moderation.policy import load_policy
    from openreel.trust.moderation.rules import RuleCheck

    policy = load_policy()
    pipeline = ModerationPipeline([RuleCheck(policy), NameCheck(policy.public_figures)])
    return lambda prompt: pipeline.decide(prompt).refusal is not None


class FrozenFeatures:
    """One vector a prompt from a fixed embedding model; ``kind`` is ``lr`` or ``mlp``; with a
    ``lexical_weight`` over 0, a lexical model over the prompts' ``texts`` beside it
    (:mod:`.lexical`)."""

    def __init__(
        self,
        vectors: NDArray[np.float32],
        labels: Sequence[str],
        kind: str,
        texts: Sequence[str] = (),
        lexical_weight: float = 0.0,
    ) -> None:
        self.vectors, self.labels, self.kind = vectors, list(labels), kind
        self.texts, self.lexical_weight = list(texts), lexical_weight

    def fold(
        self, inside: Sequence[int], outside: Sequence[int]
    ) -> tuple[Classifier, NDArray[np.float32]]:
        """The weights over the ``inside`` prompts, and the ``outside`` vectors."""
        return self._fit(list(inside)), self.vectors[list(outside)]

    def final(self) -> Classifier:
        """The weights over every prompt."""
        return self._fit(list(range(len(self.labels))))

    def _fit(self, chosen: list[int]) -> Classifier:
        labels = [self.labels[i] for i in chosen]
        weights = fit(self.vectors[chosen], labels, self.kind)
        if self.lexical_weight <= 0.0:
            return weights
        lexical = fit_lexical([self.texts[i] for i in chosen], labels)
        if lexical.labels != weights.labels or lexical.coef.shape[0] != len(weights.labels):
            raise ValueError(
                f"the lexical model's labels {lexical.labels} ({lexical.coef.shape[0]} rows) "
                f"are not the network's {weights.labels}"
            )
        return replace(weights, lexical=lexical, lexical_weight=self.lexical_weight)


def train(
    rows: Sequence[Example],
    embed: Embedder,
    *,
    model: str,
    corpus_sha256: str,
    rules: Callable[[str], bool] | None = None,
    weight: float = MISS_PER_FALSE_REFUSAL,
    kind: str = "lr",
    lexical_weight: float = 0.0,
) -> Classifier:
    """Each group of freeform authors held out in turn (first-sight figures), then the
    classifier on every author; everything the classifier file records. The classifier is
    fitted over ``embed``'s vectors (a ``kind`` of classifier: ``lr`` or ``mlp``). ``rules`` says which prompts the policy's rules refuse
    before the classifier (none when None); ``weight`` is how many points of recall a point
    of false refusals costs when thresholds are chosen; ``lexical_weight`` over 0 mixes a
    lexical model in (:class:`FrozenFeatures`)."""
    # The check reads the normalised view (trust/moderation/semantic.py): train on it.
    texts = [normalise(row.prompt).decoded for row in rows]
    features = FrozenFeatures(
        _embed_all(embed, texts), [row.label for row in rows], kind, texts, lexical_weight
    )
    by_rules = np.asarray([rules(row.prompt) if rules else False for row in rows], dtype=bool)
    labels = [row.label for row in rows]
    present = sorted({row.author for row in rows})
    groups = held_out_groups(present)
    # Each held-out group's probabilities, from weights fitted on every other author.
    folds: dict[str, tuple[list[int], Classifier, NDArray[np.float32]]] = {}
    for group in groups:
        inside = [i for i, row in enumerate(rows) if row.author not in group]
        outside = [i for i, row in enumerate(rows) if row.author in group]
        weights, seen = features.fold(inside, outside)
        folds[group] = (outside, weights, seen)
    probabilities = {
        group: weights.probabilities(seen, [texts[i] for i in outside])
        for group, (outside, weights, seen) in folds.items()
    }

    def thresholds_from(chosen_groups: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
        chosen = [i for g in chosen_groups for i in folds[g][0]]
        if not chosen:
            return {}
        probs = np.concatenate([probabilities[g] for g in chosen_groups])
        truth = [labels[i] for i in chosen]
        return choose_thresholds(probs, truth, classes, ~by_rules[chosen], weight)

    heldout: dict[str, Any] = {}
    first_sight: list[int] = []
    first_sight_decisions: list[str | None] = []
    for group, (outside, weights, seen) in folds.items():
        # Its thresholds come from the other held-out groups' folds, never from its own.
        others = [g for g in groups if g != group] or [group]
        classifier = _with(weights, model, thresholds_from(others, weights.labels), {})
        said = [texts[i] for i in outside]
        heldout[group] = evaluate(
            classifier, seen, [rows[i] for i in outside], by_rules[outside], said
        )
        heldout[group]["thresholds"] = classifier.thresholds
        first_sight += outside
        first_sight_decisions += refusals(classifier, seen, said)
    weights = features.final()
    thresholds = thresholds_from(groups, weights.labels)
    held = [i for g in groups for i in folds[g][0]]
    meta = {
        "corpus": CORPUS_FILE,
        "corpus_sha256": corpus_sha256,
        "corpus_prompts": len(rows),
        "authors": {"all": present, "held_out_in_groups": groups},
        "kind": kind,
        "C": C,
        "hidden": HIDDEN if kind == "mlp" else 0,
        "lexical": {"ngrams": list(NGRAMS), "features": weights.lexical.coef.shape[1]}
        if weights.lexical is not None
        else None,
        "miss_per_false_refusal": weight,
        "test": pooled(
            [rows[i] for i in first_sight], first_sight_decisions, by_rules[first_sight]
        ),
        "held_out": heldout,
        "validation_folds": fold_figures(
            np.concatenate([probabilities[g] for g in groups]),
            [rows[i] for i in held],
            _with(weights, model, thresholds, {}),
        ),
        "at_one_percent": at_false_refusals(
            np.concatenate([probabilities[g] for g in groups]),
            [rows[i] for i in held],
            list(weights.labels).index(HARMLESS),
        ),
    }
    return _with(weights, model, thresholds, meta)


def held_out_groups(present: Sequence[str]) -> list[str]:
    """The groups of freeform authors held out together (:data:`HELD_OUT`), each limited to
    the authors ``present``; the last author alone when no freeform author is."""
    groups = ["".join(a for a in group if a in present) for group in HELD_OUT]
    return [group for group in groups if group] or list(present[-1:])


def _with(
    weights: Classifier, model: str, thresholds: dict[str, float], meta: dict[str, Any]
) -> Classifier:
    return replace(weights, model=model, thresholds=thresholds, meta=meta)


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


def remembered(embed: Embedder) -> Embedder:
    """``embed``, answering a text it has seen from memory for the rest of the run."""
    seen: dict[str, NDArray[np.float32]] = {}

    def recall(texts: Sequence[str]) -> NDArray[np.float32]:
        missing = list(dict.fromkeys(t for t in texts if t not in seen))
        if missing:
            seen.update(zip(missing, embed(missing), strict=True))
        return np.stack([seen[t] for t in texts])

    return recall


def main(
    argv: Sequence[str] | None = None, embedder: Callable[[str], Embedder] | None = None
) -> int:
    """Trains and writes the classifier (the package's own by default) over ``--model``'s
    vectors, with the examples' vectors for the audit beside it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kind",
        choices=("lr", "mlp"),
        default=KIND,
        help="the classifier over the embedding: a logistic regression or a network with one "
        "hidden layer (default %(default)s)",
    )
    parser.add_argument(
        "--model", default=E5_LAYERS, help="embedding model id (default %(default)s)"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="corpus (default: shipped)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the package)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the corpus's vectors in this .npy file and reuse them while the corpus and "
        "the model are the same (to try settings quickly)",
    )
    parser.add_argument(
        "--lexical-weight",
        type=float,
        default=LEXICAL_WEIGHT,
        help="the character n-gram model's share of the probabilities, 0 for none "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--miss-per-false-refusal",
        type=float,
        default=MISS_PER_FALSE_REFUSAL,
        help="points of recall one point of false refusals costs when thresholds are chosen "
        "(default %(default)s)",
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.lexical_weight <= 1.0:
        parser.error(f"--lexical-weight must be 0 to 1, got {args.lexical_weight}")
    rows = load_corpus(args.corpus)
    out = args.out or Path(str(resources.files(__package__)))
    digest = corpus_digest(args.corpus)
    embed = (embedder or shared_embedder)(args.model)
    if args.cache is not None:
        embed = _cached(embed, args.cache, f"{args.model}:{digest}")
    embed = remembered(embed)  # the neighbours below reuse the training's vectors
    classifier = train(
        rows,
        embed,
        model=args.model,
        corpus_sha256=digest,
        rules=policy_rules(),
        weight=args.miss_per_false_refusal,
        kind=args.kind,
        lexical_weight=args.lexical_weight,
    )
    save_classifier(classifier, out)
    vectors = _embed_all(embed, [normalise(row.prompt).decoded for row in rows])
    save_neighbours(
        build_neighbours(
            rows, vectors, model=args.model, corpus_sha256=digest, tail=SENTENCE_WIDTH
        ),
        out,
    )
    test = classifier.meta["test"]["all"]
    print(
        f"{len(rows)} prompts, {args.kind} over {classifier.model}: held-out authors (rules, "
        f"then the classifier) recall {test['recall']:.3f}, false refusals "
        f"{test['false_refusals']:.2%}; thresholds {classifier.thresholds}; written to {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
