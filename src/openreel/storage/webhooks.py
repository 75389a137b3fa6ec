"""Webhook endpoints, their deliveries and the deliveries' lease.

Delivery rows are written by ``storage/webhook_outbox.py`` in the transaction that ends a
job. Dispatchers claim due rows
with a lease (:meth:`WebhookStore.claim`, the jobs' protocol: one conditional write, ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL), so any number of processes share the work and a
delivery has one attempt in flight at a time; an attempt's result is written only while its
lease is still held (:meth:`WebhookStore.finish`).

Secrets arrive here already sealed (``trust/sealing.py``): this module never sees one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from openreel.errors import NotFoundError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import (
    PRINCIPALS,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_ENDPOINTS,
    Database,
)

__all__ = [
    "EVENT_TYPES",
    "Attempt",
    "Claimed",
    "Delivery",
    "Endpoint",
    "Outcome",
    "WebhookStore",
]

EVENT_TYPES = ("video.completed", "video.failed")
"""The events an endpoint may ask for; a cancelled video is ``video.failed``."""

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"  # a delivery's status
DeliveryStatus = Literal["pending", "delivered", "failed"]

ENDPOINTS = WEBHOOK_ENDPOINTS
DELIVERIES = WEBHOOK_DELIVERIES
ATTEMPTS = WEBHOOK_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A stored endpoint; ``secret`` and ``previous_secret`` are sealed, never plain."""

    id: str
    owner_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    previous_secret: str | None
    previous_until: float | None
    created_at: float
    failing_since: float | None
    disabled_at: float | None
    disabled_reason: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a delivery: what came back and how long it took."""

    started_at: float
    latency_ms: float
    status_code: int | None
    error: str | None
    excerpt: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint, with its attempts when asked for."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    video_id: str
    payload: str
    created_at: float
    window_start: float
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: float | None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a dispatcher holds the lease of, with what an attempt needs."""

    delivery: Delivery
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a dispatcher decided after an attempt.

    Attributes:
        attempt: The attempt as it happened.
        delivered: A 2xx answer: the delivery is done.
        retry_at: When to try again; None gives the delivery up (``failed``).
        disable_after: Seconds of failing after which the endpoint is disabled.
    """

    attempt: Attempt
    delivered: bool
    retry_at: float | None
    disable_after: float


def _endpoint(row: RowMapping) -> Endpoint:
    return Endpoint(
        id=row["id"],
        owner_id=row["owner_id"],
        url=row["url"],
        events=tuple(json.loads(row["events"])),
        secret=row["secret"],
        previous_secret=row["previous_secret"],
        previous_until=row["previous_until"],
        created_at=row["created_at"],
        failing_since=row["failing_since"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
    )


def _delivery(row: RowMapping, history: Sequence[Attempt] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        video_id=row["video_id"],
        payload=row["payload"],
        created_at=row["created_at"],
        window_start=row["window_start"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        history=tuple(history),
    )


class WebhookStore:
    """Endpoints and deliveries in the database.

    Args:
        db: The database (migrated).
        audit: Where endpoint changes are logged, in the changing transaction (never a
            secret: only ids, hosts and event types).
    """

    def __init__(self, db: Database, audit: AuditStore | None = None) -> None:
        self._db = db
        self._audit = audit

    def _log(self, conn: Connection, entry: AuditEntry) -> None:
        if self._audit is not None:
            self._audit.append(conn, entry)

    # -- endpoints -------------------------------------------------------------------------------

    def add_endpoint(
        self,
        *,
        owner_id: str,
        url: str,
        events: Sequence[str],
        sealed_secret: str,
        now: float,
        limit: int,
        audit: AuditEntry,
    ) -> Endpoint | None:
        """Stores a new endpoint unless the owner already has ``limit``.

        Returns:
            The endpoint, or None when the owner is at the limit (nothing written).
        """
        endpoint_id = "wh_" + secrets.token_hex(12)
        with self._db.begin() as conn:
            # Two creations for one owner take turns: SQLite's write lock already makes them,
            # PostgreSQL's row lock on the principal does, so the count below stays true.
            conn.execute(
                sa.select(PRINCIPALS.c.id).where(PRINCIPALS.c.id == owner_id).with_for_update()
            )
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(ENDPOINTS)
                .where(ENDPOINTS.c.owner_id == owner_id)
            ).scalar_one()
            if count >= limit:
                return None
            conn.execute(
                sa.insert(ENDPOINTS).values(
                    id=endpoint_id,
                    owner_id=owner_id,
                    url=url,
                    events=json.dumps(list(events)),
                    secret=sealed_secret,
                    created_at=now,
                )
            )
            self._log(conn, _with_target(audit, endpoint_id))
            row = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).one()
        return _endpoint(row._mapping)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        """One endpoint.

        Raises:
            NotFoundError: No such endpoint.
        """
        with self._db.query() as conn:
            row = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).first()
        if row is None:
            raise _missing(endpoint_id)
        return _endpoint(row._mapping)

    def endpoints(self, owner_id: str | None) -> list[Endpoint]:
        """An owner's endpoints (everyone's for None), oldest first."""
        query = sa.select(ENDPOINTS).order_by(ENDPOINTS.c.created_at, ENDPOINTS.c.id)
        if owner_id is not None:
            query = query.where(ENDPOINTS.c.owner_id == owner_id)
        with self._db.read() as conn:
            return [_endpoint(row._mapping) for row in conn.execute(query)]

    def remove_endpoint(self, endpoint_id: str, audit: AuditEntry) -> None:
        """Deletes an endpoint with its deliveries and their attempts.

        Raises:
            NotFoundError: No such endpoint.
        """
        with self._db.begin() as conn:
            deliveries = sa.select(DELIVERIES.c.id).where(DELIVERIES.c.endpoint_id == endpoint_id)
            conn.execute(sa.delete(ATTEMPTS).where(ATTEMPTS.c.delivery_id.in_(deliveries)))
            conn.execute(sa.delete(DELIVERIES).where(DELIVERIES.c.endpoint_id == endpoint_id))
            gone = conn.execute(sa.delete(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id))
            if gone.rowcount == 0:
                raise _missing(endpoint_id)
            self._log(conn, _with_target(audit, endpoint_id))

    def rotate(
        self, endpoint_id: str, *, sealed_secret: str, previous_until: float, audit: AuditEntry
    ) -> Endpoint:
        """Gives the endpoint a new secret; the current one keeps signing until
        ``previous_until`` as well.

        Raises:
            NotFoundError: No such endpoint.
        """
        with self._db.begin() as conn:
            row = conn.execute(
                sa.update(ENDPOINTS)
                .where(ENDPOINTS.c.id == endpoint_id)
                .values(
                    previous_secret=ENDPOINTS.c.secret,
                    previous_until=previous_until,
                    secret=sealed_secret,
                )
                .returning(*ENDPOINTS.c)
            ).first()
            if row is None:
                raise _missing(endpoint_id)
            self._log(conn, _with_target(audit, endpoint_id))
        return _endpoint(row._mapping)

    def enable(self, endpoint_id: str, audit: AuditEntry) -> Endpoint:
        """Turns a disabled endpoint back on; its failed deliveries are not resent.

        Raises:
            NotFoundError: No such endpoint.
        """
        with self._db.begin() as conn:
            row = conn.execute(
                sa.update(ENDPOINTS)
                .where(ENDPOINTS.c.id == endpoint_id)
                .values(disabled_at=None, disabled_reason=None, failing_since=None)
                .returning(*ENDPOINTS.c)
            ).first()
            if row is None:
                raise _missing(endpoint_id)
            self._log(conn, _with_target(audit, endpoint_id))
        return _endpoint(row._mapping)

    # -- deliveries ------------------------------------------------------------------------------

    def deliveries(self, endpoint_id: str, *, limit: int = 50) -> list[Delivery]:
        """An endpoint's newest deliveries, each with its attempts (oldest attempt first)."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(DELIVERIES)
                .where(DELIVERIES.c.endpoint_id == endpoint_id)
                .order_by(DELIVERIES.c.seq.desc())
                .limit(limit)
            ).all()
            ids = [row.id for row in rows]
            attempts: dict[str, list[Attempt]] = {delivery_id: [] for delivery_id in ids}
            if ids:
                for attempt in conn.execute(
                    sa.select(ATTEMPTS)
                    .where(ATTEMPTS.c.delivery_id.in_(ids))
                    .order_by(ATTEMPTS.c.seq)
                ):
                    attempts[attempt.delivery_id].append(_attempt(attempt._mapping))
        return [_delivery(row._mapping, attempts[row.id]) for row in rows]

    def delivery(self, delivery_id: str) -> Delivery:
        """One delivery with its attempts.

        Raises:
            NotFoundError: No such delivery.
        """
        with self._db.read() as conn:
            row = conn.execute(sa.select(DELIVERIES).where(DELIVERIES.c.id == delivery_id)).first()
            if row is None:
                raise NotFoundError(f"no webhook delivery {delivery_id!r}", param="delivery_id")
            attempts = [
                _attempt(a._mapping)
                for a in conn.execute(
                    sa.select(ATTEMPTS)
                    .where(ATTEMPTS.c.delivery_id == delivery_id)
                    .order_by(ATTEMPTS.c.seq)
                )
            ]
        return _delivery(row._mapping, attempts)

    def redeliver(self, delivery_id: str, now: float, audit: AuditEntry) -> Delivery:
        """Sends a delivery again now, with the same ``webhook-id``, and a fresh retry window.

        A delivery with an attempt in flight is left to it (its lease decides); any other is
        due at once.

        Raises:
            NotFoundError: No such delivery.
        """
        with self._db.begin() as conn:
            result = conn.execute(
                sa.update(DELIVERIES)
                .where(
                    DELIVERIES.c.id == delivery_id,
                    sa.or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until <= now),
                )
                .values(
                    status=PENDING,
                    next_attempt_at=now,
                    window_start=now,
                    lease_until=None,
                    holder=None,
                )
            )
            if result.rowcount:
                self._log(conn, _with_target(audit, delivery_id))
        return self.delivery(delivery_id)

    def release_all(self, now: float) -> int:
        """Makes every delivery held by a dispatcher due now, for a server starting up.

        Only call this while holding the data-folder lock over the folder's own database:
        then no other dispatcher can be running, so every held delivery's attempt was
        interrupted (a kill between the commit and the answer) and waits for nobody.

        Returns:
            How many deliveries were released.
        """
        with self._db.begin() as conn:
            result = conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.status == PENDING, DELIVERIES.c.holder.isnot(None))
                .values(holder=None, lease_until=None, next_attempt_at=now)
            )
        return int(result.rowcount)

    def prune(self, before: float) -> int:
        """Deletes deliveries that ended (delivered or given up) before ``before``, with their
        attempts, so the outbox does not grow forever.

        Returns:
            How many deliveries were deleted.
        """
        ended = sa.select(DELIVERIES.c.id).where(
            DELIVERIES.c.status != PENDING, DELIVERIES.c.created_at < before
        )
        with self._db.begin() as conn:
            conn.execute(sa.delete(ATTEMPTS).where(ATTEMPTS.c.delivery_id.in_(ended)))
            result = conn.execute(
                sa.delete(DELIVERIES).where(
                    DELIVERIES.c.status != PENDING, DELIVERIES.c.created_at < before
                )
            )
        return int(result.rowcount)

    def next_due(self) -> float | None:
        """When the earliest pending delivery is due (or its lease ends), or None."""
        with self._db.query() as conn:
            due = conn.execute(
                sa.select(sa.func.min(DELIVERIES.c.next_attempt_at))
                .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
                .where(DELIVERIES.c.status == PENDING, ENDPOINTS.c.disabled_at.is_(None))
            ).scalar()
        return None if due is None else float(due)

    def claim(self, holder: str, *, limit: int, lease_seconds: float, now: float) -> list[Claimed]:
        """Takes up to ``limit`` due deliveries of enabled endpoints, oldest due first.

        A claimed row gets ``holder`` and a lease, and its ``next_attempt_at`` moves to the
        lease's end: if the holder dies, the row comes due again then, and only then. On
        PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED``, so
        concurrent claimers take disjoint rows without waiting; on SQLite the write
        transaction itself is exclusive.
        """
        if limit <= 0:
            return []
        due = sa.and_(
            DELIVERIES.c.status == PENDING,
            DELIVERIES.c.next_attempt_at <= now,
        )
        candidates = (
            sa.select(DELIVERIES.c.seq)
            .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
            .where(due, ENDPOINTS.c.disabled_at.is_(None))
            .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.seq)
            .limit(limit)
        )
        with self._db.query() as conn:  # a read first: idle dispatchers never take the lock
            if conn.execute(candidates.limit(1)).first() is None:
                return []
        until = now + lease_seconds
        if not self._db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True, of=DELIVERIES)
        with self._db.begin() as conn:
            seqs = list(conn.execute(candidates).scalars())
            if not seqs:
                return []
            rows = conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.seq.in_(seqs), due)
                .values(holder=holder, lease_until=until, next_attempt_at=until)
                .returning(*DELIVERIES.c)
            ).all()
            rows = sorted(rows, key=lambda row: int(row.seq))
            endpoint_ids = sorted({row.endpoint_id for row in rows})
            endpoints = {
                row.id: _endpoint(row._mapping)
                for row in conn.execute(
                    sa.select(ENDPOINTS).where(ENDPOINTS.c.id.in_(endpoint_ids))
                )
            }
        return [Claimed(_delivery(row._mapping), endpoints[row.endpoint_id]) for row in rows]

    def finish(self, claimed: Claimed, holder: str, outcome: Outcome) -> bool:
        """Records one attempt (see :meth:`finish_many`).

        Returns:
            False when the lease was lost.
        """
        return self.finish_many([(claimed, outcome)], holder)[0]

    def finish_many(self, results: Sequence[tuple[Claimed, Outcome]], holder: str) -> list[bool]:
        """Records attempts and their consequences, in one transaction, for each delivery
        ``holder`` still holds the lease of.

        A 2xx ends the delivery and clears the endpoint's failing streak. A failure schedules
        the next attempt (or gives up when ``retry_at`` is None), starts the endpoint's
        streak if it had none, and disables the endpoint, with the reason, once the streak is
        older than ``outcome.disable_after``. One transaction for a batch: on SQLite every
        write transaction queues for the one write lock, and ten attempts that ended together
        would otherwise queue ten times behind each other and the render workers.

        Returns:
            For each result, False when the lease was lost (another dispatcher took the
            delivery over): then nothing is written for it, so a row never shows two
            outcomes for one attempt.
        """
        if not results:
            return []
        with self._db.begin() as conn:
            return [self._finish(conn, claimed, holder, outcome) for claimed, outcome in results]

    def _finish(self, conn: Connection, claimed: Claimed, holder: str, outcome: Outcome) -> bool:
        delivery = claimed.delivery
        attempt = outcome.attempt
        now = attempt.started_at + attempt.latency_ms / 1000
        if outcome.delivered:
            values: dict[str, Any] = {
                "status": DELIVERED,
                "delivered_at": now,
                "next_attempt_at": None,
            }
        elif outcome.retry_at is None:
            values = {"status": FAILED, "next_attempt_at": None}
        else:
            values = {"next_attempt_at": outcome.retry_at}
        values |= {
            "attempts": DELIVERIES.c.attempts + 1,
            "lease_until": None,
            "holder": None,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error,
        }
        result = conn.execute(
            sa.update(DELIVERIES)
            .where(
                DELIVERIES.c.id == delivery.id,
                DELIVERIES.c.holder == holder,
                DELIVERIES.c.status == PENDING,
            )
            .values(values)
        )
        if result.rowcount == 0:
            return False
        conn.execute(
            sa.insert(ATTEMPTS).values(
                delivery_id=delivery.id,
                started_at=attempt.started_at,
                latency_ms=attempt.latency_ms,
                status_code=attempt.status_code,
                error=attempt.error,
                excerpt=attempt.excerpt,
            )
        )
        endpoint = ENDPOINTS.c
        if outcome.delivered:
            conn.execute(
                sa.update(ENDPOINTS)
                .where(endpoint.id == delivery.endpoint_id, endpoint.failing_since.isnot(None))
                .values(failing_since=None)
            )
            return True
        conn.execute(
            sa.update(ENDPOINTS)
            .where(endpoint.id == delivery.endpoint_id, endpoint.failing_since.is_(None))
            .values(failing_since=attempt.started_at)
        )
        reason = (
            f"disabled automatically: every attempt failed for more than "
            f"{outcome.disable_after / 3600:g} hours; the last one: "
            f"{attempt.error or f'HTTP {attempt.status_code}'}"
        )
        disabled = conn.execute(
            sa.update(ENDPOINTS)
            .where(
                endpoint.id == delivery.endpoint_id,
                endpoint.disabled_at.is_(None),
                endpoint.failing_since <= now - outcome.disable_after,
            )
            .values(disabled_at=now, disabled_reason=reason)
        )
        if disabled.rowcount:
            self._log(
                conn,
                AuditEntry(
                    action="webhook.disabled",
                    target_id=delivery.endpoint_id,
                    outcome="error:failing",
                ),
            )
        return True


def _attempt(row: RowMapping) -> Attempt:
    return Attempt(
        started_at=row["started_at"],
        latency_ms=row["latency_ms"],
        status_code=row["status_code"],
        error=row["error"],
        excerpt=row["excerpt"],
    )


def _with_target(entry: AuditEntry, target_id: str) -> AuditEntry:
    return AuditEntry(
        action=entry.action,
        outcome=entry.outcome,
        actor_id=entry.actor_id,
        token_id=entry.token_id,
        target_id=target_id,
        detail=entry.detail,
        ip=entry.ip,
        user_agent=entry.user_agent,
        request_id=entry.request_id,
    )


def _missing(endpoint_id: str) -> NotFoundError:
    return NotFoundError(f"no webhook endpoint {endpoint_id!r}", param="webhook_id")
