"""The semantic check: a learned classifier over the prompt's embedding and its words.

Rules see words; people who want a refused video through rephrase ("without any clothes on",
"ending their own life"), write in another language or in slang. The check embeds the
normalised prompt with a small offline sentence-embedding model (:mod:`.embedding`) and asks
the trained classifier (:mod:`.classifier`, which also reads the prompt's character n-grams:
:mod:`.lexical`) how likely each policy category is; a category at
or over its threshold refuses, and the refusal names the category, the threshold and the
probability; its audit row also keeps the corpus examples of that category nearest the prompt
(:mod:`.neighbours`).

Only categories the policy in force still lists are refused: an operator who removes a
category from the policy file removes it here too. An operator's own categories, which the
classifier was never trained on, may give ``exemplars`` and a ``threshold``: a prompt whose
cosine similarity to one of them reaches the threshold is refused under that category.

The model is an optional extra (``pip install 'openreel[moderation]'``). It is loaded once
per process, lazily, on first use or by :meth:`SemanticCheck.warm` at server start, never at
import; nothing is downloaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openreel.errors import ConfigurationError
from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.classifier import Classifier, load_classifier
from openreel.trust.moderation.embedding import (
    SENTENCE_WIDTH,
    Embedder,
    Vectors,
    missing_message,
    model_available,
    shared_embedder,
)
from openreel.trust.moderation.neighbours import Neighbours, load_neighbours
from openreel.trust.moderation.normalise import Prompt
from openreel.trust.moderation.policy import Policy

__all__ = ["SemanticCheck", "semantic_available"]

log = logging.getLogger(__name__)


def semantic_available(classifier: Classifier | None = None) -> bool:
    """Whether the shipped classifier's embedding model is installed (nothing imported)."""
    return model_available((classifier or load_classifier()).model)


def semantic_missing(classifier: Classifier | None = None) -> str:
    """What to install for the shipped classifier's embedding model."""
    return missing_message((classifier or load_classifier()).model)


@dataclass(frozen=True, slots=True)
class _Ready:
    embed: Embedder
    classifier: Classifier
    thresholds: dict[str, float]  # the classifier's, for the categories the policy lists
    exemplars: Vectors  # the operator's own categories' exemplars, one row each
    exemplar_categories: tuple[str, ...]
    neighbours: Neighbours


class SemanticCheck:
    """Refuses prompts the classifier places in a policy category.

    Args:
        policy: The categories in force (their reasons; operator categories' exemplars).
        classifier: Returns the trained classifier; the shipped one by default.
        embedder: Returns the embedding function for a model id; the shared model by default.
        neighbours: Returns the corpus examples' vectors (the shipped ones by default), which
            must come from the classifier's embedding model.
    """

    def __init__(
        self,
        policy: Policy,
        classifier: Callable[[], Classifier] = load_classifier,
        embedder: Callable[[str], Embedder] = shared_embedder,
        neighbours: Callable[[], Neighbours] = load_neighbours,
    ) -> None:
        self._policy = policy
        self._classifier_factory = classifier
        self._embedder_factory = embedder
        self._neighbours_factory = neighbours
        self._lock = threading.Lock()
        self._ready: _Ready | None = None

    @property
    def name(self) -> str:
        """``semantic``."""
        return "semantic"

    def warm(self) -> None:
        """Loads the classifier and the model now (the server does this at start-up).

        Raises:
            ConfigurationError: The model is not installed or the classifier is unreadable.
        """
        self._load()

    def scores(self, prompt: Prompt) -> dict[str, float]:
        """The classifier's probability of each category the policy lists, and the highest
        similarity to each operator category's exemplars."""
        ready = self._load()
        return self._scores(ready, ready.embed([prompt.decoded])[0], prompt.decoded)

    def check(self, prompt: Prompt) -> Refusal | None:
        """Refuses with the category furthest over its threshold, or returns None."""
        ready = self._load()
        vector = ready.embed([prompt.decoded])[0]
        over: list[tuple[float, str, float, str]] = []
        for category, score in self._scores(ready, vector, prompt.decoded).items():
            if category in ready.thresholds:
                threshold = ready.thresholds[category]
                rule = f"classifier:{category}@{threshold}"
            else:
                threshold = self._policy.categories[category].threshold
                rule = f"exemplars:{category}@{threshold}"
            if score >= threshold:
                over.append((score - threshold, category, score, rule))
        if not over:
            return None
        _, category, score, rule = max(over)
        return Refusal(
            category,
            self._policy.categories[category].reason,
            self.name,
            score=round(score, 3),
            rule=rule,
            nearest=ready.neighbours.nearest(vector, category),
        )

    @staticmethod
    def _scores(ready: _Ready, vector: Vectors, text: str) -> dict[str, float]:
        probs = ready.classifier.probabilities(vector.reshape(1, -1), [text])[0]
        scores = {
            label: float(prob)
            for label, prob in zip(ready.classifier.labels, probs.tolist(), strict=True)
            if label in ready.thresholds
        }
        if ready.exemplar_categories:
            # Cosine over the model's own sentence vector, which a layered vector ends with.
            sentence = vector[-ready.exemplars.shape[1] :]
            for category, value in zip(
                ready.exemplar_categories, (ready.exemplars @ sentence).tolist(), strict=True
            ):
                scores[category] = max(scores.get(category, -1.0), float(value))
        return scores

    def _load(self) -> _Ready:
        ready = self._ready
        if ready is not None:
            return ready
        with self._lock:
            if self._ready is None:
                classifier = self._classifier_factory()
                embed = self._embedder_factory(classifier.model)
                known = set(classifier.labels)
                thresholds = {
                    category: value
                    for category, value in classifier.thresholds.items()
                    if category in self._policy.categories
                }
                sentences: list[str] = []
                categories: list[str] = []
                for name, category in self._policy.categories.items():
                    if name in known:
                        continue
                    for sentence in category.exemplars:
                        sentences.append(sentence)
                        categories.append(name)
                vectors = (
                    embed(sentences)[:, -SENTENCE_WIDTH:]
                    if sentences
                    else np.zeros((0, 1), np.float32)
                )
                neighbours = self._neighbours_factory()
                if neighbours.model != classifier.model:
                    raise ConfigurationError(
                        f"the moderation examples' vectors are from {neighbours.model!r}, the "
                        f"classifier's from {classifier.model!r}: run the training again"
                    )
                self._ready = _Ready(
                    embed, classifier, thresholds, vectors, tuple(categories), neighbours
                )
                log.info(
                    "semantic moderation ready: classifier over %s, %d categories, "
                    "%d operator exemplars",
                    classifier.model,
                    len(thresholds),
                    len(sentences),
                )
            return self._ready
