"""Quotas over HTTP: 429 with Retry-After, GET /v1/usage, refunds, admin limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.conftest import TINY, Api

from openreel.config import QuotaConfig

BODY: dict[str, Any] = {"prompt": "a small boat", **TINY}  # 1-second videos


def _usage(api: Api, who: str = "alice") -> dict[str, Any]:
    response = api.client.get("/v1/usage", headers=api.auth(who))
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()
    return usage


def test_quota_refuses_with_429_and_retry_after(make_api: Callable[..., Api]) -> None:
    api = make_api(quota=QuotaConfig(seconds=2, videos=0))
    for _ in range(2):
        assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200
    refused = api.client.post("/v1/videos", json=BODY, headers=api.auth())
    error = api.error(refused, 429, code="quota_exceeded")
    assert error["type"] == "rate_limit_error"
    assert "0 seconds are left" in error["message"]
    assert int(refused.headers["retry-after"]) > 80_000  # a day, less a moment
    usage = _usage(api)
    assert (usage["seconds_used"], usage["seconds_limit"], usage["seconds_left"]) == (2, 2, 0)
    assert usage["exempt"] is False
    assert len(api.client.get("/v1/videos", headers=api.auth()).json()["data"]) == 2


def test_quota_concurrent_cap_and_refund_on_cancel(make_api: Callable[..., Api]) -> None:
    api = make_api(quota=QuotaConfig(seconds=0, videos=1))
    running = api.start_long()
    error = api.error(
        api.client.post("/v1/videos", json=BODY, headers=api.auth()),
        429,
        code="concurrent_limit_exceeded",
    )
    assert "1 at once" in error["message"]
    assert _usage(api)["active_videos"] == 1
    api.client.post(f"/v1/videos/{running['id']}/cancel", headers=api.auth())
    api.wait(running["id"])
    assert _usage(api)["active_videos"] == 0
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200


def test_quota_failed_video_is_refunded(make_api: Callable[..., Api]) -> None:
    api = make_api(quota=QuotaConfig(seconds=60, videos=0))
    running = api.start_long()  # 60 seconds: the whole allowance
    api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth()), 429)
    api.client.delete(f"/v1/videos/{running['id']}", headers=api.auth())  # unfinished: refunded
    assert _usage(api)["seconds_used"] == 0
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200


def test_quota_refusal_keeps_no_reference_image(make_api: Callable[..., Api]) -> None:
    api = make_api(quota=QuotaConfig(seconds=1, videos=0))
    api.make()
    body = {**BODY, "input_reference": {"image_url": api.data_url(api.image())}}
    api.error(api.client.post("/v1/videos", json=body, headers=api.auth()), 429)
    jobs = api.data_dir / "artifacts" / "jobs"
    assert len(list(jobs.iterdir())) == 1  # only the finished video's folder


def test_quota_admins_are_exempt_and_set_limits(make_api: Callable[..., Api]) -> None:
    api = make_api(quota=QuotaConfig(seconds=1, videos=0))
    for _ in range(3):
        assert api.client.post("/v1/videos", json=BODY, headers=api.auth("root")).status_code == 200
    assert _usage(api, "root")["exempt"] is True
    raised = api.client.post(
        "/v1/admin/quotas", json={"name": "alice", "seconds": 3}, headers=api.auth("root")
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["seconds_limit"] == 3
    for _ in range(3):
        assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200
    api.error(api.client.post("/v1/videos", json=BODY, headers=api.auth()), 429)
    everyone = api.client.get("/v1/admin/usage", headers=api.auth("root")).json()["data"]
    by_name = {u["principal"]: u for u in everyone}
    assert by_name["alice"]["seconds_used"] == 3
    assert by_name["bob"]["seconds_used"] == 0
    api.error(api.client.get("/v1/admin/usage", headers=api.auth()), 403)
    api.error(
        api.client.post("/v1/admin/quotas", json={"name": "nobody"}, headers=api.auth("root")),
        404,
    )
    api.error(
        api.client.post(
            "/v1/admin/quotas", json={"name": "alice", "seconds": -1}, headers=api.auth("root")
        ),
        400,
    )
