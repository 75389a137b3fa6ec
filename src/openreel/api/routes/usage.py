"""``GET /v1/usage``: where the caller stands against their quota."""

from __future__ import annotations

from fastapi import APIRouter

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import UsageObject
from openreel.trust.quotas import UsageView

__all__ = ["router", "usage_object"]

router = APIRouter(prefix="/v1", tags=["usage"])


def usage_object(view: UsageView) -> UsageObject:
    """The wire shape of a principal's usage."""
    report = view.report
    left = None
    if report.seconds_limit is not None:
        left = max(0.0, report.seconds_limit - report.seconds_used)
    return UsageObject(
        principal=view.principal.name,
        exempt=view.exempt,
        period_seconds=report.period_seconds,
        seconds_used=round(report.seconds_used, 3),
        seconds_limit=report.seconds_limit,
        seconds_left=None if left is None else round(left, 3),
        active_videos=report.active_videos,
        concurrent_limit=report.concurrent_limit,
        next_release_at=None if report.next_release_at is None else int(report.next_release_at),
    )


@router.get("/usage", response_model=UsageObject, summary="Your quota usage")
async def my_usage(services: ServicesDep, principal: PrincipalDep) -> UsageObject:
    """Seconds used this period, videos in flight, and your limits."""
    return usage_object(await services.read(services.quotas.usage, principal))
