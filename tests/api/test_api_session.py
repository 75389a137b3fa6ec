"""The studio's cookie sessions: sign-in, CSRF, revocation, and the static page itself."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient
from tests.api.conftest import TINY, Api

from openreel.storage.db import STUDIO_SESSIONS
from openreel.storage.sessions import SessionStore

COOKIE = "openreel_session"


def _sign_in(api: Api, who: str = "alice") -> tuple[TestClient, dict[str, Any]]:
    """A fresh client (its own cookie jar) signed in as ``who``; returns it and the session."""
    client = TestClient(api.app)
    response = client.post("/v1/session", json={"token": api.tokens[who]})
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return client, session


def _create_body() -> dict[str, Any]:
    return {"prompt": "a small boat on a calm lake", **TINY}


def test_session_sign_in_sets_an_httponly_strict_cookie_and_returns_csrf(api: Api) -> None:
    response = TestClient(api.app).post("/v1/session", json={"token": api.tokens["alice"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["signed_in"] is True
    assert body["principal"] == "alice"
    assert body["via"] == "cookie"
    assert body["admin"] is False
    assert len(body["csrf_token"]) >= 32
    assert api.tokens["alice"] not in response.text  # the body never echoes the token
    raw = response.headers["set-cookie"]
    cookie = SimpleCookie()
    cookie.load(raw)
    morsel = cookie[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) <= 12 * 3600
    assert not morsel["secure"]  # plain http in tests; https requests get Secure
    assert response.headers["cache-control"] == "no-store"


def test_session_cookie_reads_without_csrf_and_writes_with_it(api: Api) -> None:
    client, session = _sign_in(api)
    assert client.get("/v1/videos").status_code == 200
    assert client.get("/v1/usage").json()["principal"] == "alice"
    created = client.post(
        "/v1/videos", json=_create_body(), headers={"X-CSRF-Token": session["csrf_token"]}
    )
    assert created.status_code == 200, created.text
    video = api.wait(created.json()["id"])
    assert video["status"] == "completed"
    # Media elements cannot send headers: the content GET works on the cookie alone.
    content = client.get(f"/v1/videos/{video['id']}/content")
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    thumb = client.get(f"/v1/videos/{video['id']}/content", params={"variant": "thumbnail"})
    assert thumb.status_code == 200


def test_session_write_without_csrf_header_is_403_with_envelope(api: Api) -> None:
    client, _ = _sign_in(api)
    response = client.post("/v1/videos", json=_create_body())
    error = Api.error(response, 403, code="csrf_failed")
    assert error["type"] == "permission_error"
    assert "X-CSRF-Token" in error["message"]
    assert client.get("/v1/videos").json()["data"] == []  # nothing was created


def test_session_wrong_csrf_header_is_403(api: Api) -> None:
    client, _ = _sign_in(api)
    _, bobs = _sign_in(api, "bob")
    response = client.post(
        "/v1/videos", json=_create_body(), headers={"X-CSRF-Token": bobs["csrf_token"]}
    )
    Api.error(response, 403, code="csrf_failed")
    video = api.make()
    delete = client.delete(f"/v1/videos/{video['id']}", headers={"X-CSRF-Token": "nope"})
    Api.error(delete, 403, code="csrf_failed")
    assert api.get(video["id"])["status"] == "completed"


def test_session_bearer_clients_need_no_csrf(api: Api) -> None:
    client, _ = _sign_in(api, "bob")
    # A bearer header wins over a cookie, and bearer requests are never asked for CSRF.
    response = client.post("/v1/videos", json=_create_body(), headers=api.auth("alice"))
    assert response.status_code == 200, response.text
    assert api.get(response.json()["id"])["id"] == response.json()["id"]


def test_session_revoked_token_ends_the_session_at_once(api: Api) -> None:
    client, session = _sign_in(api)
    token_id = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").token.id
    assert client.get("/v1/videos").status_code == 200
    revoke = api.client.post(f"/v1/admin/tokens/{token_id}/revoke", headers=api.auth("root"))
    assert revoke.status_code == 200, revoke.text
    Api.error(client.get("/v1/videos"), 401, code="session_ended")
    write = client.post(
        "/v1/videos", json=_create_body(), headers={"X-CSRF-Token": session["csrf_token"]}
    )
    Api.error(write, 401)
    probe = client.get("/v1/session")
    assert probe.status_code == 200
    assert probe.json()["signed_in"] is False
    assert "revoked" in probe.json()["reason"]
    assert f'{COOKIE}=""' in probe.headers["set-cookie"]  # the dead cookie is cleared
    again = TestClient(api.app).post("/v1/session", json={"token": api.tokens["alice"]})
    Api.error(again, 401)


def test_session_probe_and_sign_out(api: Api) -> None:
    anonymous = TestClient(api.app).get("/v1/session")
    assert anonymous.status_code == 200
    assert anonymous.json()["signed_in"] is False
    client, session = _sign_in(api, "root")
    probe = client.get("/v1/session").json()
    assert probe["signed_in"] is True
    assert probe["admin"] is True
    assert probe["csrf_token"] == session["csrf_token"]
    bearer = api.client.get("/v1/session", headers=api.auth("bob")).json()
    assert bearer["via"] == "bearer"
    assert bearer["csrf_token"] is None
    out = client.delete("/v1/session")
    assert out.status_code == 200
    assert out.json() == {"object": "session.deleted", "deleted": True}
    assert client.get("/v1/session").json()["signed_in"] is False
    Api.error(client.get("/v1/videos"), 401)


def test_session_bad_tokens_are_refused_with_the_envelope(api: Api) -> None:
    client = TestClient(api.app)
    Api.error(client.post("/v1/session", json={"token": "or_nope"}), 401)
    Api.error(client.post("/v1/session", json={}), 400, param="token")
    Api.error(client.get("/v1/session", headers={"Authorization": "Bearer or_x"}), 401)
    assert "set-cookie" not in client.post("/v1/session", json={"token": "x"}).headers


def test_session_admin_routes_still_need_the_admin_scope(api: Api) -> None:
    client, _ = _sign_in(api, "alice")
    Api.error(client.get("/v1/admin/tokens"), 403)
    root, session = _sign_in(api, "root")
    assert root.get("/v1/admin/tokens").status_code == 200
    made = root.post(
        "/v1/admin/tokens", json={"name": "dora"}, headers={"X-CSRF-Token": session["csrf_token"]}
    )
    assert made.status_code == 200, made.text


def test_studio_page_is_served_with_a_strict_policy(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert '<script type="module" src="/studio/app.js">' in page.text
    for name, kind in (
        ("app.js", "text/javascript"),
        ("api.js", "text/javascript"),
        ("admin.js", "text/javascript"),
        ("style.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ):
        response = api.client.get(f"/studio/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(kind)
    Api.error(api.client.get("/studio/nothing.js"), 404)
    Api.error(api.client.get("/studio/..%2Fapi%2Fapp.py"), 404)
    # The page loads nothing from anywhere else.
    for name in ("index.html", "app.js", "api.js", "admin.js", "style.css"):
        text = api.client.get("/" if name == "index.html" else f"/studio/{name}").text
        assert "http://" not in text
        assert "https://" not in text


# Server-side sessions: the cookie names a session, never a token.


def _cookie(client: TestClient) -> str:
    value = client.cookies.get(COOKIE)
    assert value, "no session cookie was set"
    return str(value)


def _thief(api: Api, cookie: str) -> TestClient:
    """Another browser holding a copy of someone's cookie jar."""
    return TestClient(api.app, cookies={COOKIE: cookie})


