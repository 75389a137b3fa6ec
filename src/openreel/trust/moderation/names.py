"""Name lists: real people whose likeness the server does not generate.

Names are folded like prompts (case, accents, look-alikes) and matched as whole words on
every view, so "Beyoncé", "BEYONCE" and "b e y o n c e" are one name. Each person may have
aliases; the refusal names the person as the list spells them first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.normalise import Prompt, fold
from openreel.trust.moderation.policy import NameListPolicy

__all__ = ["NameCheck", "name_pattern"]


def name_pattern(spellings: Iterable[str]) -> str:
    """One regular expression matching any of ``spellings`` as whole words, folded.

    Spaces inside a name match any run of spaces or punctuation, so "Jean-Michel" and
    "jean michel" are the same name.
    """
    alternatives = sorted(
        {
            r"[\s\W_]+".join(re.escape(part) for part in fold(s).replace("-", " ").split())
            for s in spellings
            if _HAS_WORD.search(fold(s))
        },
        key=len,
        reverse=True,
    )
    if not alternatives:
        return r"(?!)"  # matches nothing
    return r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])"


# "Obama-style poster", "Trump-era policy": the name describes a look or a time, not a person
# to depict.
_NOT_LIKENESS: Final = r"(?![\s\-]*(?:style|era|administration)(?![a-z]))"
_SQUASHED_MIN: Final = 8
"""Names at least this long (letters only) are also looked for inside runs of spaced-out
letters, which catches "E m m a n u e l  M a c r o n"; shorter ones are too likely by chance."""
_HAS_WORD: Final = re.compile(r"[^\W_]")


class NameCheck:
    """Refuses prompts naming anyone on a list (public figures by default)."""

    def __init__(self, names: NameListPolicy, *, check_name: str = "public_figures") -> None:
        self._category = names.category
        self._ignore = (
            re.compile("|".join(f"(?:{p})" for p in names.ignore)) if names.ignore else None
        )
        self._reason = names.reason
        self._name = check_name
        self._people: Sequence[tuple[str, re.Pattern[str], tuple[str, ...]]] = tuple(
            (
                spellings[0],
                re.compile(name_pattern(spellings) + _NOT_LIKENESS),
                tuple(
                    squashed
                    for squashed in {re.sub(r"[^a-z0-9]", "", fold(s)) for s in spellings}
                    if len(squashed) >= _SQUASHED_MIN
                ),
            )
            for spellings in names.names
            if spellings
        )

    @property
    def name(self) -> str:
        """The check's name (``public_figures``)."""
        return self._name

    def check(self, prompt: Prompt) -> Refusal | None:
        """The first listed person named in any view of ``prompt``, or None."""
        views = prompt.views()
        if self._ignore is not None:
            views = tuple(self._ignore.sub(" ", view) for view in views)
        for display, pattern, squashed in self._people:
            if any(pattern.search(view) for view in views) or any(
                name in run for name in squashed for run in prompt.joined
            ):
                reason = self._reason.replace("{name}", display)
                return Refusal(self._category, reason, self._name, rule=display)
        return None
