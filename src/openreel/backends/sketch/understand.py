"""Prompt understanding for the sketch engine: words in, a :class:`ScenePlan` out.

The sketch engine is procedural, so understanding is a deterministic reading of known words
rather than a model: the same prompt always gives the same plan, the plan can be explained
(``ScenePlan.matched`` lists the words behind each decision) and it costs microseconds.

How a prompt is read:

1. Normalise: case-fold, strip accents, drop apostrophes ("bird's" is "birds"), split on
   anything that is not a letter or digit; sentence punctuation also ends a clause, so a count
   or a negation never reaches past a comma.
2. Each word gets a *key* (British spelling made American) and a *lemma* (the key made
   singular when the singular is a known word, remembering that it was plural).
3. Phrases are matched longest first, by keys and then by lemmas, so "hot air balloon" wins
   over "balloon" and "pines" (a forest) over "pine" (a tree).
4. Numbers set the count of the next subject within a few words; a negation ("no", "without",
   "not") removes the next thing named, and "or" carries it on ("no rain or snow").
5. Decide each aspect: the first stated value wins; failing that, the first hint (stars
   suggest night, a lighthouse the coast); failing that, the plan's default. Anything named by
   a negation or by the negative prompt is never chosen.

Unknown words are ignored and no input raises, so any prompt gives a pleasant scene. The words
themselves are data (``vocabulary.toml``); the tables built from them here are built on first
use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeVar

from openreel.backends.sketch.plan import (
    Action,
    Camera,
    Pace,
    ScenePlan,
    Season,
    Setting,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.vocabulary import (
    MAX_COUNT,
    Act,
    Choice,
    Choose,
    Entry,
    Exclude,
    Include,
    Join,
    Negate,
    Number,
    vocabulary,
)

__all__ = ["removed", "understand"]

_E = TypeVar("_E", bound=StrEnum)

_MIN_COUNT = 1
_PLURAL_COUNT = 3  # "boats" with no number: a few, not a crowd
_REACH = 3  # words a number or a negation may skip to reach what it applies to

_ASPECTS: Final[Mapping[type[StrEnum], str]] = MappingProxyType(
    {
        Setting: "setting",
        TimeOfDay: "time_of_day",
        Weather: "weather",
        SubjectKind: "subjects",
        Camera: "camera",
        Style: "style",
        Pace: "pace",
        Season: "season",
    }
)

# Letters that Unicode decomposition leaves alone but readers see as plain Latin ones, and
# apostrophes, which join rather than split ("bird's-eye" reads "birds eye").
_FOLD: Final = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "'": None,
        "’": None,
        "‘": None,
        "`": None,
        "ʼ": None,
    }
)
_WORD: Final = re.compile(r"[a-z0-9]+|[,.;:!?()\[\]{}\"\n]")
_BOUNDARIES: Final = frozenset(',.;:!?()[]{}"\n')
_MAX_DIGITS = 3  # longer digit runs are "a lot" (and never reach int()'s digit limit)


def _words(text: str) -> list[str]:
    """Normalised words and clause boundaries, in order."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c)).translate(_FOLD)
    return _WORD.findall(plain)


def _spell(word: str) -> str:
    """American spelling of ``word``, plurals included ("colours" is "colors")."""
    spelling = vocabulary().spelling
    american = spelling.get(word)
    if american is not None:
        return american
    if word.endswith("s") and word[:-1] in spelling:
        return spelling[word[:-1]] + "s"
    return word


@functools.cache
def _content_words() -> frozenset[str]:
    """Words of phrases that say something, the only targets of de-pluralisation.

    Restricting plural stripping to these keeps "ones" from becoming the number "one" and
    "alps" from becoming "alp".
    """
    words: set[str] = set()
    for group in vocabulary().groups:
        if any(isinstance(e, Choose | Include | Exclude | Act) for e in group.effects):
            for phrase in group.phrases:
                words.update(_spell(w) for w in _words(phrase))
    return frozenset(words)


