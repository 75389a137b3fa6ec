"""The classifier's lexical half: character n-grams of the prompt's words, read linearly.

A sentence embedding places a prompt by its scene and loses the words that make it harmful:
"14/88", "sewerslide", "Molotow vor seiner Tür" read as a lettering, a montage and a doorway.
Character n-grams inside each word keep them, in any language and across spelling games, and a
linear model over them ranks prompts by authors it never saw about as well as the network over
the embedding; a mix of the two ranks better than either (benchmarks/README.md).

The features are scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
sublinear_tf=True)``, fitted by the training; the server computes the same numbers here in
numpy, from the vocabulary and weights in ``classifier.npz``, so it needs neither scikit-learn
nor a pickle (a test compares the two on the corpus).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["NGRAMS", "Lexical", "fit_lexical", "ngrams"]

NGRAMS = (2, 5)
"""The shortest and longest character n-grams, each word padded with a space either side."""
FEATURES = 50_000
"""The most frequent n-grams kept: the file stays a few MB (benchmarks/README.md)."""
C = 10.0
"""The logistic regression's inverse regularisation strength."""
_SPACES = re.compile(r"\s\s+")


def ngrams(text: str) -> list[str]:
    """The character n-grams of ``text``'s words, as scikit-learn's ``char_wb`` analyser
    gives them (lower-cased; a word shorter than an n-gram counted once)."""
    found: list[str] = []
    shortest, longest = NGRAMS
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(shortest, longest + 1):
            if len(padded) <= n:
                found.append(padded)
                break
            found.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return found


@dataclass(frozen=True)
class Lexical:
    """A fitted lexical model.

    Attributes:
        labels: One per row of ``coef`` (the network's labels, in the same order).
        vocabulary: The n-grams, in feature order.
        idf: Each n-gram's inverse document frequency.
        coef: Weights, one row per label.
        intercept: One bias per label.
    """

    labels: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: NDArray[np.float32]
    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {gram: i for i, gram in enumerate(self.vocabulary)})

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Softmax probabilities, one row per text and one column per label."""
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        logits = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        for row, text in enumerate(texts):
            counts = Counter(i for gram in ngrams(text) if (i := index.get(gram)) is not None)
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.asarray([1.0 + math.log(counts[c]) for c in columns.tolist()])
            weights = tf * self.idf[columns]
            weights /= np.linalg.norm(weights)
            logits[row] += self.coef[:, columns].astype(np.float64) @ weights
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return probs


def fit_lexical(texts: Sequence[str], labels: Sequence[str]) -> Lexical:
    """The n-gram features and a logistic regression over them (scikit-learn: training only;
    deterministic)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        min_df=2,
        sublinear_tf=True,
        max_features=FEATURES,
        dtype=np.float64,
    )
    features = vectoriser.fit_transform(list(texts))
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(features, list(labels))
    vocabulary = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.__getitem__)
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:
        # Two labels: scikit-learn keeps one row (the second label's log-odds); a softmax over
        # half of it either way gives the same probabilities, one row per label.
        coef = np.concatenate([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    return Lexical(
        labels=tuple(str(label) for label in model.classes_),
        vocabulary=tuple(vocabulary),
        idf=np.asarray(vectoriser.idf_, dtype=np.float32),
        coef=coef,
        intercept=intercept,
    )
