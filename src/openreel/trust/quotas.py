"""QuotaService: each principal's limits, and where it stands against them.

The limits come from the operator's defaults (``Settings.quota``) unless an admin gave the
principal its own; a value of 0 means "no limit". Admins are exempt unless the operator says
otherwise, so an operator is never locked out of their own server. The accounting itself is
the ledger in :mod:`openreel.storage.usage`, written in the same transaction as the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from openreel.config import QuotaConfig
from openreel.domain import Principal, Role
from openreel.errors import InvalidRequestError, NotFoundError
from openreel.storage.audit import AuditEntry
from openreel.storage.jobs import JobStore
from openreel.storage.principals import PrincipalStore
from openreel.storage.usage import Quota, UsageReport

__all__ = ["QuotaService", "UsageView"]


@dataclass(frozen=True, slots=True)
class UsageView:
    """A principal's usage, as ``GET /v1/usage`` and ``openreel usage`` show it."""

    principal: Principal
    report: UsageReport
    exempt: bool


class QuotaService:
    """Resolves limits per principal and reports usage."""

    def __init__(
        self,
        config: QuotaConfig,
        principals: PrincipalStore,
        jobs: JobStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._principals = principals
        self._jobs = jobs
        self._clock = clock

    def for_principal(self, principal: Principal) -> Quota | None:
        """The limits ``principal``'s next video is admitted against; None when exempt."""
        own_seconds, own_videos = self._principals.quota_overrides(principal.id)
        if (
            principal.role is Role.ADMIN
            and not self._config.admins
            and own_seconds is None
            and own_videos is None
        ):
            return None
        seconds = self._config.seconds if own_seconds is None else own_seconds
        videos = self._config.videos if own_videos is None else own_videos
        return Quota(
            seconds=seconds or None,
            period_seconds=self._config.period_hours * 3600.0,
            concurrent=videos or None,
        )

    def usage(self, principal: Principal) -> UsageView:
        """Where ``principal`` stands (exempt principals are reported without limits)."""
        quota = self.for_principal(principal)
        exempt = quota is None
        counted = quota or Quota(None, self._config.period_hours * 3600.0, None)
        return UsageView(principal, self._jobs.usage(principal.id, counted), exempt)

    def set_limits(
        self, name: str, *, seconds: float | None, videos: int | None, by: str | None = None
    ) -> Principal:
        """Gives the principal called ``name`` its own limits (None: back to the default).

        Raises:
            NotFoundError: No such principal.
            InvalidRequestError: A negative limit.
        """
        if seconds is not None and not seconds >= 0:
            raise InvalidRequestError.for_value("seconds", seconds, "must be 0 or more")
        if videos is not None and videos < 0:
            raise InvalidRequestError.for_value("videos", videos, "must be 0 or more")
        principal = self.principal(name)
        entry = AuditEntry(
            action="admin.quota",
            actor_id=by,
            target_id=principal.id,
            detail={"seconds": seconds, "videos": videos},
        )
        self._principals.set_quota_overrides(
            principal.id, seconds=seconds, videos=videos, audit=entry
        )
        return principal

    def principals(self) -> list[Principal]:
        """Every principal, oldest first."""
        return self._principals.list()

    def principal(self, name: str) -> Principal:
        """The principal called ``name``.

        Raises:
            NotFoundError: No such principal.
        """
        principal = self._principals.by_name(name)
        if principal is None:
            raise NotFoundError(f"no principal named {name!r}", param="name")
        return principal
