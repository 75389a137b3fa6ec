"""The sketch vocabulary file: it loads, it is checked, and a broken entry is named."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import pytest

from openreel.backends.sketch.plan import Setting, SubjectKind, TimeOfDay
from openreel.backends.sketch.vocabulary import (
    Choose,
    Exclude,
    Include,
    Join,
    Negate,
    Number,
    WordGroup,
    parse_vocabulary,
    vocabulary,
)
from openreel.errors import ConfigurationError


def _shipped_text() -> str:
    return (
        resources.files("openreel.backends.sketch").joinpath("vocabulary.toml").read_text("utf-8")
    )


def test_vocabulary_shipped_file_loads_once_into_every_kind_of_effect() -> None:
    words = vocabulary()
    assert words is vocabulary()
    assert words == parse_vocabulary(_shipped_text())
    effects = [e for g in words.groups for e in g.effects]
    for kind in (Choose, Include, Number, Negate, Join, Exclude):
        assert any(isinstance(e, kind) for e in effects), kind
    named = {e.kind for e in effects if isinstance(e, Include)}
    assert named == set(SubjectKind)
    assert WordGroup((Choose(Setting.COAST),), words.groups[0].phrases) == words.groups[0]
    assert words.spelling["harbour"] == "harbor"
    assert words.irregular_plurals["geese"] == "goose"
    assert words.flocks == {SubjectKind.BIRDS, SubjectKind.FISH}
    assert words.subject_settings[SubjectKind.ROCKET] is Setting.SPACE


def test_vocabulary_file_writes_effects_by_name() -> None:
    words = parse_vocabulary(
        """
        [[group]]
        effects = [{ subject = "person" }, { setting = "space", hint = true }]
        phrases = ["astronaut"]

        [[group]]
        effects = [{ subject = "sailboat", count = 2, unless = ["ship"] }]
        phrases = ["sailing"]

        [[group]]
        effects = [{ time_of_day = "night" }]
        phrases = ["night"]

        [[group]]
        effects = [{ leave_out = "person" }]
        phrases = ["nobody"]

        [[group]]
        effects = [{ number = 1, weak = true }]
        phrases = ["a", "an"]

        [[group]]
        effects = [{ negate = true }]
        phrases = ["no"]

        [[group]]
        effects = [{ carry_negation = true }]
        phrases = ["or"]

        [[group]]
        effects = []
        phrases = ["in the style of"]
        """
    )
    assert [g.effects for g in words.groups] == [
        (Include(SubjectKind.PERSON), Choose(Setting.SPACE, inferred=True)),
        (Include(SubjectKind.SAILBOAT, 2, frozenset({SubjectKind.SHIP})),),
        (Choose(TimeOfDay.NIGHT),),
        (Exclude(SubjectKind.PERSON),),
        (Number(1, weak=True),),
        (Negate(),),
        (Join(),),
        (),
    ]
    assert words.groups[4].phrases == ("a", "an")
    assert not words.spelling
    assert not words.flocks


def test_vocabulary_bad_value_in_the_shipped_file_names_the_group_field_and_value() -> None:
    text = _shipped_text().replace('{ setting = "forest" }', '{ setting = "forrest" }', 1)
    with pytest.raises(ConfigurationError) as caught:
        parse_vocabulary(text, "vocabulary.toml")
    message = str(caught.value)
    assert message.startswith('vocabulary.toml, group 5 ("forest", "woods", "wood", ...): ')
    assert "effects[0].setting" in message
    assert "'forrest'" in message


_ONE_GROUP = """
[[group]]
effects = [{EFFECT}]
phrases = ["coast", "beach"]
"""


@pytest.mark.parametrize(
    ("effect", "expected"),
    [
        ('{ setting = "atlantis" }', "effects[0].setting: Input should be"),
        ('{ weather = "rain", pace = "slow" }', "exactly one aspect; this one names weather, pace"),
        ('{ colour = "red" }', "effects[0]: an effect is a table naming one of setting"),
        ('"coast"', "effects[0]: an effect is a table naming one of"),
        ('{ subject = "ship", count = 0 }', "effects[0].count: Input should be greater than"),
        ('{ subject = "ship", colour = "red" }', "effects[0].colour: Extra inputs"),
        ('{ subject = "ship", unless = ["griffin"] }', "effects[0].unless[0]: Input should be"),
        ("{ number = 13 }", "effects[0].number: Input should be less than or equal to 12"),
        ("{ negate = false }", "effects[0].negate: Input should be True"),
        ('{ leave_out = "everyone" }', "effects[0].leave_out: Input should be"),
    ],
)
def test_vocabulary_malformed_effect_names_the_group_and_the_field(
    effect: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_vocabulary(_ONE_GROUP.replace("{EFFECT}", effect))
    message = str(caught.value)
    assert message.startswith('the sketch vocabulary, group 1 ("coast", "beach"): '), message
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[group]]\neffects = []\nphrases = []\n", "group 1 (no phrases): phrases: List should"),
        ('[[group]]\neffects = []\nphrases = [""]\n', "phrases[0]: String should have at least"),
        ('[[group]]\nphrases = ["x"]\n', 'group 1 ("x"): effects: Field required'),
        ('flocks = ["birds"]\n', "group: Field required"),
        (
            '[[groups]]\neffects = []\nphrases = ["x"]\n',
            "group: Field required; groups: Extra inputs are not permitted; got [{",
        ),
        ('[subject_settings]\ncar = "atlantis"\n', "subject_settings.car: Input should be"),
        ("[[group]\n", "is not valid TOML"),
        (
            '[[group]]\neffects = []\nphrases = ["x", "y"]\n'
            '[[group]]\neffects = [{ negate = true }]\nphrases = ["no", "y"]\n',
            'group 2 ("no", "y"): phrase \'y\' is already in group 1 ("x", "y")',
        ),
    ],
)
def test_vocabulary_malformed_file_says_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_vocabulary(text)
    assert str(caught.value).startswith("the sketch vocabulary")
    assert expected in str(caught.value)


def test_vocabulary_is_read_on_first_use_not_at_import() -> None:
    code = (
        "import openreel.backends.sketch.backend\n"
        "from openreel.backends.sketch.vocabulary import vocabulary\n"
        "from openreel.backends.sketch.understand import understand\n"
        "print(vocabulary.cache_info().currsize)\n"
        "understand('a boat')\n"
        "print(vocabulary.cache_info().currsize)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["0", "1"]
