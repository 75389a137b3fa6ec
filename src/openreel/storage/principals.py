"""Principals (people and programs that own videos) and their access-token rows.

Storage only: minting tokens, their format and the keyed hash are trust/auth.py's job.
This module never sees a token's plain text, only the hash the caller computed, so a copied
database reveals no usable token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from openreel.domain import Principal, Role
from openreel.errors import ConflictError, NotFoundError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import PRINCIPALS, STUDIO_SESSIONS, TOKENS, Database

__all__ = ["PrincipalStore", "TokenMatch", "TokenRecord", "token_record"]

TOUCH_INTERVAL = 60.0
"""Seconds between two writes of one token's ``last_used_at`` (it is a hint, not a log)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored access token, without its secret.

    Attributes:
        id: Opaque token id (``tok_...``), safe to show and to log.
        principal_id: Whose token it is.
        name: Label chosen when it was issued.
        prefix: First characters of the token, to help people recognise it.
        scopes: What it allows (``videos:read``, ``videos:write``, ``admin``).
        created_at: Unix seconds.
        expires_at: Unix seconds after which it stops working, or None.
        revoked_at: Unix seconds when it was revoked, or None.
        last_used_at: Unix seconds of its last use (accurate to about a minute), or None.
    """

    id: str
    principal_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    @property
    def revoked(self) -> bool:
        """Whether the token was revoked."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """A token found by its hash, with the principal it belongs to.

    Attributes:
        token: The token row (check ``revoked_at`` and ``expires_at``: lookup does not).
        principal: Its owner.
    """

    token: TokenRecord
    principal: Principal


class PrincipalStore:
    """Reads and changes principals and their token rows.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
        touch_interval: Seconds between two ``last_used_at`` writes for one token, so that
            checking a token on every request does not also mean a write on every request.
        audit: Where token and quota changes are recorded, in the same transaction.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        *,
        touch_interval: float = TOUCH_INTERVAL,
        audit: AuditStore | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        # Built once: every request runs it (see JobStore for why that matters).
        self._by_hash = (
            sa.select(TOKENS, PRINCIPALS.c.name.label("principal_name"), PRINCIPALS.c.role)
            .join(PRINCIPALS, PRINCIPALS.c.id == TOKENS.c.principal_id)
            .where(TOKENS.c.token_hash == sa.bindparam("token_hash"))
        )
        self._touch_interval = touch_interval
        self._touched: dict[str, float] = {}
        self._touch_lock = threading.Lock()

    def _log(self, conn: Connection, entry: AuditEntry | None) -> None:
        if entry is not None and self._audit is not None:
            self._audit.append(conn, entry)

    # -- principals ------------------------------------------------------------------------------

    def create(self, name: str, role: Role = Role.USER) -> Principal:
        """Creates a principal with a fresh ``usr_`` id.

        Raises:
            ConflictError: The name is taken.
        """
        principal = Principal(id="usr_" + secrets.token_hex(12), name=name, role=Role(role))
        try:
            with self._db.begin() as conn:
                conn.execute(
                    sa.insert(PRINCIPALS).values(
                        id=principal.id,
                        name=principal.name,
                        role=principal.role.value,
                        created_at=self._clock(),
                    )
                )
        except IntegrityError as exc:
            raise ConflictError(f"a principal named {name!r} already exists", param="name") from exc
        return principal

    def get(self, principal_id: str) -> Principal:
        """The principal with this id.

        Raises:
            NotFoundError: No such principal.
        """
        with self._db.read() as conn:
            row = conn.execute(sa.select(PRINCIPALS).where(PRINCIPALS.c.id == principal_id)).first()
        if row is None:
            raise NotFoundError(f"no principal with id {principal_id!r}")
        return _principal(row._mapping)

    def by_name(self, name: str) -> Principal | None:
        """The principal with this name, or None."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(PRINCIPALS).where(PRINCIPALS.c.name == name)).first()
        return None if row is None else _principal(row._mapping)

    # -- tokens ----------------------------------------------------------------------------------

    def add_token(
        self,
        principal_id: str,
        *,
        token_id: str,
        name: str,
        token_hash: str,
        prefix: str,
        scopes: Iterable[str],
        expires_at: float | None,
        audit: AuditEntry | None = None,
    ) -> TokenRecord:
        """Stores a token row for a principal.

        Args:
            principal_id: Owner of the token.
            token_id: Opaque id chosen by the caller.
            name: Label for people.
            token_hash: Keyed hash of the token (computed by the caller); unique.
            prefix: First characters of the token, for display.
            scopes: Scope names (no white space inside a name).
            expires_at: Unix seconds after which it stops working, or None.

        Returns:
            The stored record.

        Raises:
            NotFoundError: No such principal.
            ConflictError: The id or the hash is already stored.
            ValueError: A scope name contains white space (a bug in the caller).
        """
        scope_list = tuple(scopes)
        for scope in scope_list:
            if not scope or scope != "".join(scope.split()):
                raise ValueError(f"scope names must be non-empty without white space: {scope!r}")
        self.get(principal_id)
        record = TokenRecord(
            id=token_id,
            principal_id=principal_id,
            name=name,
            prefix=prefix,
            scopes=scope_list,
            created_at=self._clock(),
            expires_at=expires_at,
            revoked_at=None,
            last_used_at=None,
        )
        try:
            with self._db.begin() as conn:
                conn.execute(
                    sa.insert(TOKENS).values(
                        id=record.id,
                        principal_id=record.principal_id,
                        name=record.name,
                        token_hash=token_hash,
                        prefix=record.prefix,
                        scopes=" ".join(record.scopes),
                        created_at=record.created_at,
                        expires_at=record.expires_at,
                    )
                )
                self._log(conn, audit)
        except IntegrityError as exc:
            raise ConflictError(f"token {token_id!r} or its hash is already stored") from exc
        return record

    def find_token(self, token_hash: str) -> TokenMatch | None:
        """The token with this hash and its principal, or None when unknown.

        Revoked and expired tokens are returned too, so the caller can say which it was.
        """
        with self._db.query() as conn:
            row = conn.execute(self._by_hash, {"token_hash": token_hash}).first()
        if row is None:
            return None
        data = row._mapping
        return TokenMatch(
            token=token_record(data),
            principal=Principal(
                id=str(data["principal_id"]),
                name=str(data["principal_name"]),
                role=Role(data["role"]),
            ),
        )

    def touch_due(self, token_id: str) -> bool:
        """Whether :meth:`touch_token` would write now; in memory only, never blocks."""
        with self._touch_lock:
            return self._due(token_id, self._clock())

    def _due(self, token_id: str, now: float) -> bool:
        last = self._touched.get(token_id)
        return last is None or now - last >= self._touch_interval

    def touch_token(self, token_id: str) -> None:
        """Records that the token was just used.

        Cheap enough to call on every request: this store writes ``last_used_at`` at most
        once per ``touch_interval`` per token and otherwise does nothing.
        """
        now = self._clock()
        with self._touch_lock:
            if not self._due(token_id, now):
                return
            self._touched[token_id] = now
        with self._db.begin() as conn:
            conn.execute(sa.update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=now))

    def revoke_token(
        self, token_id: str, *, reason: str | None = None, audit: AuditEntry | None = None
    ) -> TokenRecord:
        """Revokes a token; it stops working on the next request. Revoking twice is harmless.

        Its studio sessions are deleted in the same transaction.

        Returns:
            The token record (with the first revocation time).

        Raises:
            NotFoundError: No such token.
        """
        with self._db.begin() as conn:
            conn.execute(
                sa.update(TOKENS)
                .where(TOKENS.c.id == token_id, TOKENS.c.revoked_at.is_(None))
                .values(revoked_at=self._clock(), revoked_reason=reason)
            )
            # Its studio sessions go with it: a browser signed in with it is signed out.
            conn.execute(sa.delete(STUDIO_SESSIONS).where(STUDIO_SESSIONS.c.token_id == token_id))
            row = conn.execute(sa.select(TOKENS).where(TOKENS.c.id == token_id)).first()
            if row is not None:
                self._log(conn, audit)
        if row is None:
            raise NotFoundError(f"no token with id {token_id!r}", param="token_id")
        return token_record(row._mapping)

    def get_token(self, token_id: str) -> TokenRecord:
        """The token with this id.

        Raises:
            NotFoundError: No such token.
        """
        with self._db.read() as conn:
            row = conn.execute(sa.select(TOKENS).where(TOKENS.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token with id {token_id!r}", param="token_id")
        return token_record(row._mapping)

    def list_tokens(self, principal_id: str | None = None) -> list[TokenRecord]:
        """Token rows, oldest first: one principal's, or everyone's when None."""
        query = sa.select(TOKENS).order_by(TOKENS.c.created_at, TOKENS.c.id)
        if principal_id is not None:
            query = query.where(TOKENS.c.principal_id == principal_id)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [token_record(row._mapping) for row in rows]

    def quota_overrides(self, principal_id: str) -> tuple[float | None, int | None]:
        """The principal's own (seconds per period, videos at once); None where unset.

        Raises:
            NotFoundError: No such principal.
        """
        with self._db.query() as conn:
            row = conn.execute(
                sa.select(PRINCIPALS.c.quota_seconds, PRINCIPALS.c.quota_videos).where(
                    PRINCIPALS.c.id == principal_id
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no principal with id {principal_id!r}", param="principal")
        seconds = None if row.quota_seconds is None else float(row.quota_seconds)
        videos = None if row.quota_videos is None else int(row.quota_videos)
        return seconds, videos

    def set_quota_overrides(
        self,
        principal_id: str,
        *,
        seconds: float | None,
        videos: int | None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Sets (or, with None, clears) the principal's own limits.

        Raises:
            NotFoundError: No such principal.
        """
        with self._db.begin() as conn:
            result = conn.execute(
                sa.update(PRINCIPALS)
                .where(PRINCIPALS.c.id == principal_id)
                .values(quota_seconds=seconds, quota_videos=videos)
            )
            if result.rowcount == 1:
                self._log(conn, audit)
        if result.rowcount != 1:
            raise NotFoundError(f"no principal with id {principal_id!r}", param="principal")

    # Last: the name shadows the builtin ``list`` inside the class body.
    def list(self) -> list[Principal]:
        """Every principal, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(PRINCIPALS).order_by(PRINCIPALS.c.created_at, PRINCIPALS.c.name)
            ).all()
        return [_principal(row._mapping) for row in rows]


def _principal(row: RowMapping) -> Principal:
    return Principal(id=str(row["id"]), name=str(row["name"]), role=Role(row["role"]))


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def token_record(row: RowMapping) -> TokenRecord:
    """A token row (or a joined row carrying the token's columns) as a record."""
    return TokenRecord(
        id=str(row["id"]),
        principal_id=str(row["principal_id"]),
        name=str(row["name"]),
        prefix=str(row["prefix"]),
        scopes=tuple(str(row["scopes"]).split()),
        created_at=float(row["created_at"]),
        expires_at=_opt_float(row["expires_at"]),
        revoked_at=_opt_float(row["revoked_at"]),
        last_used_at=_opt_float(row["last_used_at"]),
    )
