"""Access tokens: minting, checking and the server's hashing key.

A token looks like ``or_`` + 32 random base62 characters + a 6-character checksum. The prefix
lets secret scanners recognise a leaked OpenReel token, and the checksum lets us reject a typo
without touching the database. Tokens are shown once and stored only as an HMAC-SHA256 keyed
with a per-instance secret, so a copied database does not reveal usable tokens. Every request
looks its token up, so revocation takes effect on the very next request.

Imports: storage, domain, errors.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openreel.domain import Principal, Role
from openreel.errors import AuthenticationError
from openreel.storage.principals import PrincipalStore, TokenMatch, TokenRecord

__all__ = [
    "ALL_SCOPES",
    "AuthService",
    "IssuedToken",
    "load_or_create_secret",
    "mint_token",
    "token_checksum_ok",
]

TOKEN_PREFIX = "or_"
_ALPHABET = string.digits + string.ascii_letters
_BODY = 32
_CHECK = 6
ALL_SCOPES = ("videos:read", "videos:write", "admin")


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
        self, principals: PrincipalStore, secret: bytes, clock: Callable[[], float] = time.time
    ) -> None:
        self._principals = principals
        self._secret = secret
        self._clock = clock

    def hash(self, token: str) -> str:
        """The keyed hash stored for ``token``."""
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def issue(
        self, principal_name: str, *, role: Role = Role.USER, token_name: str | None = None
    ) -> IssuedToken:
        """Mints a token for ``principal_name``, creating the principal if it is new."""
        principal = self._principals.by_name(principal_name) or self._principals.create(
            principal_name, role
        )
        token = mint_token()
        record = self._principals.add_token(
            principal.id,
            token_id="tok_" + secrets.token_hex(8),
            name=token_name or principal_name,
            token_hash=self.hash(token),
            prefix=token[:10],
            scopes=ALL_SCOPES if principal.role is Role.ADMIN else ALL_SCOPES[:2],
            expires_at=None,
        )
        return IssuedToken(token=token, record=record, principal=principal)

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

    def use_due(self, token_id: str) -> bool:
        """Whether :meth:`record_use` would write now (it writes once per interval)."""
        return self._principals.touch_due(token_id)

    def record_use(self, token_id: str) -> None:
        """Stores the token's last-used time (at most once per interval; a write when due)."""
        self._principals.touch_token(token_id)
