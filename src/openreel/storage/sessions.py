"""The studio's sessions: one row per signed-in browser, pointing at the token it signed in with.

Storage only: the session secret, its keyed hash and the checks are trust/sessions.py's job.
The row holds the hash, never the cookie's value, so a copied database signs nobody in.
Revoking the token deletes its sessions (storage/principals.py, in the same transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from openreel.domain import Principal, Role
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import PRINCIPALS, STUDIO_SESSIONS, TOKENS, Database
from openreel.storage.principals import TokenMatch, token_record

__all__ = ["SessionMatch", "SessionRecord", "SessionStore"]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One signed-in browser.

    Attributes:
        id: ``ses_...``, safe to show and to audit (the cookie's value is not).
        token_id: The token it signed in with; the session lives no longer than it.
        created_at: Unix seconds of the sign-in.
        expires_at: Unix seconds after which the cookie no longer works.
    """

    id: str
    token_id: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class SessionMatch:
    """A session with its token and principal, as one read finds them."""

    session: SessionRecord
    token: TokenMatch


class SessionStore:
    """Opens, finds and ends studio sessions.

    Args:
        db: The database (migrated).
        clock: Unix seconds; tests pass a frozen one.
        audit: Where sign-ins and sign-outs are recorded, in the same transaction.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        *,
        audit: AuditStore | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        # Built once: every cookie request runs it.
        self._by_hash = (
            sa.select(
                STUDIO_SESSIONS.c.id.label("session_id"),
                STUDIO_SESSIONS.c.created_at.label("session_created_at"),
                STUDIO_SESSIONS.c.expires_at.label("session_expires_at"),
                TOKENS,
                PRINCIPALS.c.name.label("principal_name"),
                PRINCIPALS.c.role,
            )
            .join(TOKENS, TOKENS.c.id == STUDIO_SESSIONS.c.token_id)
            .join(PRINCIPALS, PRINCIPALS.c.id == TOKENS.c.principal_id)
            .where(STUDIO_SESSIONS.c.session_hash == sa.bindparam("session_hash"))
        )

    def open(
        self,
        session: SessionRecord,
        session_hash: str,
        *,
        audit: AuditEntry | None = None,
    ) -> None:
        """Stores a new session, and drops sessions that expired (they can never work again)."""
        with self._db.begin() as conn:
            conn.execute(
                sa.delete(STUDIO_SESSIONS).where(STUDIO_SESSIONS.c.expires_at <= self._clock())
            )
            conn.execute(
                sa.insert(STUDIO_SESSIONS).values(
                    id=session.id,
                    session_hash=session_hash,
                    token_id=session.token_id,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                )
            )
            if audit is not None and self._audit is not None:
                self._audit.append(conn, audit)

    def find(self, session_hash: str) -> SessionMatch | None:
        """The session with this hash, its token and principal; None when there is none.

        Expired sessions and revoked tokens are returned too, so the caller can say which.
        """
        with self._db.query() as conn:
            row = conn.execute(self._by_hash, {"session_hash": session_hash}).first()
        if row is None:
            return None
        data = row._mapping
        return SessionMatch(
            session=SessionRecord(
                id=str(data["session_id"]),
                token_id=str(data["id"]),
                created_at=float(data["session_created_at"]),
                expires_at=float(data["session_expires_at"]),
            ),
            token=TokenMatch(
                token=token_record(data),
                principal=Principal(
                    id=str(data["principal_id"]),
                    name=str(data["principal_name"]),
                    role=Role(data["role"]),
                ),
            ),
        )

    def end(self, session_hash: str, *, audit: AuditEntry | None = None) -> bool:
        """Deletes the session with this hash; whether there was one (then ``audit`` is kept)."""
        with self._db.begin() as conn:
            ended = conn.execute(
                sa.delete(STUDIO_SESSIONS).where(STUDIO_SESSIONS.c.session_hash == session_hash)
            ).rowcount
            if ended and audit is not None and self._audit is not None:
                self._audit.append(conn, audit)
        return bool(ended)

    def count(self, token_id: str) -> int:
        """How many sessions the token has open (expired ones included until swept)."""
        with self._db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(STUDIO_SESSIONS)
                    .where(STUDIO_SESSIONS.c.token_id == token_id)
                ).scalar_one()
            )
