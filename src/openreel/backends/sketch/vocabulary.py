"""The words the sketch engine understands: read from ``vocabulary.toml``, checked, kept frozen.

The words are data so that teaching the engine a word means editing a list, not code, and so
that ``understand.py`` stays a short algorithm. The file pairs the *effects* of a phrase (what it
tells the planner) with every phrase that has those effects; this module turns it into the
immutable effects below, and refuses a malformed file with a message naming the group and the
field. It is read once, on first use, not at import.
"""

from __future__ import annotations

import functools
import reprlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from openreel.backends.sketch.plan import (
    Action,
    Camera,
    Pace,
    Season,
    Setting,
    Style,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.errors import ConfigurationError

__all__ = [
    "MAX_COUNT",
    "Act",
    "Choice",
    "Choose",
    "Effect",
    "Entry",
    "Exclude",
    "Include",
    "Join",
    "Negate",
    "Number",
    "Vocabulary",
    "WordGroup",
    "parse_vocabulary",
    "vocabulary",
]

Choice: TypeAlias = Setting | TimeOfDay | Weather | Camera | Style | Pace | Season
"""A value of one of the single-valued aspects of a plan."""

MAX_COUNT = 12
"""Most of one subject a scene holds; counts are clamped to 1..12."""


@dataclass(frozen=True, slots=True)
class Choose:
    """Sets a single-valued aspect (setting, time of day, weather, camera, style or pace).

    Attributes:
        value: The value; its type names the aspect.
        inferred: A hint rather than a statement ("stars" suggests night, "camel" a desert):
            it only counts when no phrase in the prompt states the aspect outright.
    """

    value: Choice
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """Puts a subject in the scene.

    Attributes:
        kind: What to draw.
        count: How many the word itself implies ("couple" is 2, "traffic" is 3); ``None``
            means one, or three when the word is plural.
        unless: Leave the subject out when the prompt names one of these kinds explicitly, for
            words that only hint at a subject ("sailing" adds a sailboat unless a ship sails).
    """

    kind: SubjectKind
    count: int | None = None
    unless: frozenset[SubjectKind] = frozenset()


@dataclass(frozen=True, slots=True)
class Number:
    """A count for the next subject ("two", "a few", "a dozen").

    Attributes:
        value: The count (clamped later to 1..12).
        weak: "a"/"an": says one, but gives way to a plural or to a word's own count, so
            "a couple" stays two people and "a flock" stays one group.
    """

    value: int
    weak: bool = False


@dataclass(frozen=True, slots=True)
class Negate:
    """Removes the next thing named ("no rain", "without birds", "not foggy")."""


@dataclass(frozen=True, slots=True)
class Join:
    """Carries a negation on to the next thing ("no rain or snow")."""


@dataclass(frozen=True, slots=True)
class Exclude:
    """Removes a subject outright, for words that are themselves negative ("nobody").

    Attributes:
        value: The subject kind to leave out.
    """

    value: SubjectKind


@dataclass(frozen=True, slots=True)
class Act:
    """Says what a subject is doing ("running", "flying"); the planner gives it to the subject
    named just before it in the clause, or failing that to the next one ("a running dog").

    Attributes:
        action: The action.
    """

    action: Action


Effect: TypeAlias = Choose | Include | Number | Negate | Join | Exclude | Act
Entry: TypeAlias = tuple[Effect, ...]
"""What one phrase does; the first effect is the one a negation or a negative prompt removes.
An empty entry consumes the phrase and does nothing (so its words cannot match on their own)."""


@dataclass(frozen=True, slots=True)
class WordGroup:
    """Phrases that all do the same thing.

    Attributes:
        effects: What each of the phrases does.
        phrases: The phrases, as written in the file.
    """

    effects: Entry
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Everything the engine knows about words.

    Attributes:
        groups: Every phrase, grouped by what it does, in file order.
        spelling: British spellings to the American ones the phrases are written in.
        irregular_plurals: Plurals the ``-s``/``-es``/``-ies`` rules cannot undo.
        flocks: Kinds drawn as one flock or school: a plural alone does not multiply them.
        subject_settings: Where a subject most likely is, when the prompt names no setting.
    """

    groups: tuple[WordGroup, ...]
    spelling: Mapping[str, str]
    irregular_plurals: Mapping[str, str]
    flocks: frozenset[SubjectKind]
    subject_settings: Mapping[SubjectKind, Setting]


# --- The file's schema -------------------------------------------------------------------------

_ASPECTS = ("setting", "time_of_day", "weather", "camera", "style", "pace", "season")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AspectEffect(_Table):
    """``{ setting = "coast" }``, or a hint: ``{ setting = "desert", hint = true }``."""

    setting: Setting | None = None
    time_of_day: TimeOfDay | None = None
    weather: Weather | None = None
    camera: Camera | None = None
    style: Style | None = None
    pace: Pace | None = None
    season: Season | None = None
    hint: bool = False

    @model_validator(mode="after")
    def _one_aspect(self) -> _AspectEffect:
        named = [a for a in _ASPECTS if getattr(self, a) is not None]
        if len(named) != 1:
            raise ValueError(
                f"an effect states exactly one aspect; this one names {', '.join(named)}"
            )
        return self

    def effect(self) -> Choose:
        value: Choice = next(getattr(self, a) for a in _ASPECTS if getattr(self, a) is not None)
        return Choose(value, inferred=self.hint)


class _SubjectEffect(_Table):
    """``{ subject = "ship" }``, with an optional ``count`` and ``unless`` list."""

    subject: SubjectKind
    count: int | None = Field(None, ge=1, le=MAX_COUNT)
    unless: list[SubjectKind] = []

    def effect(self) -> Include:
        return Include(self.subject, self.count, frozenset(self.unless))


class _LeaveOutEffect(_Table):
    """``{ leave_out = "person" }``."""

    leave_out: SubjectKind

    def effect(self) -> Exclude:
        return Exclude(self.leave_out)


class _NumberEffect(_Table):
    """``{ number = 2 }``, or ``{ number = 1, weak = true }`` for "a"."""

    number: int = Field(ge=1, le=MAX_COUNT)
    weak: bool = False

    def effect(self) -> Number:
        return Number(self.number, weak=self.weak)


class _NegateEffect(_Table):
    """``{ negate = true }``."""

    negate: Literal[True]

    def effect(self) -> Negate:
        return Negate()


class _CarryNegationEffect(_Table):
    """``{ carry_negation = true }``."""

    carry_negation: Literal[True]

    def effect(self) -> Join:
        return Join()


class _ActionEffect(_Table):
    """``{ action = "running" }``."""

    action: Action

    def effect(self) -> Act:
        return Act(self.action)


_KEYED_EFFECTS = ("subject", "leave_out", "number", "negate", "carry_negation", "action")


def _effect_tag(table: Any) -> str | None:
    """Which kind of effect a table is, from the key that names it."""
    if not isinstance(table, dict):
        return None
    if any(aspect in table for aspect in _ASPECTS):
        return "aspect"
    return next((key for key in _KEYED_EFFECTS if key in table), None)


_EffectTable = Annotated[
    Annotated[_AspectEffect, Tag("aspect")]
    | Annotated[_SubjectEffect, Tag("subject")]
    | Annotated[_LeaveOutEffect, Tag("leave_out")]
    | Annotated[_NumberEffect, Tag("number")]
    | Annotated[_NegateEffect, Tag("negate")]
    | Annotated[_CarryNegationEffect, Tag("carry_negation")]
    | Annotated[_ActionEffect, Tag("action")],
    Discriminator(
        _effect_tag,
        custom_error_type="unknown_effect",
        custom_error_message=(
            "an effect is a table naming one of "
            f"{', '.join(_ASPECTS + _KEYED_EFFECTS)} (see the file's header)"
        ),
    ),
]


class _GroupTable(_Table):
    effects: list[_EffectTable]
    phrases: list[Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=1)


class _VocabularyFile(_Table):
    flocks: list[SubjectKind] = []
    subject_settings: dict[SubjectKind, Setting] = {}
    spelling: dict[str, str] = {}
    irregular_plurals: dict[str, str] = {}
    group: list[_GroupTable] = Field(min_length=1)


# --- Reading it ----------------------------------------------------------------------------------


_SHOWN = 3  # problems one message lists


def _group_name(data: Any, index: int) -> str:
    """``group 13 ("coast", "coastline", ...)``: its place in the file and its first phrases."""
    try:
        phrases = [str(p) for p in data["group"][index]["phrases"]]
    except (KeyError, IndexError, TypeError):
        phrases = []
    shown = ", ".join(f'"{p}"' for p in phrases[:3]) + (", ..." if len(phrases) > 3 else "")
    return f"group {index + 1} ({shown or 'no phrases'})"


def _problem(data: Any, error: Any) -> str:
    """One validation error as ``group 13 (...): effects[0].setting: message; got 'x'``."""
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "group" and isinstance(loc[1], int):
        where = _group_name(data, loc[1]) + ": "
        loc = loc[2:]
        if len(loc) >= 3 and loc[0] == "effects":
            del loc[2]  # the effect's kind, which the table's own key already says
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if error["type"] == "missing":
        return f"{where}{field}: {error['msg']}"
    got = reprlib.repr(error["input"])
    return f"{where}{field or 'file'}: {error['msg']}; got {got}"


def parse_vocabulary(text: str, where: str = "the sketch vocabulary") -> Vocabulary:
    """Reads and checks a vocabulary written in the format of ``vocabulary.toml``.

    Args:
        text: The file's text.
        where: How messages name the text.

    Raises:
        ConfigurationError: The text is not TOML, breaks the schema, or lists a phrase in two
            groups; the message names the group (by number and first phrases) and the field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where} is not valid TOML: {exc}") from None
    try:
        parsed = _VocabularyFile.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(data, error) for error in exc.errors()]
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise ConfigurationError(f"{where}, {'; '.join(problems[:_SHOWN])}{more}") from None
    first_group: dict[str, int] = {}
    for index, table in enumerate(parsed.group):
        for phrase in table.phrases:
            earlier = first_group.setdefault(phrase, index)
            if earlier != index:
                raise ConfigurationError(
                    f"{where}, {_group_name(data, index)}: phrase {phrase!r} "
                    f"is already in {_group_name(data, earlier)}; a phrase belongs to one group"
                )
    return Vocabulary(
        groups=tuple(
            WordGroup(tuple(e.effect() for e in table.effects), tuple(table.phrases))
            for table in parsed.group
        ),
        spelling=MappingProxyType(dict(parsed.spelling)),
        irregular_plurals=MappingProxyType(dict(parsed.irregular_plurals)),
        flocks=frozenset(parsed.flocks),
        subject_settings=MappingProxyType(dict(parsed.subject_settings)),
    )


@functools.cache
def vocabulary() -> Vocabulary:
    """The vocabulary shipped with OpenReel (``vocabulary.toml``), read on first use."""
    text = resources.files(__package__).joinpath("vocabulary.toml").read_text("utf-8")
    return parse_vocabulary(text, "the sketch engine's vocabulary.toml")
