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

__all__ = ["Moderator", "Nearest", "Refusal"]


@dataclass(frozen=True, slots=True)
class Nearest:
    """A labelled corpus example close to a prompt the classifier refused.

    Attributes:
        line: Its line in the classifier's ``corpus.jsonl`` (1-based).
        label: Its category.
        similarity: Cosine similarity of its embedding to the prompt's.
        prompt: Its text (the corpus's, never the user's), cut to a readable length.
    """

    line: int
    label: str
    similarity: float
    prompt: str


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
        nearest: For the classifier's refusals, the corpus examples of the category closest
            to the prompt (for the audit row; never shown to the user).
    """

    category: str
    reason: str
    check: str
    score: float | None = None
    rule: str | None = None
    nearest: tuple[Nearest, ...] = ()


class Moderator(Protocol):
    """One moderation check."""

    @property
    def name(self) -> str:
        """Short name used in refusals and audit rows."""
        ...

    def check(self, prompt: Prompt) -> Refusal | None:
        """Refuses ``prompt`` or lets it through (None)."""
        ...
