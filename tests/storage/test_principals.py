"""PrincipalStore: principals and token rows (hashing is the caller's job)."""

from __future__ import annotations

import pytest

from openreel.domain import Role
from openreel.errors import ConflictError, NotFoundError
from openreel.storage.db import Database
from openreel.storage.principals import PrincipalStore

from .conftest import FakeClock


@pytest.fixture
def principals(db: Database, clock: FakeClock) -> PrincipalStore:
    return PrincipalStore(db, clock, touch_interval=60)


def test_principals_create_get_and_list(principals: PrincipalStore) -> None:
    admin = principals.create("admin", Role.ADMIN)
    ada = principals.create("ada")
    assert admin.id.startswith("usr_")
    assert admin.is_admin
    assert not ada.is_admin
    assert principals.get(ada.id) == ada
    assert principals.by_name("admin") == admin
    assert principals.by_name("nobody") is None
    assert {p.name for p in principals.list()} == {"admin", "ada"}


def test_principals_duplicate_name_conflicts(principals: PrincipalStore) -> None:
    principals.create("ada")
    with pytest.raises(ConflictError, match="ada"):
        principals.create("ada", Role.ADMIN)


def test_principals_get_missing_is_not_found(principals: PrincipalStore) -> None:
    with pytest.raises(NotFoundError):
        principals.get("usr_missing")


def test_principals_token_lifecycle(principals: PrincipalStore, clock: FakeClock) -> None:
    ada = principals.create("ada")
    record = principals.add_token(
        ada.id,
        token_id="tok_1",
        name="laptop",
        token_hash="h1",
        prefix="or_abcdefg",
        scopes=("videos:read", "videos:write"),
        expires_at=clock.now + 3600,
    )
    assert record.scopes == ("videos:read", "videos:write")
    match = principals.find_token("h1")
    assert match is not None
    assert (match.token, match.principal) == (record, ada)
    assert principals.find_token("unknown") is None

    clock.advance(5)
    principals.touch_token("tok_1")
    assert principals.get_token("tok_1").last_used_at == clock.now
    clock.advance(5)
    principals.touch_token("tok_1")  # within the interval: no write
    assert principals.get_token("tok_1").last_used_at == clock.now - 5
    clock.advance(60)
    principals.touch_token("tok_1")
    assert principals.get_token("tok_1").last_used_at == clock.now

    revoked = principals.revoke_token("tok_1")
    assert revoked.revoked_at == clock.now
    clock.advance(1)
    assert principals.revoke_token("tok_1").revoked_at == revoked.revoked_at
    found = principals.find_token("h1")
    assert found is not None
    assert found.token.revoked  # lookup still finds it, so the caller can say "revoked"
    with pytest.raises(NotFoundError):
        principals.revoke_token("tok_missing")


def test_principals_list_tokens_by_principal(principals: PrincipalStore) -> None:
    ada = principals.create("ada")
    bob = principals.create("bob")
    for index, owner in enumerate((ada, bob, ada)):
        principals.add_token(
            owner.id,
            token_id=f"tok_{index}",
            name="t",
            token_hash=f"h{index}",
            prefix="or_",
            scopes=["videos:read"],
            expires_at=None,
        )
    assert [t.id for t in principals.list_tokens(ada.id)] == ["tok_0", "tok_2"]
    assert len(principals.list_tokens()) == 3


def test_principals_add_token_checks_owner_hash_and_scopes(principals: PrincipalStore) -> None:
    ada = principals.create("ada")
    fields = {"name": "t", "prefix": "or_", "expires_at": None}
    with pytest.raises(NotFoundError):
        principals.add_token(
            "usr_missing",
            token_id="tok_a",
            token_hash="ha",
            scopes=(),
            **fields,  # type: ignore[arg-type]
        )
    principals.add_token(ada.id, token_id="tok_a", token_hash="ha", scopes=(), **fields)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        principals.add_token(ada.id, token_id="tok_b", token_hash="ha", scopes=(), **fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scope"):
        principals.add_token(
            ada.id,
            token_id="tok_c",
            token_hash="hc",
            scopes=("videos read",),
            **fields,  # type: ignore[arg-type]
        )
