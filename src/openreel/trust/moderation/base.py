"""The one shape every moderation check has, and what a refusal says.

A check looks at one normalised prompt and either lets it pass (None) or refuses it with a
category from the policy and a sentence a person can read. Checks know nothing of HTTP,
quotas or audit; the pipeline runs them in order and admission (trust/admission.py) turns a
refusal into a ``moderation_blocked`` error, an audit row and no charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openreel.trust.moderation.normalise import Prompt

__all__ = ["Moderator", "Refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a prompt was refused.

    Attributes:
        category: The policy category (``violence/graphic``, ``public_figure``...).
        reason: One sentence for the person who typed the prompt.
        check: Which check refused it (``rules``, ``public_figures``, ``artists``, ``semantic``).
        score: The semantic similarity that crossed the threshold, for the semantic check.
        rule: What matched (a rule id or registry entry id), for operators; never shown to
            the user, never the list itself.
    """

    category: str
    reason: str
    check: str
    score: float | None = None
    rule: str | None = None


class Moderator(Protocol):
    """One moderation check."""

    @property
    def name(self) -> str:
        """Short name used in refusals and audit rows."""
        ...

    def check(self, prompt: Prompt) -> Refusal | None:
        """Refuses ``prompt`` or lets it through (None)."""
        ...