def _lemma(key: str) -> tuple[str, bool]:
    """The singular of ``key`` when it is a known word, and whether ``key`` was plural."""
    words = vocabulary()
    irregular = words.irregular_plurals.get(key)
    if irregular is not None:
        return irregular, True
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        candidates = [key[:-1]]
        if key.endswith("ies"):
            candidates.insert(0, key[:-3] + "y")
        if key.endswith("es"):
            candidates.append(key[:-2])
        for candidate in candidates:
            singular = words.spelling.get(candidate, candidate)
            if len(singular) >= 3 and singular in _content_words():
                return singular, True
    return key, False


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # as written, after normalisation: what `matched` reports
    key: str  # American spelling
    lemma: str  # singular when known
    plural: bool
    boundary: bool


def _tokens(text: str) -> list[_Token]:
    known: dict[str, _Token] = {}  # prompts repeat words; read each one once
    out: list[_Token] = []
    for word in _words(text):
        token = known.get(word)
        if token is None:
            if word in _BOUNDARIES:
                token = _Token(word, word, word, plural=False, boundary=True)
            else:
                key = _spell(word)
                lemma, plural = _lemma(key)
                token = _Token(word, key, lemma, plural=plural, boundary=False)
            known[word] = token
        out.append(token)
    return out


@functools.cache
def _lexicon() -> Mapping[tuple[str, ...], Entry]:
    """Phrase keys to entries: as written, then singular forms, then "snowy <setting>" (winter).

    Written phrases go in first so that an explicit phrase always beats a derived one
    ("pines" stays a forest although its singular "pine" is a tree).
    """
    table: dict[tuple[str, ...], Entry] = {}
    for group in vocabulary().groups:
        for phrase in group.phrases:
            key = tuple(_spell(w) for w in _words(phrase) if w not in _BOUNDARIES)
            table.setdefault(key, group.effects)
    for key, entry in list(table.items()):
        table.setdefault(tuple(_lemma(w)[0] for w in key), entry)
    for key, entry in list(table.items()):
        first = entry[0] if len(entry) == 1 else None
        if (
            len(key) == 1
            and isinstance(first, Choose)
            and isinstance(first.value, Setting)
            and not first.inferred
        ):
            # Snow on the ground, not falling: "snowy mountains" on a clear day.
            table.setdefault(("snowy", key[0]), (*entry, Choose(Season.WINTER)))
    return MappingProxyType(table)


@functools.cache
def _spans() -> Mapping[str, int]:
    """For each word that starts a phrase, the length of its longest phrase.

    Lets the matcher try only the lengths that can match, which keeps a prompt made of
    phrase-starting words ("a a a ...") as cheap as any other.
    """
    longest: dict[str, int] = {}
    for key in _lexicon():
        longest[key[0]] = max(longest.get(key[0], 0), len(key))
    return MappingProxyType(longest)


def _lookup(tokens: list[_Token], i: int) -> tuple[int, Entry | None]:
    """The longest phrase starting at ``tokens[i]``: its length in words and its entry."""
    lexicon, spans = _lexicon(), _spans()
    first = tokens[i]
    longest = min(max(spans.get(first.key, 1), spans.get(first.lemma, 1)), len(tokens) - i)
    for span in range(longest, 0, -1):
        window = tokens[i : i + span]
        keys = tuple(t.key for t in window)
        entry = lexicon.get(keys)
        if entry is None:
            lemmas = tuple(t.lemma for t in window)
            if lemmas != keys:
                entry = lexicon.get(lemmas)
        if entry is not None:
            return span, entry
    if first.text.isdigit():
        value = int(first.text) if len(first.text) <= _MAX_DIGITS else MAX_COUNT
        return 1, (Number(value),)
    return 1, None


@dataclass(frozen=True, slots=True)
class _Match:
    """One phrase that says something, with the number in front of it."""

    surface: str
    entry: Entry
    plural: bool
    number: Number | None
    clause: int = 0  # how many clause boundaries came before it: a verb stays in its clause


def _target(effect: object) -> tuple[str, StrEnum] | None:
    """What a negation of ``effect`` removes, as (aspect, value)."""
    if isinstance(effect, Choose):
        return _ASPECTS[type(effect.value)], effect.value
    if isinstance(effect, Include):
        return "subjects", effect.kind
    if isinstance(effect, Exclude):
        return _ASPECTS[type(effect.value)], effect.value
    return None


