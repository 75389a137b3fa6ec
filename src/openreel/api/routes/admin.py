"""``/v1/admin/...``: operators manage access tokens over HTTP (the CLI offers the same).

Every route needs a token with the ``admin`` scope whose owner is an admin; anyone else gets
403. Secrets appear only in the response that creates or rotates a token.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Body, Query

from openreel.api.deps import AdminDep, ServicesDep
from openreel.api.protocol import (
    AuditList,
    AuditObject,
    AuditVerdict,
    CreateToken,
    IssuedTokenObject,
    LiftPause,
    PauseList,
    PauseObject,
    PauseResult,
    Resumed,
    RotateToken,
    SetPause,
    SetQuota,
    TokenList,
    TokenObject,
    UsageList,
    UsageObject,
)
from openreel.api.routes.usage import usage_object
from openreel.domain import Role
from openreel.storage.pauses import Pause
from openreel.trust.auth import IssuedToken, TokenRecord

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _seconds(value: float | None) -> int | None:
    return None if value is None else int(value)


def _wire(record: TokenRecord) -> TokenObject:
    return TokenObject(
        id=record.id,
        principal_id=record.principal_id,
        name=record.name,
        prefix=record.prefix,
        scopes=list(record.scopes),
        created_at=int(record.created_at),
        expires_at=_seconds(record.expires_at),
        revoked_at=_seconds(record.revoked_at),
        last_used_at=_seconds(record.last_used_at),
    )


def _issued(issued: IssuedToken) -> IssuedTokenObject:
    return IssuedTokenObject(**_wire(issued.record).model_dump(), token=issued.token)


@router.get("/tokens", response_model=TokenList, summary="List tokens")
async def list_tokens(
    services: ServicesDep,
    admin: AdminDep,
    name: Annotated[str | None, Query(max_length=100, description="Only this principal's.")] = None,
) -> TokenList:
    """Every token (or one principal's), oldest first, without secrets."""
    del admin
    return TokenList(data=[_wire(r) for r in await services.read(services.auth.tokens, name)])


@router.post("/tokens", response_model=IssuedTokenObject, summary="Create a token")
async def create_token(
    body: CreateToken, services: ServicesDep, admin: AdminDep
) -> IssuedTokenObject:
    """Mints a token (and its principal when new); the secret is in this response only."""
    issued = await services.write(
        services.auth.issue,
        body.name,
        role=Role.ADMIN if body.admin else Role.USER,
        token_name=body.label,
        scopes=body.scopes,
        days=body.days,
        by=admin.id,
    )
    return _issued(issued)


@router.get("/tokens/{token_id}", response_model=TokenObject, summary="Retrieve a token")
async def retrieve_token(token_id: str, services: ServicesDep, admin: AdminDep) -> TokenObject:
    """One token's record, without its secret."""
    del admin
    return _wire(await services.read(services.auth.token, token_id))


@router.post("/tokens/{token_id}/revoke", response_model=TokenObject, summary="Revoke a token")
async def revoke_token(token_id: str, services: ServicesDep, admin: AdminDep) -> TokenObject:
    """Revokes a token; its very next request fails with 401."""
    return _wire(await services.write(services.auth.revoke, token_id, by=admin.id))


@router.post(
    "/tokens/{token_id}/rotate", response_model=IssuedTokenObject, summary="Rotate a token"
)
async def rotate_token(
    token_id: str,
    services: ServicesDep,
    admin: AdminDep,
    body: Annotated[RotateToken | None, Body()] = None,
) -> IssuedTokenObject:
    """A new token with the same owner, label and scopes; the old one is revoked."""
    days = body.days if body is not None else None
    return _issued(await services.write(services.auth.rotate, token_id, days=days, by=admin.id))


@router.get("/usage", response_model=UsageList, summary="Everyone's usage")
async def all_usage(
    services: ServicesDep,
    admin: AdminDep,
    name: Annotated[str | None, Query(max_length=200, description="Only this principal.")] = None,
) -> UsageList:
    """Quota usage of every principal (or one)."""
    del admin

    def views() -> list[UsageObject]:
        quotas = services.quotas
        people = [quotas.principal(name)] if name is not None else quotas.principals()
        return [usage_object(quotas.usage(p)) for p in people]

    return UsageList(data=await services.read(views))


@router.post("/quotas", response_model=UsageObject, summary="Set a principal's limits")
async def set_quota(body: SetQuota, services: ServicesDep, admin: AdminDep) -> UsageObject:
    """Gives a principal its own limits (null fields: back to the operator's defaults)."""
    principal = await services.write(
        services.quotas.set_limits,
        body.name,
        seconds=body.seconds,
        videos=body.videos,
        by=admin.id,
    )
    return usage_object(await services.read(services.quotas.usage, principal))


def _pause(pause: Pause) -> PauseObject:
    return PauseObject(
        scope=pause.scope,
        target=pause.target,
        reason=pause.reason,
        created_at=int(pause.created_at),
        created_by=pause.created_by,
    )


@router.get("/pauses", response_model=PauseList, summary="Kill switches in force")
async def list_pauses(services: ServicesDep, admin: AdminDep) -> PauseList:
    """Every pause in force, oldest first."""
    del admin
    return PauseList(data=[_pause(p) for p in await services.read(services.killswitch.pauses)])


@router.post("/pauses", response_model=PauseResult, summary="Pause new work")
async def set_pause(body: SetPause, services: ServicesDep, admin: AdminDep) -> PauseResult:
    """Refuses new videos for everyone, a model, a principal or a token (503 with the reason);
    optionally cancels matching queued videos and stops running ones at their next step."""
    outcome = await services.write(
        services.killswitch.pause,
        body.scope,
        body.target,
        reason=body.reason,
        by=admin.id,
        cancel_queued=body.cancel_queued,
        cancel_running=body.cancel_running,
    )
    return PauseResult(
        **_pause(outcome.pause).model_dump(),
        cancelled_queued=outcome.cancelled_queued,
        stopping_running=outcome.stopping_running,
    )


@router.post("/pauses/resume", response_model=Resumed, summary="Lift a pause")
async def lift_pause(body: LiftPause, services: ServicesDep, admin: AdminDep) -> Resumed:
    """Lifts a pause; queued videos it held back are claimed again."""
    resumed = await services.write(services.killswitch.resume, body.scope, body.target, by=admin.id)
    return Resumed(resumed=resumed)


@router.get("/audit", response_model=AuditList, summary="The audit log")
async def audit_log(
    services: ServicesDep,
    admin: AdminDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64, description="Principal id.")] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    after: Annotated[int | None, Query(ge=0, description="Rows older than this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """Audit rows matching every filter, newest first."""
    del admin
    rows = await services.read(
        services.audit.list,
        action=action,
        actor_id=actor,
        target_id=target,
        after_seq=after,
        limit=limit + 1,
    )
    data = [
        AuditObject(
            seq=r.seq,
            ts=r.ts,
            action=r.action,
            outcome=r.outcome,
            actor_id=r.actor_id,
            token_id=r.token_id,
            target_id=r.target_id,
            detail=r.detail,
            request_id=r.request_id,
            prev_hash=r.prev_hash,
            row_hash=r.row_hash,
        )
        for r in rows[:limit]
    ]
    return AuditList(data=data, has_more=len(rows) > limit)


@router.get("/audit/verify", response_model=AuditVerdict, summary="Check the audit chain")
async def audit_verify(services: ServicesDep, admin: AdminDep) -> AuditVerdict:
    """Recomputes every hash and link and checks the anchor; the anchor is not moved here
    (``openreel audit verify`` moves it)."""
    del admin
    report = await services.write(services.audit.verify, update_anchor=False)
    v = report.verification
    return AuditVerdict(
        ok=v.ok,
        rows_checked=v.rows_checked,
        first_bad_seq=v.first_bad_seq,
        reason=v.reason,
        anchor_seq=None if report.anchor is None else report.anchor.seq,
    )


@router.get("/upstreams", summary="Upstream GPU servers' reachability")
async def upstreams(services: ServicesDep, admin: AdminDep) -> dict[str, object]:
    """Each upstream GPU server: reachable or not, why not, and when it was last heard from
    (seconds ago). An unreachable one's models are out of ``/v1/models`` until it is back."""
    del admin
    registry = services.registry
    down = registry.unavailable()
    now = time.monotonic()
    data = []
    for name, report in registry.reports().items():
        checked = getattr(report, "checked_at", None)
        data.append(
            {
                "name": name,
                "available": name not in down,
                "reason": down.get(name),
                "checked_seconds_ago": None if checked is None else round(now - checked, 1),
                "models": [e.model for e in registry.models() if e.backend == name],
            }
        )
    return {"object": "list", "data": data}
