"""Text normalisation: the forms of a prompt that every other check matches against.

People who want a refused prompt through spell it so a plain word list misses it: capitals,
accents (``nákéd``), look-alike letters from other scripts or full-width forms, leetspeak
(``n4k3d``, ``s3x``), and letters spaced or dotted apart (``n a k e d``, ``g.o.r.e``). Folding
all of these is cheaper and more predictable than asking a model to see through them, and it
lets an operator's patterns stay plain lower-case words.

Each :class:`Prompt` keeps several views because each folding also destroys something: leet
folding turns ``10-year-old`` into ``io-year-old``, so rules about ages read the plain view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = ["Prompt", "fold", "normalise"]

# Letters from other scripts that look like Latin ones (the common confusables), after NFKC.
_LOOKALIKES: Final = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h",
        "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d",
    }
)  # fmt: skip

# Leetspeak digits and symbols, applied only inside words that also hold letters, so sizes,
# years and ages ("1080p" aside) keep their digits.
_LEET: Final[dict[int, str]] = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "!": "i", "+": "t", "|": "l", "€": "e"}
)  # fmt: skip
# "1" stands for "l" as often as for "i" ("b100d"): a second view decodes it that way.
_LEET_L: Final = {**_LEET, ord("1"): "l"}
_LEET_CHARS: Final = "0134578 9@$!+|€".replace(" ", "")
_WORD: Final = re.compile(r"[^\s]+")
_PART: Final = re.compile(r"[a-z0-9@$!+|€]+")
_INSIDE: Final = re.compile(r"[a-z][0-9@$!+|€]+[a-z]")
_LEADING: Final = re.compile(r"[@$][a-z]{2,}")
# Runs of at least three single letters split by spaces or punctuation: "n a k e d", "g.o.r.e".
_SPACED: Final = re.compile(r"\b(?:[a-z0-9][\s.\-_*'·]+){2,}[a-z0-9]\b")
# Dots, asterisks and the like inside a word: "ex.termi.nation", "st*pid".
_INNER: Final = re.compile(r"(?<=[a-z])[.*·_](?=[a-z])")
_SEPARATORS: Final = re.compile(r"[\s.\-_*'·]+")
_NON_WORD: Final = re.compile(r"[^a-z0-9]+")
_SPACES: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt in every form the checks read.

    Attributes:
        original: As received.
        plain: Case-folded, accents and look-alike letters folded, NFKC, single-spaced.
        decoded: ``plain`` with leetspeak decoded and spaced-out letters joined.
        words: ``decoded`` with punctuation turned into single spaces (whole-word matching).
        squashed: ``decoded`` with everything but letters and digits removed.
        alternate: ``decoded`` reading "1" as "l" instead of "i", when that differs.
        joined: The runs of spaced-out letters that were joined ("E m m a n u e l  M a c r o n"
            gives "emmanuelmacron"): where a name's spaces were lost too.
    """

    original: str
    plain: str
    decoded: str
    words: str
    squashed: str
    alternate: str | None = None
    joined: tuple[str, ...] = ()

    def views(self) -> tuple[str, ...]:
        """The views a word-list rule should try, most literal first."""
        if self.alternate is None:
            return (self.plain, self.decoded, self.words)
        return (self.plain, self.decoded, self.words, self.alternate)


def fold(text: str) -> str:
    """Case, width, accents and look-alike letters folded; whitespace collapsed.

    The same function folds names in lists and registries, so they match prompts folded alike.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text)
    # Look-alikes again after the accents go: an accented Cyrillic "ё" is a plain "е" only now.
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = unicodedata.normalize("NFKC", stripped).casefold().translate(_LOOKALIKES)
    return _SPACES.sub(" ", stripped).strip()


def _unleet(word: str, table: dict[int, str]) -> str:
    return _PART.sub(lambda m: _unleet_part(m.group(0), table), word)


def _unleet_part(part: str, table: dict[int, str]) -> str:
    # Decode only where symbols stand in for letters: a run of them between two letters
    # ("n4k3d", "s3x", "b100d", "r0m4") or a leading "$"/"@" ("$ex"), so numbers with units,
    # ordinals and versions stay as typed ("35mm", "60fps", "4th", "13yo", "mp4", "h264").
    tail = len(part) - len(part.rstrip("!+|"))  # punctuation closing a word is not a letter
    if tail:
        return _unleet_part(part[:-tail], table) + part[-tail:]
    if not _INSIDE.search(part) and not _LEADING.match(part):
        return part
    return part.translate(table)


def normalise(text: str) -> Prompt:
    """Every view of ``text`` (see :class:`Prompt`)."""
    plain = fold(text)
    decoded = _decode(plain, _LEET)
    other = _decode(plain, _LEET_L)
    words = _SPACES.sub(" ", _NON_WORD.sub(" ", decoded)).strip()
    return Prompt(
        original=text,
        plain=plain,
        decoded=decoded,
        words=words,
        squashed=_NON_WORD.sub("", decoded),
        alternate=other if other != decoded else None,
        joined=tuple(
            _NON_WORD.sub("", m.group(0)) for m in _SPACED.finditer(_decode_words(plain, _LEET))
        ),
    )


def _decode_words(plain: str, table: dict[int, str]) -> str:
    return _WORD.sub(lambda m: _unleet(m.group(0), table), plain)


def _decode(plain: str, table: dict[int, str]) -> str:
    decoded = _decode_words(plain, table)
    decoded = _SPACED.sub(lambda m: _SEPARATORS.sub("", m.group(0)), decoded)
    return _INNER.sub("", decoded)
