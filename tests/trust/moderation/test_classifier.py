"""The classifier's files and its training: deterministic, pickle-free, split by author."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation import classifier as classifier_module
from openreel.trust.moderation.classifier import (
    HARMLESS,
    corpus_digest,
    load_classifier,
    save_classifier,
)
from openreel.trust.moderation.embedding import Vectors
from openreel.trust.moderation.examples import Example, load_corpus
from openreel.trust.moderation.neighbours import build_neighbours, load_neighbours, save_neighbours
from openreel.trust.moderation.normalise import normalise
from openreel.trust.moderation.scoring import choose_thresholds
from openreel.trust.moderation.training import FREEFORM, HELD_OUT, TEMPLATES, main, train

PACKAGE = Path(classifier_module.__file__).resolve().parent
DATA = Path(__file__).resolve().parents[2] / "data"
LANGUAGES = {"en", "fr", "es", "de", "it", "pt"}


def hashed_embedder(texts: Sequence[str]) -> Vectors:
    """A stand-in model: each word's hash picks a direction; the sentence is their mean.

    Deterministic and quick, so training can be run twice in a test; words shared by a
    category's prompts still pull them together, which is all the training test needs.
    """
    rows = []
    for text in texts:
        vector = np.zeros(64, dtype=np.float64)
        for word in text.split():
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
            vector += np.random.default_rng(seed).standard_normal(64)
        norm = np.linalg.norm(vector)
        rows.append(vector / norm if norm else vector)
    return np.asarray(rows, dtype=np.float32)


def test_the_corpus_is_large_multilingual_and_split_by_author() -> None:
    rows = load_corpus()
    assert len(rows) >= 3000
    assert {row.lang for row in rows} >= LANGUAGES
    authors = {row.author for row in rows}
    assert authors == set(TEMPLATES) | set(FREEFORM)
    labels = Counter(row.label for row in rows)
    assert labels[HARMLESS] >= len(rows) / 3  # harmless neighbours, not just harm
    harmful = set(labels) - {HARMLESS}
    # Every category in every language by every template and by several freeform authors;
    # every author writes every category in each language they write (t wrote German only,
    # u French only).
    for category in harmful:
        for lang in LANGUAGES:
            have = {row.author for row in rows if row.label == category and row.lang == lang}
            assert have >= set(TEMPLATES), (category, lang)
            assert len(have & set(FREEFORM)) >= 10, (category, lang)
    for author in authors:
        for lang in {row.lang for row in rows if row.author == author}:
            have = {row.label for row in rows if row.author == author and row.lang == lang}
            assert have == set(labels), (author, lang)
    # The first-sight sets are never trained on.
    first_sight = {
        json.loads(line)["prompt"]
        for path in DATA.glob("moderation_first_sight*.jsonl")
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    }
    assert len(first_sight) >= 2350  # four sets of 600 (less a few the corpus had already)
    assert not first_sight & {row.prompt for row in rows}
    # Each freeform author writes in their own words: none of their prompts is anyone else's.
    for author in FREEFORM:
        theirs = {row.prompt for row in rows if row.author == author}
        assert not theirs & {row.prompt for row in rows if row.author != author}, author
        assert len(theirs) >= 500


def test_training_is_deterministic_and_files_are_byte_identical(tmp_path: Path) -> None:
    # A slice keeps the test quick: English and German, one prompt in three.
    rows = [row for row in load_corpus() if row.lang in ("en", "de")][::3]
    first = train(rows, hashed_embedder, model="hashed", corpus_sha256="x")
    second = train(rows, hashed_embedder, model="hashed", corpus_sha256="x")
    np.testing.assert_array_equal(first.coef, second.coef)
    assert first.thresholds == second.thresholds
    save_classifier(first, tmp_path / "one")
    save_classifier(second, tmp_path / "two")
    for name in ("classifier.npz", "classifier.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    loaded = load_classifier(tmp_path / "one")
    assert loaded.labels == first.labels
    np.testing.assert_array_equal(loaded.coef, first.coef)
    assert loaded.meta["test"]["all"]["harmful"] > 0
    assert set(loaded.meta["test"]["languages"]) == {"en", "de"}
    # Each group of freeform authors was held out in turn, and only they make up the test
    # figures.
    present = {row.author for row in rows}
    assert set(loaded.meta["held_out"]) == {
        "".join(a for a in group if a in present) for group in HELD_OUT
    }  # (u wrote French only: its group is held out without it)
    assert sorted("".join(HELD_OUT)) == sorted(FREEFORM)
    assert loaded.meta["test"]["all"]["harmful"] == sum(
        1 for row in rows if row.author in FREEFORM and row.label != HARMLESS
    )


def test_the_rules_refusals_count_in_the_figures_and_not_in_the_thresholds() -> None:
    """With the rules first, the figures are the whole decision's; a rule that refuses every
    harmful prompt leaves nothing for the classifier to catch, so recall is 1.0 however weak
    the classifier is."""
    rows = [row for row in load_corpus() if row.lang == "it"][::4]
    classifier = train(
        rows,
        hashed_embedder,
        model="hashed",
        corpus_sha256="x",
        rules=lambda prompt: prompt in {row.prompt for row in rows if row.label != HARMLESS},
    )
    figures = classifier.meta["test"]
    assert figures["all"]["recall"] == 1.0
    assert figures["rules_alone"]["recall"] == 1.0
    assert figures["rules_alone"]["false_refusals"] == 0.0
    assert figures["classifier_alone"]["recall"] < 1.0


def test_thresholds_ignore_prompts_the_rules_refused() -> None:
    labels = ["c"] * 10 + [HARMLESS] * 10
    probs = np.zeros((20, 2))
    probs[:10, 0] = 0.8
    probs[10:, 0] = 0.8  # harmless prompts that look just as harmful...
    probs[:, 1] = 1 - probs[:, 0]
    [strict] = choose_thresholds(probs, labels, ["c", HARMLESS]).values()
    assert strict > 0.8  # ...so refusing them costs more than the recall is worth
    allowed = np.array([True] * 10 + [False] * 10)  # ...unless the rules refuse them anyway
    [loose] = choose_thresholds(probs, labels, ["c", HARMLESS], allowed).values()
    assert loose <= 0.8


def test_the_training_command_writes_the_files_with_the_corpus_hash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    lines = (PACKAGE / "corpus.jsonl").read_text("utf-8").splitlines()
    italian = [line for line in lines if '"lang": "it"' in line][::3]
    corpus.write_text("\n".join(italian) + "\n", "utf-8")
    out = tmp_path / "out"
    assert (
        main(
            ["--kind", "lr", "--model", "hashed", "--corpus", str(corpus), "--out", str(out)],
            embedder=lambda model: hashed_embedder,
        )
        == 0
    )
    meta = json.loads((out / "classifier.json").read_text("utf-8"))
    assert meta["corpus_sha256"] == corpus_digest(corpus)
    assert meta["model"] == "hashed"
    assert meta["corpus_prompts"] == len(italian)
    # The character n-gram model is mixed in by default, and kept in the weights' file.
    assert meta["lexical_weight"] == 0.6
    assert meta["lexical"]["features"] > 1000
    assert load_classifier(out).lexical is not None
    # Beside it, the harmful examples' vectors for the audit's nearest examples.
    neighbours = load_neighbours(out, corpus)
    rows = load_corpus(corpus)
    harmful = [i + 1 for i, row in enumerate(rows) if row.label != "ok"]
    assert neighbours.model == "hashed"
    assert neighbours.lines.tolist() == harmful
    line = harmful[len(harmful) // 2]
    vector = hashed_embedder([normalise(rows[line - 1].prompt).decoded])[0]
    [itself, *_] = neighbours.nearest(vector, rows[line - 1].label)
    assert itself.line == line
    assert itself.similarity == pytest.approx(1.0, abs=0.01)  # int8 on disk, one scale a row


def test_the_training_command_can_leave_the_lexical_model_out_and_checks_its_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    lines = (PACKAGE / "corpus.jsonl").read_text("utf-8").splitlines()
    portuguese = [line for line in lines if '"lang": "pt"' in line][::4]
    corpus.write_text("\n".join(portuguese) + "\n", "utf-8")
    common = ["--kind", "lr", "--model", "hashed", "--corpus", str(corpus)]
    out = tmp_path / "out"
    assert (
        main([*common, "--out", str(out), "--lexical-weight", "0"], lambda m: hashed_embedder) == 0
    )
    assert load_classifier(out).lexical is None
    with pytest.raises(SystemExit) as exit_:
        main([*common, "--out", str(tmp_path / "x"), "--lexical-weight", "1.5"])
    assert exit_.value.code == 2
    assert "--lexical-weight must be 0 to 1, got 1.5" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_neighbours_can_keep_the_tail_and_compare_a_query_by_its_tail() -> None:
    """A layered vector's last part is the model's own sentence vector: the examples keep
    only that part, and a query is compared by its own (re-normalised)."""
    rows = [
        Example("one", "hate", "hate", "en", "f"),
        Example("two", "hate", "hate", "en", "f"),
        Example("fine", "ok", "everyday", "en", "f"),
    ]
    # Heads point one way, tails the other: by the tail, "two" is nearest the query.
    vectors = np.asarray([[1, 0, 0.6, 0.8], [0, 1, 0.8, -0.6], [1, 1, 1, 1]], dtype=np.float32)
    neighbours = build_neighbours(rows, vectors, model="m", corpus_sha256="x", tail=2)
    assert neighbours.vectors.shape == (2, 2)
    np.testing.assert_allclose(np.linalg.norm(neighbours.vectors, axis=1), 1.0, atol=1e-6)
    query = np.asarray([1, 0, 1.6, -1.2], dtype=np.float32)  # head like "one", tail like "two"
    nearest = neighbours.nearest(query, "hate")
    assert [n.line for n in nearest] == [2, 1]
    assert nearest[0].similarity == pytest.approx(1.0, abs=1e-3)


def test_neighbours_written_for_another_corpus_are_refused(tmp_path: Path) -> None:
    rows = [
        Example("a harmful one", "sexual", "sexual", "en", "f"),
        Example("a harmless one", "ok", "everyday", "en", "f"),
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("a\n", "utf-8")
    vectors = np.asarray([[1.0, 0.0], [0.0, 1.0]], np.float32)
    save_neighbours(build_neighbours(rows, vectors, model="m", corpus_sha256="f" * 64), tmp_path)
    with pytest.raises(ConfigurationError, match=r"another corpus.*training again"):
        load_neighbours(tmp_path, corpus)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_neighbours(tmp_path / "nowhere", corpus)


def test_thresholds_weigh_a_false_refusal_as_ten_misses() -> None:
    # One category, ten harmful and a hundred harmless validation prompts.
    labels = ["c"] * 10 + [HARMLESS] * 100
    probs = np.zeros((110, 2))
    probs[:10, 0] = np.linspace(0.3, 0.9, 10)  # the harmful ones
    probs[10:, 0] = 0.05
    probs[10, 0] = 0.6  # one harmless prompt scores like a harmful one
    probs[:, 1] = 1 - probs[:, 0]
    [threshold] = choose_thresholds(probs, labels, ["c", HARMLESS]).values()
    # Refusing the harmless 0.6 costs 10 points; it is worth it only for more than one miss.
    refused = probs[:10, 0] >= threshold
    assert refused.sum() >= 5
    assert 0.05 < threshold <= 0.9


def test_a_weights_file_holding_objects_is_refused(tmp_path: Path) -> None:
    shutil.copy(PACKAGE / "classifier.json", tmp_path / "classifier.json")
    with (tmp_path / "classifier.npz").open("wb") as handle:
        np.savez(handle, coef=np.array([{"a": 1}], dtype=object), intercept=np.zeros(1))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_classifier(tmp_path)


def test_weights_that_do_not_match_the_labels_are_refused(tmp_path: Path) -> None:
    meta = json.loads((PACKAGE / "classifier.json").read_text("utf-8"))
    meta.pop("lexical_weight", None)  # a network alone
    (tmp_path / "classifier.json").write_text(json.dumps(meta), "utf-8")
    with (tmp_path / "classifier.npz").open("wb") as handle:
        np.savez(handle, coef=np.zeros((2, 384), np.float32), intercept=np.zeros(2, np.float32))
    with pytest.raises(ConfigurationError, match="do not match"):
        load_classifier(tmp_path)


def test_a_missing_classifier_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"classifier\.json"):
        load_classifier(tmp_path)


def test_the_network_is_deterministic_learns_and_survives_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``mlp`` kind (torch, a narrow network to keep the test quick): the same weights
    twice, more of its training prompts right than the commonest label, and numpy's forward pass over the saved layers
    gives its probabilities (dropout is for training only)."""
    from openreel.trust.moderation import training
    from openreel.trust.moderation.training import fit

    monkeypatch.setattr(training, "HIDDEN", 16)
    monkeypatch.setattr(training, "NETWORK_EPOCHS", 300)
    rows = [row for row in load_corpus() if row.lang == "pt"][::6]
    vectors = hashed_embedder([row.prompt for row in rows])
    labels = [row.label for row in rows]
    network = fit(vectors, labels, kind="mlp")
    again = fit(vectors, labels, kind="mlp")
    assert network.hidden_coef.shape == (16, vectors.shape[1])
    assert network.labels == tuple(sorted(set(labels)))
    for name in ("hidden_coef", "hidden_intercept", "coef", "intercept"):
        np.testing.assert_array_equal(getattr(network, name), getattr(again, name))
    probabilities = network.probabilities(vectors)
    right = np.asarray(network.labels)[probabilities.argmax(axis=1)] == np.asarray(labels)
    majority = Counter(labels).most_common(1)[0][1] / len(labels)
    # Learnt something: well above always answering the commonest label (hashed words in 64
    # dimensions are too coarse to fit every prompt).
    assert right.mean() >= majority + 0.1, (right.mean(), majority)
    save_classifier(network, tmp_path)
    np.testing.assert_allclose(load_classifier(tmp_path).probabilities(vectors), probabilities)
