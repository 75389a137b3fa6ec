"""The trust checks a new video passes before anything is queued, in one place.

A submission meets the kill switch, moderation and the quota in that order, and a refusal by
any of them is written to the audit log (what abuse reviews look for). Which of the checks run
is the deployment's choice: a check left out simply passes, so the video service never asks
which ones exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from openreel.domain import Principal, VideoRequest
from openreel.errors import (
    GenerationPausedError,
    ModerationBlockedError,
    OpenReelError,
    RateLimitError,
)
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.usage import Quota
from openreel.trust.killswitch import KillSwitch
from openreel.trust.moderation import ModerationPipeline
from openreel.trust.moderation.artists import ArtistStyleCheck
from openreel.trust.moderation.normalise import normalise
from openreel.trust.moderation.pipeline import blocked
from openreel.trust.quotas import QuotaService

__all__ = ["Admission"]

REFUSALS = (GenerationPausedError, RateLimitError, ModerationBlockedError)
"""Refusals by policy: audited, unlike a malformed request."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The checks a deployment runs on each submission.

    Attributes:
        killswitch: Operator pauses (everything, a model, a person, a token).
        moderation: The prompt checks, or None when moderation is off.
        quotas: Per-person quotas, or None when usage is not limited.
        audit: Where refusals are recorded, or None where nothing is audited.
    """

    killswitch: KillSwitch | None = None
    moderation: ModerationPipeline | None = None
    quotas: QuotaService | None = None
    audit: AuditStore | None = None

    def check_paused(
        self, principal: Principal, request: VideoRequest, token_id: str | None
    ) -> None:
        """Raises GenerationPausedError when a kill switch covers this submission."""
        if self.killswitch is not None:
            self.killswitch.check(principal, model=request.model, token_id=token_id)

    def screen(self, prompt: str) -> None:
        """Raises ModerationBlockedError for a refused prompt (before any quota is touched:
        a refused prompt is never charged, so there is nothing to refund)."""
        if self.moderation is not None:
            self.moderation.screen(prompt)

    def screen_name(self, name: str) -> None:
        """Raises ModerationBlockedError (naming ``name``) for a character's name that the
        prompt checks refuse (a listed public figure, say) or that is an opted-out artist's."""
        if self.moderation is None:
            return
        self.moderation.screen(name, param="name")
        artists = self.moderation.find(ArtistStyleCheck)
        if artists is not None:
            refusal = artists.check_name(normalise(name))
            if refusal is not None:
                raise blocked(refusal, param="name")

    def quota(self, principal: Principal) -> Quota | None:
        """The quota the job's row is admitted against, or None when unlimited."""
        return None if self.quotas is None else self.quotas.for_principal(principal)

    def refused(
        self,
        exc: OpenReelError,
        principal: Principal,
        request: VideoRequest,
        token_id: str | None,
    ) -> None:
        """Records a refusal by policy in the audit log (the category, never the prompt)."""
        if self.audit is None or not isinstance(exc, REFUSALS):
            return
        detail: dict[str, object] = {"model": request.model, "seconds": request.seconds}
        if isinstance(exc, ModerationBlockedError):
            # Which check fired and what inside it (a rule id, a listed name, the classifier's
            # category, threshold, probability and nearest examples): the prompt stays out.
            detail.update(category=exc.category, check=exc.check)
            if exc.rule is not None:
                detail["rule"] = exc.rule
            if exc.score is not None:
                detail["score"] = exc.score
            if exc.nearest:
                # The corpus examples it resembled (their text is the corpus's, not the user's).
                detail["nearest"] = [dict(near) for near in exc.nearest]
        self.audit.record(
            AuditEntry(
                action="video.refused",
                outcome=f"denied:{exc.code}",
                actor_id=principal.id,
                token_id=token_id,
                detail=detail,
            )
        )
