"""The studio's sign-in: a browser trades an access token for a session the server holds.

The cookie carries a random session secret (``ors_...``), never the token: a stolen cookie jar
is not an API token (``Authorization: Bearer ors_...`` is refused as malformed), it dies on
sign-out (the row is deleted, so a copy of the cookie stops working too), when it expires, and
with its token (revoking a token deletes its sessions, and every request checks the token as a
bearer request would). Only a keyed hash of the secret is stored. Sign-in attempts are
rate-limited per client address, and sign-ins, refused sign-ins and sign-outs are audited.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from openreel.errors import AuthenticationError, OpenReelError, RateLimitError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.sessions import SessionMatch, SessionRecord, SessionStore
from openreel.trust.auth import AuthService, TokenMatch
from openreel.trust.ratelimit import RateLimiter

__all__ = ["SESSION_PREFIX", "Client", "OpenedSession", "StudioSessions"]

SESSION_PREFIX = "ors_"
"""What every session secret starts with (and no access token does)."""


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session just opened: the only time its secret exists outside the cookie.

    Attributes:
        secret: The cookie's value.
        record: The stored session (no secret).
        match: The token and principal it signed in with.
    """

    secret: str
    record: SessionRecord
    match: TokenMatch


@dataclass(frozen=True, slots=True)
class Client:
    """Who is knocking, for the sign-in limit and the audit log."""

    address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class StudioSessions:
    """Opens, checks and ends the studio's sessions.

    Args:
        store: The sessions table.
        auth: Checks the token a browser signs in with, and hashes secrets with its key.
        limiter: Counts sign-in attempts per client address.
        audit: Where refused sign-ins are recorded (sign-ins and sign-outs go with their row).
        lifetime: Longest life of a session in seconds (it also ends with its token).
        clock: Unix seconds; tests pass a fake one.
    """

    def __init__(
        self,
        store: SessionStore,
        auth: AuthService,
        limiter: RateLimiter,
        audit: AuditStore,
        *,
        lifetime: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lifetime <= 0:
            raise ValueError(f"a session's lifetime must be > 0 seconds; got {lifetime}")
        self._store = store
        self._auth = auth
        self._limiter = limiter
        self._audit = audit
        self._lifetime = lifetime
        self._clock = clock

    def sign_in(self, token: str, client: Client) -> OpenedSession:
        """Checks ``token`` and opens a session on it.

        Only refused attempts count against the address's limit, so people signing in from
        behind one address never lock each other out; guessing does.

        Raises:
            RateLimitError: Too many refused sign-ins from this address (429, Retry-After).
            AuthenticationError: The token is malformed, unknown, revoked or expired.
        """
        address = client.address or "unknown"
        wait = self._limiter.blocked(address, "sign-in")
        if wait is not None:
            raise self._limiter.refuse("sign-in", wait)
        try:
            match = self._auth.identify(f"Bearer {token}")
        except AuthenticationError as exc:
            self._audit.record(
                self._entry("session.signed_in", client, outcome=f"denied:{exc.code}")
            )
            with contextlib.suppress(RateLimitError):  # counted; the next attempt is refused
                self._limiter.hit(address, "sign-in")
            raise
        now = self._clock()
        expires_at = now + self._lifetime
        if match.token.expires_at is not None:
            expires_at = min(expires_at, match.token.expires_at)
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        record = SessionRecord(
            id="ses_" + secrets.token_hex(12),
            token_id=match.token.id,
            created_at=now,
            expires_at=expires_at,
        )
        entry = self._entry("session.signed_in", client, match=match, target_id=record.id)
        self._store.open(record, self._hash(secret), audit=entry)
        return OpenedSession(secret=secret, record=record, match=match)

    def identify(self, secret: str) -> SessionMatch:
        """The session behind a cookie's value, with its token and principal.

        Raises:
            AuthenticationError: Not a session of this server's, signed out, expired, or its
                token revoked or expired.
        """
        if not secret.startswith(SESSION_PREFIX):
            raise AuthenticationError(
                "this session cookie is not one this server issued; sign in again",
                code="session_ended",
            )
        found = self._store.find(self._hash(secret))
        if found is None:
            raise AuthenticationError(
                "this session has ended: signed out, or its token was revoked; sign in again",
                code="session_ended",
            )
        now = self._clock()
        if found.session.expires_at <= now:
            raise AuthenticationError(
                "this session has expired; sign in again", code="session_ended"
            )
        token = found.token.token
        if token.revoked_at is not None:
            raise AuthenticationError("this session's token was revoked", code="session_ended")
        if token.expires_at is not None and token.expires_at <= now:
            raise AuthenticationError("this session's token has expired", code="session_ended")
        return found

    def sign_out(self, secret: str, client: Client) -> bool:
        """Ends the session behind a cookie's value, so no copy of the cookie works again.

        Returns:
            Whether there was such a session.
        """
        if not secret.startswith(SESSION_PREFIX):
            return False
        try:
            found: SessionMatch | None = self.identify(secret)
        except OpenReelError:
            found = None
        entry = None
        if found is not None:
            entry = self._entry(
                "session.signed_out", client, match=found.token, target_id=found.session.id
            )
        return self._store.end(self._hash(secret), audit=entry)

    def csrf_token(self, secret: str) -> str:
        """The CSRF token of the session with this secret: a keyed hash, so only this server
        can make it, and it dies with the session."""
        return self._auth.hash("csrf:" + secret)

    def _hash(self, secret: str) -> str:
        return self._auth.hash("session:" + secret)

    @staticmethod
    def _entry(
        action: str,
        client: Client,
        *,
        match: TokenMatch | None = None,
        target_id: str | None = None,
        outcome: str = "ok",
    ) -> AuditEntry:
        return AuditEntry(
            action=action,
            outcome=outcome,
            actor_id=None if match is None else match.principal.id,
            token_id=None if match is None else match.token.id,
            target_id=target_id,
            ip=client.address,
            user_agent=client.user_agent,
            request_id=client.request_id,
        )
