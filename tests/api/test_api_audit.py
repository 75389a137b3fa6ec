"""The audit log: every action leaves a row in its own transaction; tampering is found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from tests.api.conftest import TINY, Api

from openreel.config import QuotaConfig
from openreel.runtime import open_database
from openreel.storage.db import AUDIT

BODY: dict[str, Any] = {"prompt": "a small boat", **TINY}


def _rows(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get("/v1/admin/audit", params=params, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def test_audit_records_tokens_videos_refusals_and_admin_actions(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(quota=QuotaConfig(seconds=1, videos=0))
    root_id = api.principals["root"].id
    alice_id = api.principals["alice"].id
    made = api.make()
    refused = api.client.post("/v1/videos", json=BODY, headers=api.auth())
    assert refused.status_code == 429
    issued = api.client.post(
        "/v1/admin/tokens", json={"name": "carol"}, headers=api.auth("root")
    ).json()
    api.client.post(f"/v1/admin/tokens/{issued['id']}/revoke", headers=api.auth("root"))
    api.client.post(
        "/v1/admin/pauses", json={"scope": "all", "reason": "drill"}, headers=api.auth("root")
    )
    api.client.post("/v1/admin/pauses/resume", json={"scope": "all"}, headers=api.auth("root"))
    api.client.delete(f"/v1/videos/{made['id']}", headers=api.auth())

    rows = _rows(api, limit=500)
    seen = [(r["action"], r["outcome"]) for r in reversed(rows)]
    for expected in [
        ("video.admitted", "ok"),
        ("video.completed", "ok"),
        ("video.refused", "denied:quota_exceeded"),
        ("token.created", "ok"),
        ("token.revoked", "ok"),
        ("admin.pause", "ok"),
        ("admin.resume", "ok"),
        ("video.deleted", "ok"),
    ]:
        assert expected in seen, (expected, seen)
    admitted = _rows(api, action="video.admitted")[0]
    assert (admitted["actor_id"], admitted["target_id"]) == (alice_id, made["id"])
    assert admitted["token_id"] is not None
    created = _rows(api, action="token.created", target=issued["id"])
    assert [r["actor_id"] for r in created] == [root_id]
    assert issued["token"] not in str(rows)  # never a secret
    assert api.client.get("/v1/admin/audit/verify", headers=api.auth("root")).json()["ok"]


def test_audit_verify_finds_an_edited_row(api: Api) -> None:
    api.make()
    rows = _rows(api, limit=500)
    assert len(rows) >= 2
    middle = rows[len(rows) // 2]["seq"]
    db = open_database(api.server.services.settings)  # SQLite or PostgreSQL, as the server
    try:
        with db.begin() as conn:
            conn.execute(sa.update(AUDIT).where(AUDIT.c.seq == middle).values(outcome="denied:x"))
    finally:
        db.dispose()
    verdict = api.client.get("/v1/admin/audit/verify", headers=api.auth("root")).json()
    assert verdict["ok"] is False
    assert verdict["first_bad_seq"] == middle
    assert str(middle) in verdict["reason"]


def test_audit_is_for_admins_only_and_pages(api: Api) -> None:
    api.error(api.client.get("/v1/admin/audit", headers=api.auth()), 403)
    api.error(api.client.get("/v1/admin/audit/verify", headers=api.auth()), 403)
    for _ in range(3):
        api.create()
    first = api.client.get("/v1/admin/audit", params={"limit": 2}, headers=api.auth("root"))
    page = first.json()
    assert page["has_more"] is True
    after = page["data"][-1]["seq"]
    rest = _rows(api, after=after, limit=500)
    assert all(r["seq"] < after for r in rest)
    api.error(api.client.get("/v1/admin/audit", params={"limit": 0}, headers=api.auth("root")), 400)