def _read(text: str) -> tuple[list[_Match], set[tuple[str, StrEnum]]]:
    """Finds the phrases of ``text``; returns those that count and the values it excludes."""
    tokens = _tokens(text)
    matches: list[_Match] = []
    excluded: set[tuple[str, StrEnum]] = set()
    number: Number | None = None
    number_gap = 0
    negating = False
    negation_gap = 0
    chain = False  # the last thing named was negated, so "or" negates the next one too
    clause = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.boundary:
            number, negating, chain = None, False, False
            clause += 1
            i += 1
            continue
        span, entry = _lookup(tokens, i)
        window = tokens[i : i + span]
        i += span
        if entry is None or (entry and not isinstance(entry[0], Include) and number):
            # An unknown word, or an adjective-like phrase between a number and its subject
            # ("two stormy ships"), uses up some of the number's and the negation's reach.
            number_gap += 1
            if number_gap > _REACH:
                number = None
        if entry is None:
            negation_gap += 1
            if negation_gap > _REACH:
                negating = False
            continue
        head = entry[0] if entry else None
        if isinstance(head, Negate):
            negating, negation_gap, chain = True, 0, False
        elif isinstance(head, Join):
            if chain:
                negating, negation_gap = True, 0
        elif isinstance(head, Number):
            number, number_gap = head, 0
        elif head is not None:
            target = _target(head)
            if negating:
                if target is not None:
                    excluded.add(target)
                negating, chain = False, True
                if isinstance(head, Include):
                    number = None
                continue
            chain = False
            excluded.update(t for t in (_target(e) for e in entry if isinstance(e, Exclude)) if t)
            matches.append(
                _Match(" ".join(t.text for t in window), entry, window[-1].plural, number, clause)
            )
            if any(isinstance(e, Include) for e in entry):
                number = None
    return matches, excluded


def _count(include: Include, match: _Match) -> int:
    """How many of ``include.kind`` a phrase asks for."""
    stated = match.number if match.number is not None and not match.number.weak else None
    if stated is not None:
        count = stated.value
    elif include.kind in vocabulary().flocks:
        count = 1
    elif include.count is not None:
        count = include.count
    elif match.plural:
        count = _PLURAL_COUNT
    else:
        count = 1
    return max(_MIN_COUNT, min(MAX_COUNT, count))


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(slots=True)
class _Evidence:
    """What the prompt says about one single-valued aspect, in prompt order."""

    stated: list[tuple[Choice, str]]
    hinted: list[tuple[Choice, str]]


def _decide(
    default: _E,
    evidence: _Evidence,
    excluded: set[tuple[str, StrEnum]],
    aspect: str,
) -> tuple[_E, list[str]]:
    """First stated value, else first hint, else the default (or the next value allowed)."""
    kind = type(default)
    for candidates in (evidence.stated, evidence.hinted):
        allowed = [
            (v, w) for v, w in candidates if isinstance(v, kind) and (aspect, v) not in excluded
        ]
        if allowed:
            chosen = allowed[0][0]
            return chosen, _dedupe(w for v, w in allowed if v is chosen)
    for value in (default, *kind):
        if (aspect, value) not in excluded:
            return value, []
    return default, []


def _live(matches: list[_Match], excluded: set[tuple[str, StrEnum]]) -> Iterator[_Match]:
    """Matches whose main effect was not excluded (a hint from an excluded moon is moot)."""
    for match in matches:
        target = _target(match.entry[0])
        if target is None or target not in excluded:
            yield match


def _said(evidence: Mapping[str, _Evidence]) -> set[str]:
    """Aspects the prompt says anything about (season stays None otherwise)."""
    return {aspect for aspect, e in evidence.items() if e.stated or e.hinted}


