"""Access tokens: minting, checking and the server's hashing key.

A token looks like ``or_`` + 32 random base62 characters + a 6-character checksum. The prefix
lets secret scanners recognise a leaked OpenReel token, and the checksum lets us reject a typo
without touching the database. Tokens are shown once and stored only as an HMAC-SHA256 keyed
with a per-instance secret, so a copied database does not reveal usable tokens. Every request
looks its token up, so revocation takes effect on the very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from openreel.domain import Principal, Role
from openreel.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from openreel.storage.audit import AuditEntry
from openreel.storage.principals import PrincipalStore, TokenMatch, TokenRecord

__all__ = [
    "ALL_SCOPES",
    "USER_SCOPES",
    "AuthService",
    "IssuedToken",
    "TokenMatch",
    "TokenRecord",
    "load_or_create_secret",
    "mint_token",
    "token_checksum_ok",
]

TOKEN_PREFIX = "or_"
_ALPHABET = string.digits + string.ascii_letters
_BODY = 32
_CHECK = 6
ALL_SCOPES = ("videos:read", "videos:write", "admin")
USER_SCOPES = ALL_SCOPES[:2]
"""What a non-admin principal's token may carry."""
DEFAULT_TOKEN_DAYS = 90.0
MAX_TOKEN_DAYS = 365.0


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def mint_token() -> str:
    """A new random token with its checksum."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY))
    return TOKEN_PREFIX + body + _base62(zlib.crc32(body.encode()), _CHECK)


def token_checksum_ok(token: str) -> bool:
    """Whether ``token`` has our shape and a valid checksum (no database needed)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) != len(TOKEN_PREFIX) + _BODY + _CHECK:
        return False
    body, check = token[len(TOKEN_PREFIX) : -_CHECK], token[-_CHECK:]
    if any(c not in _ALPHABET for c in body):
        return False
    return hmac.compare_digest(check, _base62(zlib.crc32(body.encode()), _CHECK))


def load_or_create_secret(data_dir: Path) -> bytes:
    """The instance's token-hashing key, created (mode 0600) on first run."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly minted token: the only time its plain text exists.

    Attributes:
        token: The secret to hand to the person, once.
        record: Its stored record (no secret).
        principal: Who it belongs to.
    """

    token: str
    record: TokenRecord
    principal: Principal


