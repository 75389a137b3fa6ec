"""Quota accounting: a ledger row per admitted video, checked and written with the job itself.

Every admitted video gets one ``usage`` row: ``reserved`` while it is queued or rendering,
``committed`` once it completed, ``refunded`` when it failed, was cancelled, was refused later
(moderation) or was deleted before finishing. A principal's spend is the sum of its reserved
and committed seconds created within the quota period; its running videos are its reserved
rows. Rows outlive their jobs, so deleting a finished video never gives its seconds back.

Why a ledger and not a counter column: a counter must be decremented on every path that ends
a job (a worker's failure, a cancel, the kill switch, a lost worker, a delete) and drifts the
first time one is missed. Here one statement, :func:`settle`, runs inside every transaction
that can end jobs and settles whatever reserved rows no longer have a live job; it is cheap
because only live videos have reserved rows.

Atomicity: :func:`admit` runs in the caller's write transaction, before the job row is
inserted. On SQLite that transaction began with ``BEGIN IMMEDIATE``, so admissions are
serialised by the write lock; on PostgreSQL it first takes a transaction-scoped advisory lock
keyed by the principal, so two admissions of one principal cannot both read the old total
(tests/e2e/test_quota_race.py races hundreds of them).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.errors import InvalidRequestError, RateLimitError
from openreel.storage.db import JOBS, USAGE

__all__ = ["Quota", "UsageReport", "admit", "report", "settle"]

RESERVED = "reserved"
COMMITTED = "committed"
REFUNDED = "refunded"

CONCURRENT_RETRY_S = 5.0
"""Retry-After for a principal at its concurrent-videos cap (a small video takes seconds)."""


@dataclass(frozen=True, slots=True)
class Quota:
    """One principal's limits.

    Attributes:
        seconds: Seconds of video per period, or None for no limit.
        period_seconds: Length of the rolling period (86400: a day).
        concurrent: Videos queued or rendering at once, or None for no limit.
    """

    seconds: float | None
    period_seconds: float
    concurrent: int | None


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Where a principal stands against its quota.

    Attributes:
        seconds_used: Reserved and committed seconds in the current period.
        seconds_limit: The period's allowance, or None.
        period_seconds: Length of the rolling period.
        active_videos: Videos queued or rendering.
        concurrent_limit: The cap on those, or None.
        next_release_at: Unix seconds when the oldest counted video leaves the period, or
            None when nothing is counted.
    """

    seconds_used: float
    seconds_limit: float | None
    period_seconds: float
    active_videos: int
    concurrent_limit: int | None
    next_release_at: float | None


def _lock_principal(conn: Connection, owner_id: str) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite: the BEGIN IMMEDIATE of the caller already serialises writers
    key = int.from_bytes(hashlib.sha256(owner_id.encode()).digest()[:8], "big", signed=True)
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _counted(
    owner_id: str | sa.BindParameter[Any], since: float | sa.BindParameter[Any]
) -> sa.ColumnElement[bool]:
    return sa.and_(
        USAGE.c.owner_id == owner_id,
        USAGE.c.created_at > since,
        USAGE.c.state.in_((RESERVED, COMMITTED)),
    )


