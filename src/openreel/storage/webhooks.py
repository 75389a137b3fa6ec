"""Webhook endpoints and their deliveries in the database: adding, rotating, enabling and
removing endpoints, reading deliveries and asking for one again.

Delivery rows are written by ``storage/webhook_outbox.py`` in the transaction that ends a
job; dispatchers take them under a lease (``storage/webhook_lease.py``, the store's base
class); the records are in ``storage/webhook_records.py``.

Secrets arrive here already sealed (``trust/sealing.py``): this module never sees one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.errors import NotFoundError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import PRINCIPALS, Database
from openreel.storage.webhook_lease import DeliveryLease
from openreel.storage.webhook_records import (
    ATTEMPTS,
    DELIVERIES,
    ENDPOINTS,
    EVENT_TYPES,
    PENDING,
    Attempt,
    Claimed,
    Delivery,
    Endpoint,
    Outcome,
    attempt_of,
    delivery_of,
    endpoint_of,
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


class WebhookStore(DeliveryLease):
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
        return endpoint_of(row._mapping)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        """One endpoint.

        Raises:
            NotFoundError: No such endpoint.
        """
        with self._db.query() as conn:
            row = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).first()
        if row is None:
            raise _missing(endpoint_id)
        return endpoint_of(row._mapping)

    def endpoints(self, owner_id: str | None) -> list[Endpoint]:
        """An owner's endpoints (everyone's for None), oldest first."""
        query = sa.select(ENDPOINTS).order_by(ENDPOINTS.c.created_at, ENDPOINTS.c.id)
        if owner_id is not None:
            query = query.where(ENDPOINTS.c.owner_id == owner_id)
        with self._db.read() as conn:
            return [endpoint_of(row._mapping) for row in conn.execute(query)]

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
        return endpoint_of(row._mapping)

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
        return endpoint_of(row._mapping)

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
                    attempts[attempt.delivery_id].append(attempt_of(attempt._mapping))
        return [delivery_of(row._mapping, attempts[row.id]) for row in rows]

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
                attempt_of(a._mapping)
                for a in conn.execute(
                    sa.select(ATTEMPTS)
                    .where(ATTEMPTS.c.delivery_id == delivery_id)
                    .order_by(ATTEMPTS.c.seq)
                )
            ]
        return delivery_of(row._mapping, attempts)

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
