"""The lexical half of the classifier: the server's numpy features are scikit-learn's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation.classifier import (
    Classifier,
    load_classifier,
    save_classifier,
)
from openreel.trust.moderation.examples import load_corpus
from openreel.trust.moderation.lexical import NGRAMS, fit_lexical, ngrams
from openreel.trust.moderation.normalise import normalise


def mixed_classifier(lang: str, step: int, weight: float = 0.6) -> Classifier:
    """A lexical model fitted on a slice of the corpus beside a network of zeros over four
    dimensions (thresholds: hate at 0.5)."""
    rows = [row for row in load_corpus() if row.lang == lang][::step]
    lexical = fit_lexical([row.prompt for row in rows], [row.label for row in rows])
    labels = lexical.labels
    return Classifier(
        "m",
        labels,
        np.zeros((len(labels), 4), np.float32),
        np.zeros(len(labels), np.float32),
        {"hate": 0.5},
        {},
        lexical=lexical,
        lexical_weight=weight,
    )


def test_ngrams_are_scikit_learns_char_wb_analyser() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS).build_analyzer()
    for text in (
        "A  cat\tsleeping on\n a windowsill",
        "Ü 14/88 kms x",  # one-letter words, digits, accents
        "ab abc abcd",  # words as long as an n-gram, padded
        "",
    ):
        assert ngrams(text) == analyse(text), text


def test_the_servers_probabilities_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [row for row in load_corpus() if row.lang in ("de", "it")][::8]
    texts = [normalise(row.prompt).decoded for row in rows]
    labels = [row.label for row in rows]
    lexical = fit_lexical(texts, labels)
    vectoriser = TfidfVectorizer(
        analyzer="char_wb", ngram_range=NGRAMS, min_df=2, sublinear_tf=True, max_features=50_000
    )
    reference = LogisticRegression(C=10.0, max_iter=2000)
    reference.fit(vectoriser.fit_transform(texts), labels)
    unseen = [normalise(row.prompt).decoded for row in load_corpus() if row.lang == "de"][1::97]
    unseen.append("zzzz qqqq")  # no known n-gram: the intercepts alone
    np.testing.assert_allclose(
        lexical.probabilities(unseen),
        reference.predict_proba(vectoriser.transform(unseen)),
        atol=1e-5,
    )
    assert lexical.labels == tuple(reference.classes_)


def test_a_classifier_mixes_its_lexical_model_in_and_keeps_it_in_its_files(
    tmp_path: Path,
) -> None:
    rows = [row for row in load_corpus() if row.lang == "fr"][::10]
    texts = [normalise(row.prompt).decoded for row in rows]
    lexical = fit_lexical(texts, [row.label for row in rows])
    labels = lexical.labels
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((5, 8)).astype(np.float32)
    network = Classifier(
        "m",
        labels,
        rng.standard_normal((len(labels), 8)).astype(np.float32),
        np.zeros(len(labels), np.float32),
        {"hate": 0.5},
        {},
    )
    mixed = Classifier(
        "m",
        labels,
        network.coef,
        network.intercept,
        {"hate": 0.5},
        {},
        lexical=lexical,
        lexical_weight=0.25,
    )
    expected = 0.75 * network.probabilities(vectors) + 0.25 * lexical.probabilities(texts[:5])
    np.testing.assert_allclose(mixed.probabilities(vectors, texts[:5]), expected)
    with pytest.raises(ValueError, match="text"):
        mixed.probabilities(vectors)
    save_classifier(mixed, tmp_path)
    loaded = load_classifier(tmp_path)
    assert loaded.lexical is not None
    assert loaded.lexical_weight == 0.25
    assert loaded.lexical.vocabulary == lexical.vocabulary
    np.testing.assert_allclose(loaded.probabilities(vectors, texts[:5]), expected, rtol=1e-6)


def test_a_lexical_model_that_does_not_match_is_refused(tmp_path: Path) -> None:
    classifier = mixed_classifier("pt", 12, 0.5)
    save_classifier(classifier, tmp_path)
    with np.load(tmp_path / "classifier.npz") as data:
        arrays = dict(data)
    arrays["lexical_idf"] = arrays["lexical_idf"][:-1]
    np.savez(tmp_path / "classifier.npz", **arrays)
    with pytest.raises(ConfigurationError, match=r"lexical model .* does not match"):
        load_classifier(tmp_path)


def test_two_labels_give_a_row_each_and_scikit_learns_probabilities() -> None:
    """scikit-learn keeps one row of weights for two labels; the model keeps one a label, so
    it mixes with the network's columns."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [row for row in load_corpus() if row.label in ("ok", "hate")][::20]
    texts = [row.prompt for row in rows]
    labels = [row.label for row in rows]
    lexical = fit_lexical(texts, labels)
    assert lexical.labels == ("hate", "ok")
    assert lexical.coef.shape[0] == 2
    vectoriser = TfidfVectorizer(
        analyzer="char_wb", ngram_range=NGRAMS, min_df=2, sublinear_tf=True, max_features=50_000
    )
    reference = LogisticRegression(C=10.0, max_iter=2000).fit(
        vectoriser.fit_transform(texts), labels
    )
    np.testing.assert_allclose(
        lexical.probabilities(texts[:30]),
        reference.predict_proba(vectoriser.transform(texts[:30])),
        atol=1e-5,
    )


def test_files_that_disagree_on_the_lexical_model_are_refused(tmp_path: Path) -> None:
    """Thresholds chosen on mixed probabilities must not run over the network's alone."""
    import json

    classifier = mixed_classifier("es", 12)
    save_classifier(classifier, tmp_path)
    meta_file = tmp_path / "classifier.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    del meta["lexical_weight"]
    meta_file.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ConfigurationError, match=r"disagree on the lexical model \(weight None"):
        load_classifier(tmp_path)
    with pytest.raises(ValueError, match=r"lexical_weight must be 0 to 1, got 1.5"):
        save_classifier(replace(classifier, lexical_weight=1.5), tmp_path / "other")


def test_decisions_need_one_text_a_vector() -> None:
    from openreel.trust.moderation.scoring import refusals

    classifier = mixed_classifier("it", 15)
    vectors = np.zeros((3, 4), np.float32)
    assert len(refusals(classifier, vectors, ["a", "b", "c"])) == 3
    with pytest.raises(ValueError, match="argument 2 is shorter"):
        refusals(classifier, vectors, ["a", "b"])
    with pytest.raises(ValueError, match="no texts for 1 vectors"):
        classifier.probabilities(vectors[:1])
