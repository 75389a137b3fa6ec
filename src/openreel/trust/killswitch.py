"""KillSwitch: operators stop new work (everything, a model, a person or a token) in seconds.

A pause refuses new videos at admission with a 503 that carries the operator's reason, keeps
matching queued videos from being claimed, and, when asked, cancels the queued ones and tells
running ones to stop at their next step. Reads keep working, so people can still fetch what
they made. Targets are given by name (principal name, token id, model id) and stored by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from openreel.domain import Principal
from openreel.errors import GenerationPausedError, NotFoundError
from openreel.storage.jobs import JobStore
from openreel.storage.pauses import Pause, PauseScope, PauseStore
from openreel.storage.principals import PrincipalStore

__all__ = ["KillSwitch", "PauseOutcome"]


@dataclass(frozen=True, slots=True)
class PauseOutcome:
    """What setting a pause did.

    Attributes:
        pause: The pause now in force.
        cancelled_queued: Queued videos cancelled (when asked).
        stopping_running: Running videos told to stop (when asked).
    """

    pause: Pause
    cancelled_queued: int
    stopping_running: int


class KillSwitch:
    """Sets, lifts and enforces pauses."""

    def __init__(self, pauses: PauseStore, jobs: JobStore, principals: PrincipalStore) -> None:
        self._pauses = pauses
        self._jobs = jobs
        self._principals = principals

    def check(self, principal: Principal, *, model: str, token_id: str | None) -> None:
        """Refuses new work that a pause matches.

        Raises:
            GenerationPausedError: With the operator's reason.
        """
        pause = self._pauses.matching(model=model, principal_id=principal.id, token_id=token_id)
        if pause is None:
            return
        what = {
            "all": "all new videos are paused",
            "model": f"new videos with {pause.target} are paused",
            "principal": "new videos for your account are paused",
            "token": "new videos with this token are paused",
        }[pause.scope]
        raise GenerationPausedError(f"{what} by the operator: {pause.reason}")

    def pause(
        self,
        scope: PauseScope,
        target: str = "",
        *,
        reason: str,
        by: str | None = None,
        cancel_queued: bool = False,
        cancel_running: bool = False,
    ) -> PauseOutcome:
        """Sets a pause; optionally cancels matching queued videos and stops running ones.

        Args:
            scope: ``all``, ``model``, ``principal`` or ``token``.
            target: Model id, principal *name* or token id ('' for ``all``).
            reason: Shown to everyone refused.
            by: Principal id of the admin (None from the command line).
            cancel_queued: Also fail matching queued videos as cancelled.
            cancel_running: Also tell matching running videos to stop.

        Raises:
            InvalidRequestError: Bad scope, target or reason.
            NotFoundError: No principal or token with that name or id.
        """
        stored = self._target_id(scope, target)
        pause = self._pauses.pause(scope, stored, reason, created_by=by)
        match = self._match(scope, stored)
        queued = self._jobs.cancel_queued(**match) if cancel_queued else 0
        running = self._jobs.cancel_running(**match) if cancel_running else 0
        return PauseOutcome(pause, queued, running)

    def resume(self, scope: PauseScope, target: str = "", *, by: str | None = None) -> bool:
        """Lifts a pause; returns whether there was one."""
        return self._pauses.resume(scope, self._target_id(scope, target), by=by)

    def pauses(self) -> list[Pause]:
        """Every pause in force."""
        return self._pauses.list()

    def _target_id(self, scope: PauseScope, target: str) -> str:
        target = target.strip()
        if scope == "principal" and target:
            principal = self._principals.by_name(target)
            if principal is None:
                raise NotFoundError(f"no principal named {target!r}", param="target")
            return principal.id
        if scope == "token" and target:
            self._principals.get_token(target)  # NotFoundError names it
        return target

    @staticmethod
    def _match(scope: PauseScope, target: str) -> dict[str, str | None]:
        return {
            "owner_id": target if scope == "principal" else None,
            "model": target if scope == "model" else None,
            "token_id": target if scope == "token" else None,
        }