class AuthService:
    """Creates principals and tokens and turns bearer tokens into principals."""

    def __init__(
        self,
        principals: PrincipalStore,
        secret: bytes,
        clock: Callable[[], float] = time.time,
        *,
        default_days: float = DEFAULT_TOKEN_DAYS,
        max_days: float = MAX_TOKEN_DAYS,
    ) -> None:
        if not 0 < default_days <= max_days:
            raise ValueError(
                f"token lifetimes must satisfy 0 < default ({default_days}) <= max ({max_days})"
            )
        self._principals = principals
        self._secret = secret
        self._clock = clock
        self._default_days = default_days
        self._max_days = max_days

    def hash(self, token: str) -> str:
        """The keyed hash stored for ``token``."""
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def issue(
        self,
        principal_name: str,
        *,
        role: Role = Role.USER,
        token_name: str | None = None,
        scopes: Iterable[str] | None = None,
        days: float | None = None,
        by: str | None = None,
    ) -> IssuedToken:
        """Mints a token for ``principal_name``, creating the principal if it is new.

        Args:
            principal_name: Who the token is for.
            role: Role of the principal when it is created here.
            token_name: Label shown in listings (the principal's name by default).
            scopes: What the token allows; by default everything the principal's role
                allows (``videos:read videos:write``, plus ``admin`` for admins).
            days: Lifetime in days; the operator's default when None, never above the
                operator's maximum. Every token expires.
            by: The admin acting (principal id), recorded in the audit log; None for the
                command line.

        Raises:
            InvalidRequestError: Unknown scope, ``admin`` for a non-admin, a lifetime that
                is not positive or above the maximum, or an empty name.
            ConflictError: ``role`` is admin but the existing principal is not.
        """
        name = principal_name.strip() if isinstance(principal_name, str) else ""
        if not name:
            raise InvalidRequestError.for_value("name", principal_name, "must not be empty")
        existing = self._principals.by_name(name)
        if existing is not None and role is Role.ADMIN and existing.role is not Role.ADMIN:
            raise ConflictError(
                f"{name} already exists as a {existing.role.value}; an admin token needs an "
                "admin principal",
                param="name",
            )
        chosen = self._check_scopes(scopes, existing.role if existing else role)
        expires_at = self._expiry(days)
        principal = existing or self._principals.create(name, role)
        return self._mint(principal, token_name or name, chosen, expires_at, by=by)

    def _mint(
        self,
        principal: Principal,
        name: str,
        scopes: tuple[str, ...],
        expires_at: float,
        *,
        by: str | None,
        action: str = "token.created",
        detail: dict[str, str] | None = None,
    ) -> IssuedToken:
        token = mint_token()
        token_id = "tok_" + secrets.token_hex(8)
        entry = AuditEntry(
            action=action,
            actor_id=by,
            target_id=token_id,
            detail={
                "principal": principal.id,
                "scopes": " ".join(scopes),
                "expires_at": round(expires_at),
                **(detail or {}),
            },
        )
        record = self._principals.add_token(
            principal.id,
            token_id=token_id,
            name=name,
            token_hash=self.hash(token),
            prefix=token[:10],
            scopes=scopes,
            expires_at=expires_at,
            audit=entry,
        )
        return IssuedToken(token=token, record=record, principal=principal)

    def _check_scopes(self, scopes: Iterable[str] | None, role: Role) -> tuple[str, ...]:
        allowed = ALL_SCOPES if role is Role.ADMIN else USER_SCOPES
        if scopes is None:
            return allowed
        chosen = tuple(dict.fromkeys(scopes))
        if not chosen:
            raise InvalidRequestError("scopes must name at least one scope", param="scopes")
        for scope in chosen:
            if scope not in ALL_SCOPES:
                raise InvalidRequestError.for_value(
                    "scopes", scope, f"must be one of {', '.join(ALL_SCOPES)}"
                )
            if scope not in allowed:
                raise InvalidRequestError.for_value(
                    "scopes", scope, "is only for tokens of admin principals"
                )
        return chosen

    def _expiry(self, days: float | None) -> float:
        if days is None:
            days = self._default_days
        if (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not 0 < days <= self._max_days
        ):
            raise InvalidRequestError.for_value(
                "days", days, f"must be more than 0 and at most {self._max_days:g}"
            )
        return self._clock() + days * 86400.0

    def tokens(self, principal_name: str | None = None) -> list[TokenRecord]:
        """Token records (never secrets), oldest first: one principal's or everyone's.

        Raises:
            NotFoundError: No principal called ``principal_name``.
        """
        if principal_name is None:
            return self._principals.list_tokens()
        principal = self._principals.by_name(principal_name)
        if principal is None:
            raise NotFoundError(f"no principal named {principal_name!r}", param="name")
        return self._principals.list_tokens(principal.id)

    def token(self, token_id: str) -> TokenRecord:
        """One token's record.

        Raises:
            NotFoundError: No such token.
        """
        return self._principals.get_token(token_id)

    def revoke(
        self, token_id: str, *, by: str | None = None, reason: str | None = None
    ) -> TokenRecord:
        """Revokes a token: its very next request fails. Revoking twice is harmless.

        Args:
            token_id: The token.
            by: The admin acting (principal id), or None (command line, or a rule).
            reason: Why, when a rule rather than a person revoked it.

        Raises:
            NotFoundError: No such token.
        """
        entry = AuditEntry(
            action="token.revoked",
            actor_id=by,
            target_id=token_id,
            detail=None if reason is None else {"reason": reason},
        )
        return self._principals.revoke_token(token_id, reason=reason, audit=entry)

    def rotate(
        self, token_id: str, *, days: float | None = None, by: str | None = None
    ) -> IssuedToken:
        """Replaces a token: a new one with the same owner, name and scopes; the old is revoked.

        Args:
            token_id: The token to replace (it may already be revoked or expired).
            days: Lifetime of the new token (the operator's default when None).

        Raises:
            NotFoundError: No such token.
        """
        old = self._principals.get_token(token_id)
        principal = self._principals.get(old.principal_id)
        scopes = tuple(s for s in old.scopes if s in self._check_scopes(None, principal.role))
        issued = self._mint(
            principal,
            old.name,
            scopes or USER_SCOPES,
            self._expiry(days),
            by=by,
            action="token.rotated",
            detail={"replaces": token_id},
        )
        self.revoke(token_id, by=by, reason=f"rotated to {issued.record.id}")
        return issued

    def ensure_admin(self) -> IssuedToken | None:
        """On first run, creates the ``admin`` principal and returns its token (else None)."""
        if any(p.role is Role.ADMIN for p in self._principals.list()):
            return None
        return self.issue("admin", role=Role.ADMIN, token_name="first admin token")

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind an ``Authorization: Bearer ...`` header value, use recorded.

        Raises:
            AuthenticationError: Missing, malformed, unknown, revoked or expired token.
        """
        match = self.identify(authorization)
        self.record_use(match.token.id)
        return match.principal

    def identify(self, authorization: str | None) -> TokenMatch:
        """The token and principal behind an ``Authorization`` header value; reads only.

        Every call reads the token's row, so a revoked or expired token fails on the very
        next request; nothing about a token's validity is cached.

        Raises:
            AuthenticationError: Missing, malformed, unknown, revoked or expired token.
        """
        if not authorization:
            raise AuthenticationError(
                "missing bearer token: send the header Authorization: Bearer or_..."
            )
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        if not token_checksum_ok(token):
            raise AuthenticationError(
                "malformed token: OpenReel tokens start with 'or_' and end in a checksum"
            )
        match = self._principals.find_token(self.hash(token))
        if match is None or match.token.revoked_at is not None:
            raise AuthenticationError("invalid or revoked token", code="invalid_api_key")
        expires = match.token.expires_at
        if expires is not None and expires <= self._clock():
            raise AuthenticationError("this token has expired", code="token_expired")
        return match

    @staticmethod
    def require(match: TokenMatch, scope: str) -> Principal:
        """The token's principal when the token carries ``scope``.

        Raises:
            PermissionDeniedError: The token lacks the scope (or, for ``admin``, its owner is
                no longer an admin).
        """
        if scope not in match.token.scopes:
            raise PermissionDeniedError(
                f"this token does not allow {scope}; it allows {' '.join(match.token.scopes)}"
            )
        if scope == "admin" and match.principal.role is not Role.ADMIN:
            raise PermissionDeniedError(f"{match.principal.name} is not an admin")
        return match.principal

    def use_due(self, token_id: str) -> bool:
        """Whether :meth:`record_use` would write now (it writes once per interval)."""
        return self._principals.touch_due(token_id)

    def record_use(self, token_id: str) -> None:
        """Stores the token's last-used time (at most once per interval; a write when due)."""
        self._principals.touch_token(token_id)
