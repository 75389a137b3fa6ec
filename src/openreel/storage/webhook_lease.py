"""The deliveries' lease: dispatchers claim due rows (the jobs' protocol: one conditional
write, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number of processes share the work
and a delivery has one attempt in flight at a time; an attempt's result is written only while
its lease is still held. Also what a starting server and the sweeper do to the rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.storage.audit import AuditEntry
from openreel.storage.db import Database
from openreel.storage.webhook_records import (
    ATTEMPTS,
    DELIVERED,
    DELIVERIES,
    ENDPOINTS,
    FAILED,
    PENDING,
    Claimed,
    Outcome,
    delivery_of,
    endpoint_of,
)

__all__ = ["DeliveryLease"]


class DeliveryLease:
    """The lease half of :class:`~openreel.storage.webhooks.WebhookStore` (its base class):
    claiming due deliveries and finishing them under the lease."""

    _db: Database

    def _log(self, conn: Connection, entry: AuditEntry) -> None:
        """Logs ``entry`` in the changing transaction (the store's audit, where it has one)."""
        raise NotImplementedError

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
                row.id: endpoint_of(row._mapping)
                for row in conn.execute(
                    sa.select(ENDPOINTS).where(ENDPOINTS.c.id.in_(endpoint_ids))
                )
            }
        return [Claimed(delivery_of(row._mapping), endpoints[row.endpoint_id]) for row in rows]

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
