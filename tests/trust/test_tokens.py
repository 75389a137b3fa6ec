"""Token lifecycle in AuthService: lifetimes, scopes, listing, revocation and rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from openreel.domain import Role
from openreel.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from openreel.storage.db import Database
from openreel.storage.principals import PrincipalStore
from openreel.trust.auth import AuthService, load_or_create_secret

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(tmp_path: Path, clock: Clock) -> AuthService:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = PrincipalStore(db, clock=clock)
    return AuthService(store, load_or_create_secret(tmp_path), clock, default_days=30, max_days=90)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_tokens_expire_after_the_default_lifetime(auth: AuthService, clock: Clock) -> None:
    issued = auth.issue("alice")
    assert issued.record.expires_at == pytest.approx(clock.now + 30 * DAY)
    clock.now += 30 * DAY - 1
    assert auth.authenticate(bearer(issued.token)).name == "alice"
    clock.now += 1
    with pytest.raises(AuthenticationError) as info:
        auth.authenticate(bearer(issued.token))
    assert info.value.code == "token_expired"


@pytest.mark.parametrize("days", [0, -1, 90.5, 1e9, float("nan")])
def test_tokens_refuse_lifetimes_outside_the_policy(auth: AuthService, days: float) -> None:
    with pytest.raises(InvalidRequestError) as info:
        auth.issue("alice", days=days)
    assert info.value.param == "days"
    assert repr(days) in info.value.message
    assert auth.tokens() == []  # nothing half-made: no token row


def test_tokens_take_a_chosen_lifetime_up_to_the_maximum(auth: AuthService, clock: Clock) -> None:
    assert auth.issue("alice", days=90).record.expires_at == pytest.approx(clock.now + 90 * DAY)


def test_tokens_scopes_default_by_role_and_are_checked(auth: AuthService) -> None:
    assert auth.issue("alice").record.scopes == ("videos:read", "videos:write")
    assert auth.issue("root", role=Role.ADMIN).record.scopes == (
        "videos:read",
        "videos:write",
        "admin",
    )
    reader = auth.issue("alice", scopes=["videos:read"])
    match = auth.identify(bearer(reader.token))
    assert AuthService.require(match, "videos:read").name == "alice"
    with pytest.raises(PermissionDeniedError, match="videos:write"):
        AuthService.require(match, "videos:write")
    with pytest.raises(InvalidRequestError, match="admin principals"):
        auth.issue("alice", scopes=["admin"])
    with pytest.raises(InvalidRequestError, match="'videos:delete'"):
        auth.issue("alice", scopes=["videos:delete"])
    with pytest.raises(InvalidRequestError, match="at least one"):
        auth.issue("alice", scopes=[])


def test_tokens_admin_token_needs_an_admin_principal(auth: AuthService) -> None:
    auth.issue("alice")
    with pytest.raises(ConflictError, match="alice already exists as a user"):
        auth.issue("alice", role=Role.ADMIN)
    user_match = auth.identify(bearer(auth.issue("bob").token))
    with pytest.raises(PermissionDeniedError):
        AuthService.require(user_match, "admin")


def test_tokens_list_shows_records_never_secrets(auth: AuthService) -> None:
    first = auth.issue("alice", token_name="laptop")
    auth.issue("bob")
    listed = auth.tokens("alice")
    assert [t.id for t in listed] == [first.record.id]
    assert listed[0].name == "laptop"
    assert first.token not in repr(auth.tokens())
    assert len(auth.tokens()) == 2
    with pytest.raises(NotFoundError, match="nobody"):
        auth.tokens("nobody")


def test_tokens_revoked_fail_on_the_next_request(auth: AuthService) -> None:
    issued = auth.issue("alice")
    assert auth.authenticate(bearer(issued.token)).name == "alice"
    revoked = auth.revoke(issued.record.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.authenticate(bearer(issued.token))
    assert auth.revoke(issued.record.id).revoked_at == revoked.revoked_at  # twice: harmless
    with pytest.raises(NotFoundError):
        auth.revoke("tok_missing")


def test_tokens_rotate_replaces_the_secret_keeping_owner_label_and_scopes(
    auth: AuthService, clock: Clock
) -> None:
    old = auth.issue("alice", token_name="ci", scopes=["videos:read"])
    clock.now += 10 * DAY
    new = auth.rotate(old.record.id)
    assert new.token != old.token
    assert new.record.id != old.record.id
    assert (new.principal.id, new.record.name, new.record.scopes) == (
        old.principal.id,
        "ci",
        ("videos:read",),
    )
    assert new.record.expires_at == pytest.approx(clock.now + 30 * DAY)
    with pytest.raises(AuthenticationError):
        auth.authenticate(bearer(old.token))
    assert auth.authenticate(bearer(new.token)).name == "alice"
    with pytest.raises(NotFoundError):
        auth.rotate("tok_missing")


def test_tokens_policy_must_be_consistent(tmp_path: Path) -> None:
    db = Database.for_data_dir(tmp_path)
    with pytest.raises(ValueError, match="default"):
        AuthService(PrincipalStore(db), b"k" * 32, default_days=100, max_days=30)
