"""Studio sessions on their own: expiry, the token's own expiry, and the sign-in limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.clock import Clock

from openreel.errors import AuthenticationError, RateLimitError
from openreel.storage.audit import AuditStore
from openreel.storage.db import Database
from openreel.storage.principals import PrincipalStore
from openreel.storage.sessions import SessionStore
from openreel.trust.auth import AuthService, load_or_create_secret
from openreel.trust.ratelimit import RateLimiter
from openreel.trust.sessions import Client, StudioSessions


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def parts(tmp_path: Path, clock: Clock) -> tuple[AuthService, StudioSessions, SessionStore]:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    audit = AuditStore(db, clock)
    auth = AuthService(
        PrincipalStore(db, clock, audit=audit), load_or_create_secret(tmp_path), clock
    )
    store = SessionStore(db, clock, audit=audit)
    limiter = RateLimiter(requests_per_minute=0, creates_per_minute=0, sign_ins_per_minute=2)
    return auth, StudioSessions(store, auth, limiter, audit, lifetime=600, clock=clock), store


def test_a_session_ends_at_its_lifetime(
    parts: tuple[AuthService, StudioSessions, SessionStore], clock: Clock
) -> None:
    auth, sessions, _ = parts
    opened = sessions.sign_in(auth.issue("alice").token, Client("10.0.0.1"))
    assert opened.record.expires_at == clock() + 600
    clock.now += 599
    assert sessions.identify(opened.secret).token.principal.name == "alice"
    clock.now += 2
    with pytest.raises(AuthenticationError, match="expired"):
        sessions.identify(opened.secret)


def test_a_session_never_outlives_its_token(
    parts: tuple[AuthService, StudioSessions, SessionStore], clock: Clock
) -> None:
    auth, sessions, _ = parts
    issued = auth.issue("alice", days=100 / 86400)  # the token has 100 s left
    opened = sessions.sign_in(issued.token, Client("10.0.0.1"))
    assert opened.record.expires_at == clock() + 100
    clock.now += 101
    with pytest.raises(AuthenticationError):
        sessions.identify(opened.secret)


def test_sign_out_deletes_the_row_and_a_token_is_never_a_session(
    parts: tuple[AuthService, StudioSessions, SessionStore],
) -> None:
    auth, sessions, store = parts
    issued = auth.issue("alice")
    opened = sessions.sign_in(issued.token, Client("10.0.0.1"))
    assert store.count(issued.record.id) == 1
    assert sessions.sign_out(opened.secret, Client("10.0.0.1")) is True
    assert store.count(issued.record.id) == 0
    assert sessions.sign_out(opened.secret, Client("10.0.0.1")) is False
    with pytest.raises(AuthenticationError, match="not one this server issued"):
        sessions.identify(issued.token)


def test_refused_sign_ins_are_limited_per_address(
    parts: tuple[AuthService, StudioSessions, SessionStore],
) -> None:
    auth, sessions, _ = parts
    good = auth.issue("alice").token
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            sessions.sign_in("or_wrong", Client("10.0.0.1"))
    with pytest.raises(RateLimitError) as refused:
        sessions.sign_in(good, Client("10.0.0.1"))
    assert refused.value.retry_after is not None
    assert refused.value.retry_after >= 1
    assert sessions.sign_in(good, Client("10.0.0.2")).match.principal.name == "alice"
