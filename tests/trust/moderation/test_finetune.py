"""The tuned encoder layers (``training --kind tuned``): their file, their training on a tiny
corpus, and the server's int8 encoder with them deciding as the float one they were trained
in."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation import e5, finetune
from openreel.trust.moderation.classifier import HARMLESS
from openreel.trust.moderation.embedding import E5_TUNED, model_available
from openreel.trust.moderation.examples import load_corpus
from openreel.trust.moderation.finetune import TOP_FILE, TopWeights, load_top, save_top
from openreel.trust.moderation.normalise import normalise
from openreel.trust.moderation.training import TunedFeatures, train

PACKAGE = Path(finetune.__file__).resolve().parent

pytest.importorskip("torch", reason="the tuned layers run in torch: pip install 'openreel[dev]'")


@functools.cache
def model() -> e5.E5File:
    return e5.read_model(e5.model_file())


def test_the_layers_file_keeps_int8_rows_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    params = {
        "layers.11.up.weight": rng.standard_normal((6, 4)).astype(np.float32),
        "layers.11.up.bias": rng.standard_normal(6).astype(np.float32),
    }
    path = tmp_path / "top.npz"
    save_top(TopWeights(11, params), path)
    again = tmp_path / "again.npz"
    save_top(TopWeights(11, params), again)
    assert path.read_bytes() == again.read_bytes()  # deterministic bytes
    loaded = load_top(path)
    assert loaded.first == 11
    np.testing.assert_array_equal(loaded.params["layers.11.up.bias"], params["layers.11.up.bias"])
    matrix = params["layers.11.up.weight"]
    step = np.abs(matrix).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(loaded.params["layers.11.up.weight"] - matrix) <= step / 2 + 1e-7)
    assert not list(tmp_path.glob(".*partial"))
    with path.open("wb") as handle:
        np.savez(handle, first=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_top(path)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_top(tmp_path / "missing.npz")


def test_layers_that_do_not_fit_the_encoder_are_refused() -> None:
    torch = pytest.importorskip("torch")
    network = e5.network(model(), torch)
    wrong = TopWeights(11, {"layers.11.up.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(ConfigurationError, match="shape"):
        e5.install(network, wrong.params)
    unknown = TopWeights(11, {"layers.99.up.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(ConfigurationError, match="lacks"):
        e5.install(network, unknown.params)


def test_tuning_runs_on_a_tiny_corpus_and_int8_serving_agrees_with_float(tmp_path: Path) -> None:
    """The ``tuned`` kind end to end on a few prompts; then its layers in the server's traced
    int8 encoder give the float32 vectors they were trained in (and so the same decisions),
    and survive their int8 file."""
    # Two languages, a few prompts a label and author: enough for every fold to see every
    # label (the head starts from a logistic regression over the frozen vectors).
    rows = [row for row in load_corpus() if row.lang == "en" and row.author in "afgh"]
    picked = []
    for author in "afgh":
        for label in sorted({row.label for row in rows}):
            picked += [r for r in rows if r.author == author and r.label == label][:2]
    texts = [normalise(row.prompt).decoded for row in picked]
    features = TunedFeatures(model(), texts, [row.label for row in picked], layers=1, epochs=1)
    classifier = train(picked, model="tiny", corpus_sha256="x", features=features)
    assert classifier.meta["kind"] == "tuned"
    assert set(classifier.meta["held_out"]) == {"f", "g", "h"}
    assert classifier.meta["test"]["all"]["harmful"] == sum(
        1 for row in picked if row.author in "fgh" and row.label != HARMLESS
    )
    assert features.top is not None
    assert features.top.first == 11
    base = e5.network(model(), pytest.importorskip("torch")).state_dict()
    moved = [
        name
        for name, values in features.top.params.items()
        if not np.allclose(values, base[name].numpy())
    ]
    assert "layers.11.qkv.weight" in moved
    # Served: the layers through their file, in the traced int8 network, one prompt a call.
    path = tmp_path / TOP_FILE
    save_top(features.top, path)
    served_top = load_top(path)
    assert path.stat().st_size < 2_500_000  # int8: about 1.8 MB a layer
    forward = e5.build_forward(model(), served_top.params)
    sample = list(range(0, len(texts), 7))
    served = np.concatenate([forward(texts[i]) for i in sample])
    trained = finetune.top_vectors(
        model(), [features.states[i] for i in sample], features.top, features.first
    )
    cosines = np.sum(served * trained, axis=1)
    assert np.all(cosines > 0.99), cosines

    def categories(vectors: np.ndarray) -> list[str | None]:
        return [None if d is None else d[0] for d in map(classifier.decide, vectors)]

    assert categories(served) == categories(trained)


def test_the_tuned_model_is_unavailable_without_its_file() -> None:
    # The shipped classifier runs over the untouched encoder; the package has no tuned layers.
    assert not finetune.top_shipped()
    assert not model_available(E5_TUNED)
