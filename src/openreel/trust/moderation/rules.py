"""Operator-editable rules: each category's regular expressions, run on every prompt view.

Rules catch the plain requests cheaply and predictably, before any model runs; the semantic
check is there for the paraphrases rules cannot list. Each category may name harmless phrases
to blank out first ("nude lipstick", "a shot of espresso"), which keeps its patterns simple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.normalise import Prompt
from openreel.trust.moderation.policy import Policy

__all__ = ["RuleCheck"]


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    all_of: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return all(pattern.search(text) for pattern in self.all_of)


@dataclass(frozen=True, slots=True)
class _Category:
    name: str
    reason: str
    ignore: re.Pattern[str] | None
    rules: tuple[_Rule, ...]


class RuleCheck:
    """Refuses prompts that match a category's patterns (first category in policy order)."""

    def __init__(self, policy: Policy) -> None:
        self._categories = tuple(
            _Category(
                name=name,
                reason=category.reason,
                ignore=re.compile("|".join(f"(?:{p})" for p in category.ignore))
                if category.ignore
                else None,
                rules=tuple(
                    _Rule(
                        id=f"{name}#{index}",
                        all_of=tuple(
                            re.compile(one)
                            for one in ([pattern] if isinstance(pattern, str) else pattern)
                        ),
                    )
                    for index, pattern in enumerate(category.patterns)
                ),
            )
            for name, category in policy.categories.items()
            if category.patterns
        )

    @property
    def name(self) -> str:
        """``rules``."""
        return "rules"

    def check(self, prompt: Prompt) -> Refusal | None:
        """The first category whose rule matches any view of ``prompt``, or None."""
        views = prompt.views()
        for category in self._categories:
            texts = (
                views if category.ignore is None else [category.ignore.sub(" ", v) for v in views]
            )
            for rule in category.rules:
                if any(rule.matches(text) for text in texts):
                    return Refusal(category.name, category.reason, self.name, rule=rule.id)
        return None