def admit(
    conn: Connection,
    *,
    job_id: str,
    owner_id: str,
    seconds: float,
    now: float,
    quota: Quota,
) -> None:
    """Checks ``quota`` and reserves ``seconds`` for ``job_id``, in the caller's transaction.

    Raises:
        RateLimitError: The principal is at its concurrent cap or the seconds do not fit in
            the period yet (``retry_after`` says when they will).
        InvalidRequestError: The video alone is longer than the whole allowance.
    """
    _lock_principal(conn, owner_id)
    if quota.concurrent is not None:
        active: int = conn.execute(_admission().active, {"owner": owner_id}).scalar_one()
        if active >= quota.concurrent:
            raise RateLimitError(
                f"you already have {active} videos queued or rendering; the limit is "
                f"{quota.concurrent} at once. Retry when one finishes",
                retry_after=CONCURRENT_RETRY_S,
                code="concurrent_limit_exceeded",
            )
    if quota.seconds is not None:
        if seconds > quota.seconds:
            raise InvalidRequestError.for_value(
                "seconds",
                seconds,
                f"is more than your whole quota of {quota.seconds:g} seconds per "
                f"{_period(quota.period_seconds)}",
            )
        since = now - quota.period_seconds
        rows = conn.execute(_admission().counted, {"owner": owner_id, "since": since}).all()
        used = sum(float(r.seconds) for r in rows)
        if used + seconds > quota.seconds + 1e-9:
            needed = used + seconds - quota.seconds
            freed, retry_at = 0.0, now + quota.period_seconds
            for row in rows:  # the oldest leave the window first
                freed += float(row.seconds)
                if freed + 1e-9 >= needed:
                    retry_at = float(row.created_at) + quota.period_seconds
                    break
            raise RateLimitError(
                f"this {seconds:g}-second video would take you to {used + seconds:g} of your "
                f"{quota.seconds:g} seconds per {_period(quota.period_seconds)}; "
                f"{max(0.0, quota.seconds - used):g} seconds are left",
                retry_after=max(1.0, math.ceil(retry_at - now)),
                code="quota_exceeded",
            )
    conn.execute(
        _admission().reserve,
        {
            "job_id": job_id,
            "owner_id": owner_id,
            "seconds": seconds,
            "created_at": now,
            "state": RESERVED,
        },
    )


@dataclass(frozen=True, slots=True)
class _Admission:
    active: sa.Select[Any]
    counted: sa.Select[Any]
    reserve: sa.Insert


@functools.cache
def _admission() -> _Admission:
    """The statements of :func:`admit`, built on first use and kept: every create runs them,
    and building them cost more than running them."""
    owner: sa.BindParameter[Any] = sa.bindparam("owner")
    return _Admission(
        active=sa.select(sa.func.count())
        .select_from(USAGE)
        .where(USAGE.c.owner_id == owner, USAGE.c.state == RESERVED),
        counted=sa.select(USAGE.c.seconds, USAGE.c.created_at)
        .where(_counted(owner, sa.bindparam("since")))
        .order_by(USAGE.c.created_at),
        reserve=sa.insert(USAGE),
    )


def settle(conn: Connection, now: float) -> int:
    """Settles every reservation whose video is no longer queued or rendering.

    Completed videos commit their seconds; failed, cancelled and deleted ones are refunded.
    Idempotent, and cheap: only live videos have reserved rows. Returns how many it settled.
    """
    result = conn.execute(_settle_statement(), {"now": now})
    return int(result.rowcount)


@functools.cache
def _settle_statement() -> sa.Update:
    """Built on first use and kept: every transaction that may end a video runs it, and
    building it cost more than running it."""
    live = sa.select(JOBS.c.id).where(JOBS.c.status.in_(("queued", "in_progress")))
    completed = sa.select(JOBS.c.id).where(JOBS.c.status == "completed")
    return (
        sa.update(USAGE)
        .where(USAGE.c.state == RESERVED, USAGE.c.job_id.not_in(live))
        .values(
            state=sa.case((USAGE.c.job_id.in_(completed), COMMITTED), else_=REFUNDED),
            settled_at=sa.bindparam("now"),
        )
    )


def report(conn: Connection, owner_id: str, now: float, quota: Quota) -> UsageReport:
    """Where ``owner_id`` stands against ``quota`` right now."""
    since = now - quota.period_seconds
    used, oldest = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(USAGE.c.seconds), 0.0), sa.func.min(USAGE.c.created_at)
        ).where(_counted(owner_id, since))
    ).one()
    active = conn.execute(
        sa.select(sa.func.count())
        .select_from(USAGE)
        .where(USAGE.c.owner_id == owner_id, USAGE.c.state == RESERVED)
    ).scalar_one()
    return UsageReport(
        seconds_used=float(used),
        seconds_limit=quota.seconds,
        period_seconds=quota.period_seconds,
        active_videos=int(active),
        concurrent_limit=quota.concurrent,
        next_release_at=None if oldest is None else float(oldest) + quota.period_seconds,
    )


def _period(seconds: float) -> str:
    if seconds == 86400:
        return "day"
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} hours"
    return f"{seconds:g} seconds"