def understand(prompt: str, negative_prompt: str = "") -> ScenePlan:
    """Reads a prompt into a scene plan the sketch renderer can draw.

    Deterministic and total: every string (empty, unknown words, any script, thousands of
    characters) gives a valid plan, falling back to ``ScenePlan()``'s defaults for whatever the
    prompt leaves open, so the engine always draws something pleasant.

    Args:
        prompt: What the person asked for.
        negative_prompt: What to leave out; subjects, weather, styles and other values named
            here are never chosen (a default that is named gives way to the next value).

    Returns:
        The plan, with ``matched`` naming the prompt words behind each aspect that was stated
        or inferred (inferred ones read ``"inferred from <word>"``).
    """
    matches, excluded = _read(prompt)
    negative_matches, negative_excluded = _read(negative_prompt)
    excluded |= negative_excluded
    for match in negative_matches:
        target = _target(match.entry[0])
        if target is not None:
            excluded.add(target)

    live = list(_live(matches, excluded))
    explicit_kinds = {
        e.kind
        for m in live
        for e in m.entry
        if isinstance(e, Include) and not e.unless and ("subjects", e.kind) not in excluded
    }
    subject_settings = vocabulary().subject_settings
    evidence = {aspect: _Evidence([], []) for aspect in _ASPECTS.values()}
    subjects: dict[SubjectKind, int] = {}
    actions: dict[SubjectKind, Action] = {}
    subject_words: list[str] = []
    last: tuple[SubjectKind, int] | None = None  # the last subject named, and its clause
    pending: tuple[Action, int] | None = None  # a verb still waiting for its subject
    for match in live:
        named: list[SubjectKind] = []
        for effect in match.entry:
            if isinstance(effect, Act):
                # A subject that has its verb passes a second one on to the next ("a dog
                # running past a dancing woman").
                if last is not None and last[1] == match.clause and last[0] not in actions:
                    actions[last[0]] = effect.action
                else:
                    pending = (effect.action, match.clause)
                continue
            if isinstance(effect, Choose):
                aspect = _ASPECTS[type(effect.value)]
                if effect.inferred:
                    hint = (effect.value, f"inferred from {match.surface}")
                    evidence[aspect].hinted.append(hint)
                else:
                    evidence[aspect].stated.append((effect.value, match.surface))
            elif isinstance(effect, Include):
                if ("subjects", effect.kind) in excluded or effect.unless & explicit_kinds:
                    continue
                named.append(effect.kind)
                subjects.setdefault(effect.kind, _count(effect, match))
                last = (effect.kind, match.clause)
                if pending is not None and pending[1] == match.clause:
                    actions.setdefault(effect.kind, pending[0])
                pending = None
        if named:
            subject_words.append(match.surface)
            for kind in named:
                if kind in subject_settings:
                    hint = (subject_settings[kind], f"inferred from {match.surface}")
                    evidence["setting"].hinted.append(hint)

    defaults = ScenePlan()
    matched: dict[str, list[str]] = {}

    def decide(default: _E, aspect: str) -> _E:
        value, words = _decide(default, evidence[aspect], excluded, aspect)
        if words:
            matched[aspect] = words
        return value

    setting = decide(defaults.setting, "setting")
    time_of_day = decide(defaults.time_of_day, "time_of_day")
    weather = decide(defaults.weather, "weather")
    if subject_words:
        matched["subjects"] = _dedupe(subject_words)
    camera = decide(defaults.camera, "camera")
    style = decide(defaults.style, "style")
    pace = decide(defaults.pace, "pace")
    season = decide(Season.SUMMER, "season") if "season" in _said(evidence) else None
    return ScenePlan(
        setting=setting,
        time_of_day=time_of_day,
        weather=weather,
        subjects=tuple(Subject(kind, count, actions.get(kind)) for kind, count in subjects.items()),
        camera=camera,
        style=style,
        pace=pace,
        matched=matched,
        season=season if "season" in matched else None,
    )


def removed(prompt: str) -> frozenset[tuple[str, StrEnum]]:
    """What ``prompt`` negates, as (aspect, value): "without the birds" is
    ``("subjects", SubjectKind.BIRDS)``. An edit removes these from the plan it changes."""
    return frozenset(_read(prompt)[1])