def test_session_cookie_is_no_api_token_and_is_stored_hashed(api: Api) -> None:
    client, _ = _sign_in(api)
    cookie = _cookie(client)
    assert cookie.startswith("ors_")
    assert api.tokens["alice"] not in cookie
    assert _thief(api, cookie).get("/v1/videos").status_code == 200  # it is a session...
    as_bearer = api.client.get("/v1/videos", headers={"Authorization": f"Bearer {cookie}"})
    Api.error(as_bearer, 401)  # ...and not a token anyone can script with
    with api.server.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(STUDIO_SESSIONS))]
    assert len(rows) == 1
    assert all(cookie not in str(value) for value in rows[0].values())
    assert rows[0]["id"].startswith("ses_")


def test_session_sign_out_ends_every_copy_of_the_cookie(api: Api) -> None:
    client, _ = _sign_in(api)
    thief = _thief(api, _cookie(client))
    assert thief.get("/v1/videos").status_code == 200
    assert client.delete("/v1/session").status_code == 200
    Api.error(thief.get("/v1/videos"), 401, code="session_ended")
    probe = thief.get("/v1/session").json()
    assert probe["signed_in"] is False
    assert "signed out" in probe["reason"]


def test_session_revocation_deletes_the_tokens_sessions(api: Api) -> None:
    client, _ = _sign_in(api)
    other, _ = _sign_in(api)
    token_id = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").token.id
    store = SessionStore(api.server.db)
    assert store.count(token_id) == 2
    api.server.services.auth.revoke(token_id)
    assert store.count(token_id) == 0
    for browser in (client, other):
        Api.error(browser.get("/v1/usage"), 401, code="session_ended")


def test_session_cookie_is_secure_over_https(api: Api) -> None:
    client = TestClient(api.app, base_url="https://testserver")
    response = client.post("/v1/session", json={"token": api.tokens["alice"]})
    assert response.status_code == 200, response.text
    signed_in = SimpleCookie()
    signed_in.load(response.headers["set-cookie"])
    assert signed_in[COOKIE]["secure"] is True
    out = client.delete("/v1/session")
    cleared = SimpleCookie()
    cleared.load(out.headers["set-cookie"])
    assert cleared[COOKIE]["secure"] is True


def test_session_repeated_bad_sign_ins_get_429_but_good_ones_never_count(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(sign_ins_per_minute=3)
    for _ in range(5):  # good sign-ins from one address are never limited
        _sign_in(api)
    guesser = TestClient(api.app)
    wrong = "or_" + "A" * 38
    for _ in range(3):
        Api.error(guesser.post("/v1/session", json={"token": wrong}), 401)
    refused = guesser.post("/v1/session", json={"token": api.tokens["alice"]})
    error = Api.error(refused, 429, code="rate_limit_exceeded")
    assert "sign-in attempts from this address" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "set-cookie" not in refused.headers


def test_session_sign_ins_and_sign_outs_are_audited_without_secrets(api: Api) -> None:
    client, _ = _sign_in(api)
    cookie = _cookie(client)
    Api.error(TestClient(api.app).post("/v1/session", json={"token": "or_nope"}), 401)
    client.delete("/v1/session", headers={"User-Agent": "studio-test"})
    audit = api.server.services.audit
    signed_in = audit.list(action="session.signed_in", order="asc")
    assert [r.outcome for r in signed_in] == ["ok", "denied:invalid_api_key"]
    alice = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").principal
    assert signed_in[0].actor_id == alice.id
    assert signed_in[0].target_id is not None
    assert signed_in[0].target_id.startswith("ses_")
    (signed_out,) = audit.list(action="session.signed_out")
    assert signed_out.target_id == signed_in[0].target_id
    assert signed_out.user_agent == "studio-test"
    for record in (*signed_in, signed_out):
        assert cookie not in repr(record)
        assert api.tokens["alice"] not in repr(record)
