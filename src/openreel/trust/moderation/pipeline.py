"""The moderation pipeline: every check in order, one decision, one error for the user.

Order is cheapest and most certain first: the operator's rules, the public-figure list, the
artists' opt-out registry, then the semantic model for what the lists cannot spell out. The
first refusal wins and the rest do not run, so the model only sees prompts the lists allowed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from openreel.errors import ModerationBlockedError
from openreel.trust.moderation.base import Moderator, Refusal
from openreel.trust.moderation.normalise import normalise

__all__ = ["Decision", "ModerationPipeline"]

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the pipeline decided about one prompt.

    Attributes:
        refusal: Why it was refused, or None when it may be generated.
        elapsed_ms: Time the decision took.
    """

    refusal: Refusal | None
    elapsed_ms: float

    @property
    def allowed(self) -> bool:
        """Whether the prompt may be generated."""
        return self.refusal is None


class ModerationPipeline:
    """Runs ``checks`` in order on a prompt."""

    def __init__(self, checks: Sequence[Moderator]) -> None:
        self._checks = tuple(checks)

    @property
    def checks(self) -> tuple[Moderator, ...]:
        """The checks, in the order they run."""
        return self._checks

    def find(self, kind: type[C]) -> C | None:
        """The first check of type ``kind`` (the runtime hands the artists' check to the
        registry service, and warms the semantic one), or None."""
        for check in self._checks:
            if isinstance(check, kind):
                return check
        return None

    def decide(self, text: str) -> Decision:
        """Runs the checks on ``text``; the first refusal ends the run."""
        started = time.perf_counter()
        prompt = normalise(text)
        refusal = None
        for check in self._checks:
            refusal = check.check(prompt)
            if refusal is not None:
                break
        return Decision(refusal, (time.perf_counter() - started) * 1000.0)

    def screen(self, text: str, *, param: str = "prompt") -> Decision:
        """Like :meth:`decide`, but a refusal is raised.

        Raises:
            ModerationBlockedError: The prompt was refused (400, code ``moderation_blocked``,
                with the category and the reason).
        """
        decision = self.decide(text)
        if decision.refusal is not None:
            raise blocked(decision.refusal, param=param)
        return decision


_CHECK_WORDS = {
    "rules": "matched a policy rule",
    "public_figures": "named on the public-figure list",
    "artists": "an artist's opt-out",
    "semantic": "the moderation classifier",
    "guard": "the external moderation service",
}
"""How the refusal message names the check that fired, so a person knows what to change."""


def blocked(refusal: Refusal, *, param: str = "prompt") -> ModerationBlockedError:
    """The user-facing error for ``refusal``."""
    return ModerationBlockedError(
        f"{param} was refused by moderation ({refusal.category}): {refusal.reason} "
        f"[{_CHECK_WORDS.get(refusal.check, refusal.check)}]",
        param=param,
        category=refusal.category,
        check=refusal.check,
        rule=refusal.rule,
        score=refusal.score,
        nearest=tuple(
            {
                "line": near.line,
                "label": near.label,
                "similarity": near.similarity,
                "prompt": near.prompt,
            }
            for near in refusal.nearest
        ),
    )
