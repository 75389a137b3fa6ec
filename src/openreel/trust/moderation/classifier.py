"""The learned moderation classifier: weights over sentence embeddings, and its thresholds.

A multinomial logistic regression, or a small network with one hidden layer before it, turns
a prompt's embedding into one probability per policy category and one for harmless ("ok");
the shipped classifier mixes those with a linear model's over the prompt's character
n-grams (:mod:`.lexical`), which keeps the words an embedding blurs. It is trained on the labelled corpus beside this module
(``corpus.jsonl``) by :mod:`openreel.trust.moderation.training`, and refuses a prompt when a
category's probability reaches that category's threshold, chosen on a validation split the
weights never saw. Nearest-exemplar thresholds, which it replaces, held on the prompts they
were tuned on and let a third of new ones through.

The weights are plain arrays in ``classifier.npz`` (read with ``allow_pickle=False``, so the
file cannot carry code) and everything else in ``classifier.json``: the embedding model they
belong to, the corpus's SHA-256, the thresholds and the figures on the held-out authors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openreel.errors import ConfigurationError
from openreel.trust.moderation.lexical import Lexical

__all__ = [
    "CORPUS_FILE",
    "HARMLESS",
    "Classifier",
    "corpus_digest",
    "load_classifier",
    "save_classifier",
]

HARMLESS = "ok"
"""The label of prompts that may be generated."""
CORPUS_FILE = "corpus.jsonl"
WEIGHTS_FILE = "classifier.npz"
META_FILE = "classifier.json"


@dataclass(frozen=True)
class Classifier:
    """A trained classifier.

    Attributes:
        model: The embedding model's id (``embedding.MODELS``); the weights mean nothing over
            another model's vectors.
        labels: One per row of ``coef``: the categories and ``ok``.
        coef: Weights, one row per label.
        intercept: One bias per label.
        hidden_coef: The hidden layer's weights (units x dimensions; zero rows: none, the
            output reads the embedding itself).
        hidden_intercept: The hidden layer's biases.
        thresholds: Per category, the probability at or above which a prompt is refused.
        meta: The rest of ``classifier.json`` (corpus hash, splits, figures), for reports.
        lexical: The character n-gram model whose probabilities are mixed in, or None.
        lexical_weight: Its share of the mixed probabilities (0 to 1).
    """

    model: str
    labels: tuple[str, ...]
    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]
    thresholds: dict[str, float]
    meta: dict[str, Any]
    hidden_coef: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    hidden_intercept: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    lexical: Lexical | None = None
    lexical_weight: float = 0.0

    def probabilities(
        self, vectors: NDArray[np.float32], texts: Sequence[str] | None = None
    ) -> NDArray[np.float64]:
        """Softmax probabilities, one row per vector and one column per label; with a lexical
        model, mixed with its probabilities for ``texts`` (the same prompts' normalised text,
        which it then needs)."""
        probs = self._embedding_probabilities(vectors)
        if self.lexical is None:
            return probs
        if texts is None or len(texts) != len(probs):
            given = "no texts" if texts is None else f"{len(texts)} texts"
            raise ValueError(
                f"a classifier with a lexical model needs each vector's text: {given} for "
                f"{len(probs)} vectors"
            )
        mixed: NDArray[np.float64] = (
            1.0 - self.lexical_weight
        ) * probs + self.lexical_weight * self.lexical.probabilities(texts)
        return mixed

    def _embedding_probabilities(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        inputs = vectors.astype(np.float64)
        if self.hidden_coef.shape[0]:
            inputs = inputs @ self.hidden_coef.T.astype(np.float64) + self.hidden_intercept
            np.maximum(inputs, 0.0, out=inputs)  # ReLU
        logits = inputs @ self.coef.T.astype(np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def decide(
        self, vector: NDArray[np.float32], text: str | None = None
    ) -> tuple[str, float] | None:
        """The category furthest over its threshold and its probability, or None."""
        probs = self.probabilities(vector.reshape(1, -1), None if text is None else [text])[0]
        best: tuple[float, str, float] | None = None
        for label, prob in zip(self.labels, probs.tolist(), strict=True):
            threshold = self.thresholds.get(label)
            if threshold is None or prob < threshold:
                continue
            margin = prob - threshold
            if best is None or margin > best[0]:
                best = (margin, label, prob)
        return None if best is None else (best[1], best[2])


def corpus_digest(path: Path | None = None) -> str:
    """SHA-256 of the corpus file (the shipped one when ``path`` is None)."""
    if path is None:
        data = resources.files(__package__).joinpath(CORPUS_FILE).read_bytes()
    else:
        data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest()


def load_classifier(folder: Path | None = None) -> Classifier:
    """Reads the classifier (the shipped one when ``folder`` is None).

    Raises:
        ConfigurationError: A file is missing or does not hold a consistent classifier.
    """
    where = resources.files(__package__) if folder is None else None
    try:
        if where is not None:
            meta_text = where.joinpath(META_FILE).read_text("utf-8")
            with where.joinpath(WEIGHTS_FILE).open("rb") as handle:
                arrays = dict(np.load(handle, allow_pickle=False))
        else:
            assert folder is not None
            meta_text = (folder / META_FILE).read_text("utf-8")
            with (folder / WEIGHTS_FILE).open("rb") as handle:
                arrays = dict(np.load(handle, allow_pickle=False))
        meta = json.loads(meta_text)
        labels = tuple(str(label) for label in meta["labels"])
        coef = np.asarray(arrays["coef"], dtype=np.float32)
        intercept = np.asarray(arrays["intercept"], dtype=np.float32)
        hidden_coef = np.asarray(arrays.get("hidden_coef", np.zeros((0, 0))), dtype=np.float32)
        hidden_intercept = np.asarray(arrays.get("hidden_intercept", np.zeros(0)), np.float32)
        thresholds = {str(k): float(v) for k, v in meta["thresholds"].items()}
        model = str(meta["model"])
        lexical = (
            Lexical(
                labels=labels,
                vocabulary=tuple(str(gram) for gram in arrays["lexical_vocabulary"]),
                idf=np.asarray(arrays["lexical_idf"], dtype=np.float32),
                coef=np.asarray(arrays["lexical_coef"], dtype=np.float32),
                intercept=np.asarray(arrays["lexical_intercept"], dtype=np.float32),
            )
            if "lexical_coef" in arrays
            else None
        )
        if (lexical is None) != ("lexical_weight" not in meta):
            raise ValueError(
                "classifier.json and classifier.npz disagree on the lexical model (weight "
                f"{meta.get('lexical_weight')!r}, n-gram weights "
                f"{'present' if lexical else 'absent'}): train again"
            )
        lexical_weight = float(meta.get("lexical_weight", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"the moderation classifier cannot be read: {exc}") from None
    if coef.shape[0] != len(labels) or intercept.shape != (len(labels),):
        raise ConfigurationError(
            f"the moderation classifier's weights ({coef.shape}) do not match its "
            f"{len(labels)} labels"
        )
    if hidden_coef.shape[0] and (
        hidden_coef.shape[0] != coef.shape[1] or hidden_intercept.shape != (coef.shape[1],)
    ):
        raise ConfigurationError(
            f"the moderation classifier's hidden layer ({hidden_coef.shape}) does not match "
            f"its output weights ({coef.shape})"
        )
    if HARMLESS in thresholds or not set(thresholds) <= set(labels):
        raise ConfigurationError("the moderation classifier's thresholds name unknown labels")
    if lexical is not None and (
        lexical.coef.shape != (len(labels), len(lexical.vocabulary))
        or lexical.idf.shape != (len(lexical.vocabulary),)
        or lexical.intercept.shape != (len(labels),)
        or not 0.0 <= lexical_weight <= 1.0
    ):
        raise ConfigurationError(
            f"the moderation classifier's lexical model ({lexical.coef.shape} weights, "
            f"{len(lexical.vocabulary)} n-grams, weight {lexical_weight}) does not match its "
            f"{len(labels)} labels"
        )
    return Classifier(
        model,
        labels,
        coef,
        intercept,
        thresholds,
        meta,
        hidden_coef,
        hidden_intercept,
        lexical,
        lexical_weight,
    )


def save_classifier(classifier: Classifier, folder: Path) -> None:
    """Writes ``classifier.npz`` and ``classifier.json`` into ``folder`` (deterministic bytes:
    the same training gives the same files)."""
    meta = dict(classifier.meta)
    meta.update(
        model=classifier.model,
        labels=list(classifier.labels),
        thresholds=classifier.thresholds,
    )
    arrays: dict[str, Any] = {"coef": classifier.coef, "intercept": classifier.intercept}
    if classifier.hidden_coef.shape[0]:
        arrays.update(
            hidden_coef=classifier.hidden_coef, hidden_intercept=classifier.hidden_intercept
        )
    if classifier.lexical is not None:
        if classifier.lexical.labels != classifier.labels:
            raise ValueError(
                f"the lexical model's labels {classifier.lexical.labels} are not the "
                f"classifier's {classifier.labels}"
            )
        if not 0.0 <= classifier.lexical_weight <= 1.0:
            raise ValueError(f"lexical_weight must be 0 to 1, got {classifier.lexical_weight}")
        meta["lexical_weight"] = classifier.lexical_weight
        arrays.update(
            lexical_vocabulary=np.asarray(classifier.lexical.vocabulary, dtype=str),
            lexical_idf=classifier.lexical.idf,
            lexical_coef=classifier.lexical.coef,
            lexical_intercept=classifier.lexical.intercept,
        )
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    partial = folder / f".{WEIGHTS_FILE}.partial"
    with partial.open("wb") as handle:
        np.savez(handle, **arrays)
    partial.replace(weights)
    text = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (folder / META_FILE).write_text(text, "utf-8")
