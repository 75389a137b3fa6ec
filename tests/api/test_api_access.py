"""Scopes on every route and the admin token API: create, list, revoke, rotate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.api.conftest import TINY

if TYPE_CHECKING:
    from tests.api.conftest import Api


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _mint(api: Api, **body: Any) -> dict[str, Any]:
    response = api.client.post("/v1/admin/tokens", json=body, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    issued: dict[str, Any] = response.json()
    return issued


def test_read_only_token_reads_but_cannot_write(api: Api) -> None:
    video = api.make()
    reader = _mint(api, name="alice", scopes=["videos:read"])["token"]
    assert api.client.get("/v1/videos", headers=_bearer(reader)).status_code == 200
    assert api.client.get(f"/v1/videos/{video['id']}", headers=_bearer(reader)).status_code == 200
    body = {"prompt": "a boat", **TINY}
    refused = api.error(api.client.post("/v1/videos", json=body, headers=_bearer(reader)), 403)
    assert refused["type"] == "permission_error"
    assert "videos:write" in refused["message"]
    api.error(api.client.delete(f"/v1/videos/{video['id']}", headers=_bearer(reader)), 403)
    api.error(api.client.post(f"/v1/videos/{video['id']}/cancel", headers=_bearer(reader)), 403)
    remix = {"prompt": "a ship"}
    api.error(
        api.client.post(f"/v1/videos/{video['id']}/remix", json=remix, headers=_bearer(reader)),
        403,
    )
    assert api.get(video["id"])["status"] == "completed"  # nothing changed


def test_write_only_token_cannot_read(api: Api) -> None:
    writer = _mint(api, name="alice", scopes=["videos:write"])["token"]
    api.error(api.client.get("/v1/videos", headers=_bearer(writer)), 403)
    body = {"prompt": "a boat", **TINY}
    assert api.client.post("/v1/videos", json=body, headers=_bearer(writer)).status_code == 200


def test_users_cannot_call_admin_routes(api: Api) -> None:
    for method, path in [
        ("GET", "/v1/admin/tokens"),
        ("POST", "/v1/admin/tokens"),
        ("GET", "/v1/admin/tokens/tok_0000000000000000"),
        ("POST", "/v1/admin/tokens/tok_0000000000000000/revoke"),
        ("POST", "/v1/admin/tokens/tok_0000000000000000/rotate"),
    ]:
        response = api.client.request(method, path, json={"name": "x"}, headers=api.auth())
        assert api.error(response, 403)["type"] == "permission_error", path
        api.error(api.client.request(method, path, json={"name": "x"}), 401)


def test_admin_token_without_admin_scope_is_refused(api: Api) -> None:
    limited = _mint(api, name="root", scopes=["videos:read"])["token"]
    api.error(api.client.get("/v1/admin/tokens", headers=_bearer(limited)), 403)


def test_admin_creates_a_token_that_works_and_is_listed_without_its_secret(api: Api) -> None:
    issued = _mint(api, name="carol", label="carol's laptop", days=7)
    assert issued["object"] == "token"
    assert issued["token"].startswith("or_")
    assert issued["prefix"] == issued["token"][:10]
    assert issued["scopes"] == ["videos:read", "videos:write"]
    assert issued["expires_at"] - issued["created_at"] in range(7 * 86400 - 2, 7 * 86400 + 2)
    assert api.client.get("/v1/videos", headers=_bearer(issued["token"])).status_code == 200
    listing = api.client.get("/v1/admin/tokens", headers=api.auth("root"))
    assert listing.status_code == 200
    assert issued["token"] not in listing.text
    mine = [t for t in listing.json()["data"] if t["id"] == issued["id"]]
    assert mine[0]["name"] == "carol's laptop"
    assert "token" not in mine[0]
    only = api.client.get("/v1/admin/tokens", params={"name": "carol"}, headers=api.auth("root"))
    assert [t["id"] for t in only.json()["data"]] == [issued["id"]]
    one = api.client.get(f"/v1/admin/tokens/{issued['id']}", headers=api.auth("root"))
    assert one.json()["id"] == issued["id"]


def test_admin_revokes_and_the_next_request_fails(api: Api) -> None:
    issued = _mint(api, name="dave")
    assert api.client.get("/v1/videos", headers=_bearer(issued["token"])).status_code == 200
    revoked = api.client.post(
        f"/v1/admin/tokens/{issued['id']}/revoke", headers=api.auth("root")
    ).json()
    assert revoked["revoked_at"] is not None
    api.error(api.client.get("/v1/videos", headers=_bearer(issued["token"])), 401)


def test_admin_rotates_a_token(api: Api) -> None:
    old = _mint(api, name="erin", scopes=["videos:read"])
    new = api.client.post(
        f"/v1/admin/tokens/{old['id']}/rotate", json={"days": 3}, headers=api.auth("root")
    )
    assert new.status_code == 200, new.text
    fresh = new.json()
    assert fresh["token"] != old["token"]
    assert fresh["scopes"] == ["videos:read"]
    api.error(api.client.get("/v1/videos", headers=_bearer(old["token"])), 401)
    assert api.client.get("/v1/videos", headers=_bearer(fresh["token"])).status_code == 200


def test_admin_token_api_bad_input(api: Api) -> None:
    root = api.auth("root")
    post = api.client.post
    api.error(
        post("/v1/admin/tokens", json={"name": "x", "days": 0}, headers=root), 400, param="days"
    )
    api.error(
        post("/v1/admin/tokens", json={"name": "x", "days": 10_000}, headers=root),
        400,
        param="days",
    )
    bad_scope = post("/v1/admin/tokens", json={"name": "x", "scopes": ["root"]}, headers=root)
    assert "'root'" in api.error(bad_scope, 400, param="scopes")["message"]
    api.error(post("/v1/admin/tokens", json={"name": "alice", "admin": True}, headers=root), 409)
    api.error(post("/v1/admin/tokens", json={"nam": "x"}, headers=root), 400)
    api.error(post("/v1/admin/tokens/tok_missing/revoke", headers=root), 404)
    api.error(post("/v1/admin/tokens/tok_missing/rotate", headers=root), 404)
    listing = api.client.get("/v1/admin/tokens", headers=root).json()["data"]
    assert "x" not in {t["name"] for t in listing}  # refused requests made nothing
