"""Public-figure name lists: folded, whole-word matching; a style is not a likeness."""

from __future__ import annotations

import re

import pytest

from openreel.trust.moderation import NameCheck, load_policy, normalise
from openreel.trust.moderation.names import name_pattern
from openreel.trust.moderation.policy import NameListPolicy


@pytest.fixture(scope="module")
def names() -> NameCheck:
    return NameCheck(load_policy().public_figures)


def named(names: NameCheck, text: str) -> str | None:
    refusal = names.check(normalise(text))
    return None if refusal is None else refusal.rule


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Beyoncé singing on stage", "Beyonce"),
        ("BEYONCE on stage", "Beyonce"),
        ("a portrait of beyonce knowles", "Beyonce"),
        ("T4yl0r Sw1ft dancing in the rain", "Taylor Swift"),
        ("ＴＡＹＬＯＲ ＳＷＩＦＴ", "Taylor Swift"),
        ("E m m a n u e l  M a c r o n giving a speech", "Emmanuel Macron"),
        ("T a y l o r  S w i f t", "Taylor Swift"),
        ("Macron at a desk", "Emmanuel Macron"),
        ("Kim Jong-un at a parade", "Kim Jong Un"),
        ("kim jong un at a parade", "Kim Jong Un"),
        ("Donald J. Trump waving", "Donald Trump"),
        ("Putin riding a horse", "Vladimir Putin"),
    ],
)
def test_names_match_however_spelled(names: NameCheck, text: str, person: str) -> None:
    assert named(names, text) == person


@pytest.mark.parametrize(
    ("alias", "person"),
    [
        ("a poster of President Trump", "Donald Trump"),
        ("alexandria ocasio cortez speaking at a rally", "Alexandria Ocasio-Cortez"),
        ("Catherine, Princess of Wales, at a gala", "Kate Middleton"),
        ("Mr Beast giving away a car", "MrBeast"),
    ],
)
def test_names_refusal_names_the_person_as_listed_first(
    names: NameCheck, alias: str, person: str
) -> None:
    refusal = names.check(normalise(alias))
    assert refusal is not None
    assert refusal.category == "public_figure"
    assert refusal.check == "public_figures"
    assert refusal.rule == person
    assert refusal.reason.startswith(f"{person} is a real")
    assert "{name}" not in refusal.reason


@pytest.mark.parametrize(
    "text",
    [
        "a Trump card on a green table",
        "a trumpet player in a jazz club",
        "a chart of macronutrients",
        "an Obamacare leaflet",
        "a Messiah oratorio in a cathedral",
        "sputnik launching into orbit",
        "the Obamas' dog",
    ],
)
def test_names_match_whole_words_only(names: NameCheck, text: str) -> None:
    assert named(names, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "A phantom cruise ship drifting through fog",  # "...tom cruise..."
        "custom hanks of yarn on a loom",  # "...tom hanks..."
    ],
)
def test_names_are_not_found_inside_longer_words_with_spaces_removed(
    names: NameCheck, text: str
) -> None:
    assert named(names, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "an Obama-style poster of a cat",
        "an Obama style poster",
        "Beyoncé-style stage outfit",
        "Trump-era policy explained with cartoons",
        "the Obama administration's logo",
    ],
)
def test_names_a_style_or_era_is_not_a_likeness(names: NameCheck, text: str) -> None:
    assert named(names, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "a Barack Obama-style poster of a cat",
        "Donald Trump-era policy explained with cartoons",
        "a President Trump-style hat",
    ],
)
def test_names_a_style_is_not_a_likeness_for_long_names_too(names: NameCheck, text: str) -> None:
    # Same rule as "Obama-style", but with a name long enough to be searched squashed too.
    assert named(names, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "a Cavalier King Charles Spaniel puppy running in the grass",
        "a cruise through Prince William Sound in Alaska",
    ],
)
def test_names_shipped_list_does_not_refuse_ordinary_things(names: NameCheck, text: str) -> None:
    assert named(names, text) is None


def test_names_custom_list_category_reason_and_check_name() -> None:
    policy = NameListPolicy(
        category="local_celebrity",
        reason="{name} asked us not to.",
        names=[["Jane Q. Example", "JQE"], [], ["Jean-Michel Sample"]],
    )
    check = NameCheck(policy, check_name="locals")
    assert check.name == "locals"
    refusal = check.check(normalise("jqe at the beach"))
    assert refusal is not None
    assert refusal.category == "local_celebrity"
    assert refusal.reason == "Jane Q. Example asked us not to."
    assert refusal.check == "locals"
    hyphen = check.check(normalise("jean michel sample painting"))
    assert hyphen is not None
    assert hyphen.rule == "Jean-Michel Sample"
    assert check.check(normalise("a sample of jeans")) is None


def test_names_empty_list_refuses_nothing() -> None:
    check = NameCheck(NameListPolicy(names=[]))
    assert check.check(normalise("Taylor Swift")) is None


def test_name_pattern_folds_and_prefers_longer_spellings() -> None:
    pattern = re.compile(name_pattern(["Beyoncé", "Beyoncé Knowles"]))
    match = pattern.search("beyonce knowles live")
    assert match is not None
    assert match.group(0) == "beyonce knowles"


@pytest.mark.parametrize("spelling", ["-", " ", "--"])
def test_name_pattern_spelling_without_letters_matches_nothing_extra(spelling: str) -> None:
    pattern = re.compile(name_pattern(["Zoe Hart", spelling]))
    assert pattern.search("a horse running fast, like lightning") is None
    assert pattern.search("zoe hart") is not None
