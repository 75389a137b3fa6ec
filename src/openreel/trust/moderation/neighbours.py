"""The corpus's harmful examples nearest a refused prompt: why the classifier refused it.

A probability over a threshold says that the classifier refused, not what it saw. The audit
row of a classifier's refusal therefore also keeps the few labelled examples of the refused
category whose embeddings lie closest to the prompt's, by line in ``corpus.jsonl``, with their
text: an operator reviewing a refusal reads what it resembled, and a wrong refusal points at
the examples to relabel or balance. The prompt itself never goes into the row.

The training command writes the harmful examples' vectors beside the classifier
(``neighbours.npz``: int8 with one scale a row, 2.2 MB for 5,760 examples instead of 8.8 MB
of float32; cosine similarities move by under 0.01). The vectors are only read when the
classifier refuses, so an allowed prompt costs nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from openreel.errors import ConfigurationError
from openreel.trust.moderation.base import Nearest
from openreel.trust.moderation.classifier import HARMLESS, corpus_digest
from openreel.trust.moderation.examples import Example, load_corpus

__all__ = [
    "NEIGHBOURS_FILE",
    "Neighbours",
    "build_neighbours",
    "load_neighbours",
    "save_neighbours",
]

NEIGHBOURS_FILE = "neighbours.npz"
SHOWN = 3
"""Examples kept in an audit row: enough to see a pattern, few enough to read."""
PROMPT_CHARS = 160
"""An example's text is cut here in the audit row (the corpus line has it whole)."""


@dataclass(frozen=True)
class Neighbours:
    """The harmful corpus examples' unit vectors, for one embedding model and one corpus.

    Attributes:
        model: The embedding model the vectors come from.
        corpus_sha256: The corpus they were taken from.
        lines: Each row's line number in the corpus (1-based).
        labels: Each row's category.
        prompts: Each row's text.
        vectors: One unit vector a row.
    """

    model: str
    corpus_sha256: str
    lines: NDArray[np.int32]
    labels: tuple[str, ...]
    prompts: tuple[str, ...]
    vectors: NDArray[np.float32]

    def nearest(
        self, vector: NDArray[np.float32], category: str, count: int = SHOWN
    ) -> tuple[Nearest, ...]:
        """The ``count`` examples of ``category`` most similar to ``vector``, closest first
        (by its last dimensions when the examples keep fewer: :func:`build_neighbours`)."""
        rows = np.flatnonzero(np.asarray(self.labels) == category)
        if not rows.size:
            return ()
        query = _unit(np.asarray(vector, dtype=np.float32)[None, -self.vectors.shape[1] :])[0]
        similarity = self.vectors[rows] @ query
        order = np.argsort(-similarity, kind="stable")[:count]
        return tuple(
            Nearest(
                line=int(self.lines[rows[i]]),
                label=category,
                similarity=round(float(similarity[i]), 3),
                prompt=self.prompts[rows[i]][:PROMPT_CHARS],
            )
            for i in order
        )


def build_neighbours(
    rows: Sequence[Example],
    vectors: NDArray[np.float32],
    *,
    model: str,
    corpus_sha256: str,
    tail: int | None = None,
) -> Neighbours:
    """The harmful ``rows`` (corpus order, one vector each) as :class:`Neighbours`, keeping
    each vector's last ``tail`` dimensions when given: a layered embedding ends with the
    model's own sentence vector, which finds the examples that mean the same in any language
    (its middle layers' parts keep each language's words) at a third of the size."""
    keep = [i for i, row in enumerate(rows) if row.label != HARMLESS]
    if tail is not None:
        vectors = np.asarray(vectors)[:, -tail:]
    return Neighbours(
        model=model,
        corpus_sha256=corpus_sha256,
        lines=np.asarray([i + 1 for i in keep], dtype=np.int32),
        labels=tuple(rows[i].label for i in keep),
        prompts=tuple(rows[i].prompt for i in keep),
        vectors=_unit(np.asarray(vectors, dtype=np.float32)[keep]),
    )


def save_neighbours(neighbours: Neighbours, folder: Path) -> None:
    """Writes ``neighbours.npz`` into ``folder`` (int8 rows, one scale each)."""
    scales = np.abs(neighbours.vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.round(neighbours.vectors / scales[:, None]).astype(np.int8)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{NEIGHBOURS_FILE}.partial"
    with partial.open("wb") as handle:
        np.savez_compressed(
            handle,
            model=np.array(neighbours.model),
            corpus_sha256=np.array(neighbours.corpus_sha256),
            lines=neighbours.lines,
            vectors=quantised,
            scales=scales.astype(np.float32),
        )
    partial.replace(folder / NEIGHBOURS_FILE)


def load_neighbours(folder: Path | None = None, corpus: Path | None = None) -> Neighbours:
    """Reads the neighbours (the shipped ones when ``folder`` is None) and their corpus's text
    (the shipped corpus when ``corpus`` is None).

    Raises:
        ConfigurationError: The file is missing or unreadable, or was written for another
            corpus (the corpus changed and the training was not run again).
    """
    try:
        if folder is None:
            handle = resources.files(__package__).joinpath(NEIGHBOURS_FILE).open("rb")
        else:
            handle = (folder / NEIGHBOURS_FILE).open("rb")
        with handle, np.load(handle, allow_pickle=False) as data:
            model = str(data["model"])
            digest = str(data["corpus_sha256"])
            lines = np.asarray(data["lines"], dtype=np.int32)
            vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"the moderation examples' vectors cannot be read: {exc}"
        ) from None
    if digest != corpus_digest(corpus):
        raise ConfigurationError(
            f"{NEIGHBOURS_FILE} was written for another corpus (sha256 {digest[:12]}...): "
            "run the moderation training again (python -m openreel.trust.moderation.training)"
        )
    rows = load_corpus(corpus)
    if lines.size and (lines.min() < 1 or lines.max() > len(rows)):
        raise ConfigurationError(f"{NEIGHBOURS_FILE} names lines outside its corpus")
    return Neighbours(
        model=model,
        corpus_sha256=digest,
        lines=lines,
        labels=tuple(rows[line - 1].label for line in lines),
        prompts=tuple(rows[line - 1].prompt for line in lines),
        vectors=_unit(vectors),
    )


def _unit(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: NDArray[np.float32] = (vectors / norms).astype(np.float32)
    return unit
