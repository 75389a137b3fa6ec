from __future__ import annotations

from pathlib import Path

import pytest

from openreel.domain import Role
from openreel.errors import AuthenticationError
from openreel.storage.db import Database
from openreel.storage.principals import PrincipalStore
from openreel.trust.auth import AuthService, load_or_create_secret, mint_token, token_checksum_ok


@pytest.fixture
def auth(tmp_path: Path) -> AuthService:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    return AuthService(PrincipalStore(db), load_or_create_secret(tmp_path))


def test_auth_tokens_are_prefixed_random_and_checksummed() -> None:
    a, b = mint_token(), mint_token()
    assert a != b
    assert a.startswith("or_")
    assert len(a) == 41
    assert token_checksum_ok(a)
    typo = a[:10] + ("x" if a[10] != "x" else "y") + a[11:]
    assert not token_checksum_ok(typo)
    assert not token_checksum_ok("sk-" + a[3:])
    assert not token_checksum_ok(a + "0")


def test_auth_issue_then_authenticate_returns_the_principal(auth: AuthService) -> None:
    issued = auth.issue("alice")
    principal = auth.authenticate(f"Bearer {issued.token}")
    assert (principal.name, principal.role) == ("alice", Role.USER)
    assert auth.authenticate(f"bearer   {issued.token}  ").id == principal.id


def test_auth_stores_only_a_keyed_hash(auth: AuthService, tmp_path: Path) -> None:
    issued = auth.issue("alice")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("openreel.db*"))  # WAL included
    assert issued.token.encode() not in raw
    assert auth.hash(issued.token).encode() in raw


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic abc", "Bearer <token>"),
        ("Bearer", "Bearer <token>"),
        ("Bearer sk-abc", "malformed token"),
    ],
)
def test_auth_rejects_bad_headers(auth: AuthService, header: str | None, needle: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        auth.authenticate(header)
    assert needle in info.value.message


def test_auth_unknown_well_formed_token_is_rejected(auth: AuthService) -> None:
    with pytest.raises(AuthenticationError, match="invalid or revoked"):
        auth.authenticate(f"Bearer {mint_token()}")


def test_auth_revocation_takes_effect_on_the_next_request(
    auth: AuthService, tmp_path: Path
) -> None:
    issued = auth.issue("alice")
    auth.authenticate(f"Bearer {issued.token}")
    db = Database.for_data_dir(tmp_path)
    PrincipalStore(db).revoke_token(issued.record.id)
    with pytest.raises(AuthenticationError, match="invalid or revoked"):
        auth.authenticate(f"Bearer {issued.token}")


def test_auth_first_admin_is_created_once(auth: AuthService) -> None:
    first = auth.ensure_admin()
    assert first is not None
    assert first.principal.is_admin
    assert auth.ensure_admin() is None


def test_auth_secret_is_kept_private_and_stable(tmp_path: Path) -> None:
    key = load_or_create_secret(tmp_path)
    assert len(key) == 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(tmp_path) == key
