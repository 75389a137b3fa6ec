"""The kill switch over HTTP: pause all, a model, a principal or a token; resume."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import TINY, Api

BODY: dict[str, Any] = {"prompt": "a small boat", **TINY}


def _pause(api: Api, **body: Any) -> dict[str, Any]:
    response = api.client.post("/v1/admin/pauses", json=body, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _resume(api: Api, **body: Any) -> bool:
    response = api.client.post("/v1/admin/pauses/resume", json=body, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    return bool(response.json()["resumed"])


def test_pause_all_refuses_new_work_with_the_reason_and_keeps_reads(api: Api) -> None:
    made = api.make()
    _pause(api, scope="all", reason="provider bill spike")
    refused = api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth()), 503)
    assert refused["code"] == "generation_paused"
    assert "provider bill spike" in refused["message"]
    api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth("bob")), 503)
    api.error(
        api.client.post(f"/v1/videos/{made['id']}/remix", json={"prompt": "x"}, headers=api.auth()),
        503,
    )
    assert api.client.get(f"/v1/videos/{made['id']}/content", headers=api.auth()).status_code == 200
    listing = api.client.get("/v1/admin/pauses", headers=api.auth("root")).json()["data"]
    assert [(p["scope"], p["reason"]) for p in listing] == [("all", "provider bill spike")]
    assert _resume(api, scope="all")
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200
    assert not _resume(api, scope="all")


def test_pause_one_principal_or_token_leaves_others_working(api: Api) -> None:
    _pause(api, scope="principal", target="alice", reason="abuse review")
    api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth()), 503)
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth("bob")).status_code == 200
    _resume(api, scope="principal", target="alice")
    bob_token = api.server.services.auth.identify(f"Bearer {api.tokens['bob']}").token.id
    _pause(api, scope="token", target=bob_token, reason="leaked")
    api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth("bob")), 503)
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200


def test_pause_model_and_cancel_running_stops_the_render(api: Api) -> None:
    running = api.start_long()
    outcome = _pause(
        api, scope="model", target="openreel-sketch", reason="bad output", cancel_running=True
    )
    assert outcome["stopping_running"] == 1
    stopped = api.wait(running["id"])
    assert stopped["status"] == "failed"
    assert stopped["error"]["code"] == "cancelled"
    refused = api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth()), 503)
    assert "openreel-sketch" in refused["message"]


def test_pause_holds_queued_videos_back_until_resumed(api: Api) -> None:
    busy = api.start_long()  # the one worker is busy, so the next video waits in the queue
    waiting = api.client.post("/v1/videos", json=BODY, headers=api.auth("bob")).json()
    _pause(api, scope="all", reason="hold everything")
    api.client.post(f"/v1/videos/{busy['id']}/cancel", headers=api.auth())
    api.wait(busy["id"])
    time.sleep(0.6)  # the worker is free and polls, but must not take a paused job
    assert api.get(waiting["id"], "bob")["status"] == "queued"
    _resume(api, scope="all")
    api.server.queue.notify()
    assert api.wait(waiting["id"], "bob")["status"] == "completed"


def test_pause_cancel_queued(api: Api) -> None:
    api.start_long()
    queued = api.create()
    outcome = _pause(api, scope="principal", target="alice", reason="stop", cancel_queued=True)
    assert outcome["cancelled_queued"] == 1
    assert api.get(queued["id"])["status"] == "failed"


def test_pause_bad_input_and_permissions(api: Api) -> None:
    root = api.auth("root")
    post = api.client.post
    api.error(
        post("/v1/admin/pauses", json={"scope": "all", "reason": "x"}, headers=api.auth()), 403
    )
    api.error(post("/v1/admin/pauses", json={"scope": "galaxy", "reason": "x"}, headers=root), 400)
    api.error(
        post("/v1/admin/pauses", json={"scope": "model", "reason": "x"}, headers=root),
        400,
        param="target",
    )
    api.error(
        post(
            "/v1/admin/pauses",
            json={"scope": "all", "target": "x", "reason": "r"},
            headers=root,
        ),
        400,
        param="target",
    )
    api.error(
        post(
            "/v1/admin/pauses",
            json={"scope": "principal", "target": "nobody", "reason": "r"},
            headers=root,
        ),
        404,
    )
    api.error(post("/v1/admin/pauses", json={"scope": "all", "reason": ""}, headers=root), 400)
    assert api.client.get("/v1/admin/pauses", headers=root).json()["data"] == []
