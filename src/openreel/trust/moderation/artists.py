"""The artists' opt-out check: refuse prompts asking for the style of an artist who said no.

Only requests for a registered artist's *style* are refused ("in the style of X", "by X",
"X-like", "X-esque", "X's style"); naming the artist otherwise (a documentary about them, a
portrait) is not a style request. An artist who marked style use as allowed refuses nothing;
pending requests are not enforced until an admin approves them.

The registry is compiled into one regular expression per artist and re-read only when its
version (entry count and last change) moves, checked at most every ``refresh_s`` seconds, so
a change made by another process takes effect within that time and a prompt costs no query.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openreel.storage.artists import ArtistEntry, ArtistStore
from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.names import name_pattern
from openreel.trust.moderation.normalise import Prompt

__all__ = ["ArtistStyleCheck", "style_pattern"]

CATEGORY = "living_artist_style"

_BEFORE = (
    r"(?:in\s+the\s+(?:\w+\s+){0,2}(?:style|manner|vein|spirit)\s+of|in\s+(?:the\s+)?style\s+of"
    r"|inspired\s+by|styled\s+(?:after|like)|reminiscent\s+of|homage\s+to|imitating|mimicking"
    r"|channell?ing|a\s+la|made\s+by|painted\s+by|drawn\s+by|directed\s+by|animated\s+by"
    r"|shot\s+by|by|after|like)"
    r"\s+(?:the\s+)?(?:(?:artist|painter|illustrator|director|animator|photographer)\s+)?"
)
_AFTER = (
    r"(?:\s*'\s*s|s)?[\s\-]*"
    r"(?:style[ds]?|like|esque|inspired|aesthetic|vibes?|look|influenced|type|inspo)(?![a-z])"
)


def style_pattern(spellings: Sequence[str]) -> str:
    """A regular expression for a style request naming any of ``spellings``."""
    name = name_pattern(spellings)
    return rf"(?:{_BEFORE}{name})|(?:{name}{_AFTER})"


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry_id: str
    name: str
    pattern: re.Pattern[str]
    alone: re.Pattern[str]  # the name itself, for names given to characters


class ArtistStyleCheck:
    """Refuses style requests for artists in the opt-out registry.

    Args:
        store: The registry.
        refresh_s: How often to look for changes made elsewhere.
        clock: Monotonic seconds (tests step it).
    """

    def __init__(
        self,
        store: ArtistStore,
        *,
        refresh_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._version: tuple[int, float] | None = None
        self._looked_at = float("-inf")
        self._compiled: tuple[_Compiled, ...] = ()

    @property
    def name(self) -> str:
        """``artists``."""
        return "artists"

    def invalidate(self) -> None:
        """Re-reads the registry on the next prompt (called after a change in this process)."""
        with self._lock:
            self._looked_at = float("-inf")
            self._version = None  # re-read even if the registry's clock did not move

    def check(self, prompt: Prompt) -> Refusal | None:
        """Refuses a style request for an enforced registry entry, or returns None."""
        for artist in self._current():
            if any(artist.pattern.search(view) for view in prompt.views()):
                reason = (
                    f"{artist.name} asked not to have their style imitated (artists' opt-out "
                    "registry); describe the look you want instead of naming the artist."
                )
                return Refusal(CATEGORY, reason, self.name, rule=artist.entry_id)
        return None

    def check_name(self, prompt: Prompt) -> Refusal | None:
        """Refuses a name (a character's) that is an enforced registry entry's name.

        A character called after an artist who opted out would carry their name into every
        prompt that uses it; the name alone is refused, not only a style request.
        """
        for artist in self._current():
            if any(artist.alone.search(view) for view in prompt.views()):
                reason = (
                    f"{artist.name} is in the artists' opt-out registry; "
                    "give the character another name."
                )
                return Refusal(CATEGORY, reason, self.name, rule=artist.entry_id)
        return None

    def _current(self) -> tuple[_Compiled, ...]:
        with self._lock:
            now = self._clock()
            if now - self._looked_at < self._refresh_s:
                return self._compiled
            self._looked_at = now
            version = self._store.version()
            if version != self._version:
                self._compiled = tuple(
                    _compile(entry)
                    for entry in self._store.list(status="active")
                    if not entry.allow_style
                )
                self._version = version
            return self._compiled


def _compile(entry: ArtistEntry) -> _Compiled:
    spellings = [entry.name, *entry.aliases]
    pattern = re.compile(style_pattern(spellings))
    return _Compiled(entry.id, entry.name, pattern, re.compile(name_pattern(spellings)))
