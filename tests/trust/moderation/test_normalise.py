"""Prompt normalisation: case, width, accents, look-alikes, leetspeak and spaced-out letters."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from openreel.trust.moderation import Prompt, fold, normalise


def every_view(prompt: Prompt) -> tuple[str, ...]:
    views = (prompt.plain, prompt.decoded, prompt.words, prompt.squashed)
    return views if prompt.alternate is None else (*views, prompt.alternate)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("NAKED", "naked"),
        ("ＮＡＫÉＤ", "naked"),  # full-width letters and an accent
        ("Nákéd", "naked"),
        ("n\u0430ked", "naked"),  # Cyrillic "а"
        ("\u0441\u0435x", "cex"),  # Cyrillic "с" and "е"
        ("n\u03b1k\u03b5d", "naked"),  # Greek alpha and epsilon
        ("Stra\u00dfe", "strasse"),
        ("a   big\t\ncat ", "a big cat"),
    ],
)
def test_normalise_folds_case_width_accents_and_lookalikes(text: str, plain: str) -> None:
    prompt = normalise(text)
    assert prompt.original == text
    assert prompt.plain == plain
    assert prompt.decoded == plain


@pytest.mark.parametrize("text", ["nakёd", "pόrn", "Ǽ", "їll"])
def test_normalise_folds_lookalikes_that_carry_accents(text: str) -> None:
    # "ё" is Cyrillic "е" with a diaeresis, "ό" Greek omicron with an accent: once the accent
    # goes they are the look-alikes the table folds, so they must end up Latin too.
    assert normalise(text).plain.isascii(), ascii(normalise(text).plain)


def test_normalise_an_accented_lookalike_does_not_hide_a_word() -> None:
    assert normalise("a nakёd woman").plain == "a naked woman"


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("n4k3d", "naked"),
        ("N4K3D", "naked"),
        ("s3x", "sex"),
        ("pr0n", "pron"),
        ("$ex tape", "sex tape"),
        ("g0r3 everywhere", "gore everywhere"),
    ],
)
def test_normalise_decodes_leetspeak_inside_words(text: str, decoded: str) -> None:
    prompt = normalise(text)
    assert prompt.decoded == decoded
    assert decoded in prompt.views()


def test_normalise_reads_one_as_l_in_the_alternate_view() -> None:
    prompt = normalise("b100d")
    assert prompt.decoded == "biood"
    assert prompt.alternate == "blood"
    assert "blood" in prompt.views()


def test_normalise_has_no_alternate_view_when_nothing_differs() -> None:
    prompt = normalise("n4k3d")
    assert prompt.alternate is None
    assert len(prompt.views()) == 3


@pytest.mark.parametrize(
    "text",
    [
        "1080p",
        "4k",
        "60",
        "10-year-old",
        "a 10-year-old boy at 60 fps in 4k 1080p",
        "shot in 1987, 3:2 aspect",
    ],
)
def test_normalise_keeps_sizes_ages_and_numbers(text: str) -> None:
    prompt = normalise(text)
    assert prompt.decoded == text.lower()
    assert prompt.alternate is None


@pytest.mark.parametrize(
    "text", ["shot on 35mm film", "16mm", "at 60fps", "the 4th of july", "a 13yo"]
)
def test_normalise_keeps_numbers_followed_by_a_unit(text: str) -> None:
    # A number then its unit, ordinal or age ("35mm", "60fps", "4th", "13yo") is not leetspeak.
    assert normalise(text).decoded == text


def test_normalise_keeps_the_age_in_the_words_view() -> None:
    assert normalise("a 10-year-old").words == "a 10 year old"


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("n a k e d", "naked"),
        ("g.o.r.e", "gore"),
        ("G-O-R-E", "gore"),
        ("p_o_r_n", "porn"),
        ("ex.termi.nation", "extermination"),
        ("st*pid", "stpid"),
        ("a n a k e d man", "anaked man"),
    ],
)
def test_normalise_joins_spaced_and_dotted_letters(text: str, decoded: str) -> None:
    assert normalise(text).decoded == decoded


def test_normalise_leaves_two_single_letters_and_ordinary_dots_alone() -> None:
    assert normalise("a b").decoded == "a b"
    assert normalise("a cat. a dog").decoded == "a cat. a dog"


@pytest.mark.parametrize(("text", "decoded"), [("hello!", "hello!"), ("wow!!", "wow!!")])
def test_normalise_does_not_decode_closing_punctuation(text: str, decoded: str) -> None:
    prompt = normalise(text)
    assert prompt.decoded == decoded
    assert prompt.words == decoded.rstrip("!")


def test_normalise_words_and_squashed_views() -> None:
    prompt = normalise("E m m a n u e l  M a c r o n, at the Élysée!")
    assert prompt.words == "emmanuelmacron at the elysee"
    assert prompt.squashed == "emmanuelmacronattheelysee"


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Beyoncé", "beyonce"),
        ("  BEYONCÉ   Knowles ", "beyonce knowles"),
        ("Zoë Vermillion-Hart", "zoe vermillion-hart"),
        ("ＴＡＹＬＯＲ", "taylor"),
        ("T\u0430ylor", "taylor"),
    ],
)
def test_fold_is_the_name_folding(name: str, folded: str) -> None:
    assert fold(name) == folded
    assert normalise(name).plain == folded


def test_fold_does_not_decode_leetspeak() -> None:
    # Names in registries are folded, not decoded: "Sw1ft" stays as typed.
    assert fold("T4yl0r Sw1ft") == "t4yl0r sw1ft"


@given(st.text())
@example("ꮕ")  # Cherokee case-folds to its capital letters
@example("İ")
@example("ǅ")
def test_normalise_never_raises_and_every_view_is_case_folded(text: str) -> None:
    prompt = normalise(text)
    assert prompt.original == text
    for view in every_view(prompt):
        assert view == view.casefold()
        assert not any("A" <= ch <= "Z" for ch in view)


@given(st.text())
@example("ё")
@example("ǽ")
@example("ά")
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
