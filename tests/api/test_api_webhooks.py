"""``/v1/webhooks`` end to end: a real server (SQLite and PostgreSQL), a receiver on loopback,
and every notice checked with the official ``openai`` SDK's ``webhooks.unwrap``."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from openai import InvalidWebhookSignatureError, OpenAI
from tests.api.conftest import Api
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import Received, receiving

from openreel.config import WebhooksConfig
from openreel.storage.db import AUDIT, WEBHOOK_ENDPOINTS

LOOPBACK = WebhooksConfig(
    allow_private=True,
    allow_http=True,
    retry_base_seconds=0.2,
    timeout=2.0,
    poll_seconds=0.2,
)
"""The receiver is on loopback over http: both are allowed here, and retries come fast."""

SDK = OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")


def _api(make_api: Callable[..., Api], **changes: Any) -> Api:
    return make_api(webhooks=LOOPBACK.model_copy(update=changes))


def _add(api: Api, url: str, who: str = "alice", **body: Any) -> dict[str, Any]:
    response = api.client.post("/v1/webhooks", json={"url": url, **body}, headers=api.auth(who))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _unwrap(received: Received, secret: str) -> dict[str, Any]:
    """The event, after the SDK checked its signature (raises if it does not match)."""
    SDK.webhooks.unwrap(received.body, received.headers, secret=secret)
    event: dict[str, Any] = json.loads(received.body)
    return event


def _deliveries(api: Api, webhook_id: str, who: str = "alice") -> list[dict[str, Any]]:
    response = api.client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=api.auth(who))
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_a_finished_video_is_announced_signed_as_the_sdk_verifies(
    make_api: Callable[..., Api],
) -> None:
    api = _api(make_api)
    with receiving() as receiver:
        hook = _add(api, receiver.url)
        assert hook["id"].startswith("wh_")
        assert hook["object"] == "webhook_endpoint"
        assert hook["events"] == ["video.completed", "video.failed"]
        assert hook["secret"].startswith("whsec_")
        video = api.make()
        [received] = receiver.wait_for(1)
        event = _unwrap(received, hook["secret"])
        assert event["type"] == "video.completed"
        assert event["object"] == "event"
        assert event["id"].startswith("evt_")
        assert event["data"] == {"id": video["id"]}
        assert isinstance(event["created_at"], int)
        assert received.headers["webhook-id"].startswith("msg_")
        # One changed byte, and the SDK refuses it.
        tampered = received.body.replace(video["id"].encode(), video["id"][:-1].encode() + b"0")
        assert tampered != received.body
        with pytest.raises(InvalidWebhookSignatureError):
            SDK.webhooks.unwrap(tampered, received.headers, secret=hook["secret"])
        with pytest.raises(InvalidWebhookSignatureError):
            SDK.webhooks.unwrap(
                received.body, received.headers, secret=_add(api, receiver.url)["secret"]
            )
        wait_for(lambda: _deliveries(api, hook["id"])[0]["status"] == "delivered")
        [delivery] = _deliveries(api, hook["id"])
        assert delivery["id"] == received.headers["webhook-id"]
        assert delivery["video_id"] == video["id"]
        assert delivery["attempts"] == 1
        assert delivery["next_attempt_at"] is None
        [attempt] = delivery["history"]
        assert attempt["status_code"] == 200
        assert attempt["latency_ms"] > 0
        assert attempt["response_excerpt"] == '{"ok": true}'


def test_the_secret_is_shown_once_and_stored_sealed(
    make_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = _api(make_api)
    with receiving(statuses=[500]) as receiver:
        hook = _add(api, receiver.url)
        secret = hook["secret"]
        shown = api.client.get(f"/v1/webhooks/{hook['id']}", headers=api.auth()).json()
        assert "secret" not in shown
        listed = api.client.get("/v1/webhooks", headers=api.auth()).json()["data"]
        assert [h["id"] for h in listed] == [hook["id"]]
        rotated = api.client.post(f"/v1/webhooks/{hook['id']}/rotate", headers=api.auth()).json()
        assert rotated["secret"].startswith("whsec_")
        assert rotated["secret"] != secret
        assert rotated["secret_rotated_until"] > time.time()
        api.make()
        receiver.wait_for(2)  # a failed attempt and its retry, both signed with both secrets
        wait_for(lambda: _deliveries(api, hook["id"])[0]["status"] == "delivered")
        answers = [
            api.client.get(path, headers=api.auth()).text
            for path in (
                "/v1/webhooks",
                f"/v1/webhooks/{hook['id']}",
                f"/v1/webhooks/{hook['id']}/deliveries",
            )
        ]
    with api.server.db.read() as conn:
        stored = " ".join(
            conn.execute(
                sa.select(WEBHOOK_ENDPOINTS.c.secret, WEBHOOK_ENDPOINTS.c.previous_secret)
            ).one()
        )
        audit = [" ".join(map(str, row)) for row in conn.execute(sa.select(AUDIT))]
    assert any("webhook.created" in row for row in audit)
    assert any("webhook.rotated" in row for row in audit)
    for plain in (secret, rotated["secret"]):
        key = plain.removeprefix("whsec_")
        assert key not in stored  # sealed in the database
        assert all(key not in row for row in audit)  # never in the audit log
        assert all(key not in answer for answer in answers)  # never in a later answer
        assert key not in caplog.text  # never in a log record


def test_others_endpoints_are_invisible_but_admins_see_all(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    alices = _add(api, "http://127.0.0.1:9/a")
    bobs = _add(api, "http://127.0.0.1:9/b", who="bob")
    for path in (f"/v1/webhooks/{alices['id']}", f"/v1/webhooks/{alices['id']}/deliveries"):
        api.error(api.client.get(path, headers=api.auth("bob")), 404, code="not_found")
    api.error(api.client.delete(f"/v1/webhooks/{alices['id']}", headers=api.auth("bob")), 404)
    api.error(api.client.post(f"/v1/webhooks/{alices['id']}/rotate", headers=api.auth("bob")), 404)
    mine = api.client.get("/v1/webhooks", headers=api.auth("bob")).json()["data"]
    assert [h["id"] for h in mine] == [bobs["id"]]
    everyone = api.client.get("/v1/webhooks", headers=api.auth("root")).json()["data"]
    assert {h["id"] for h in everyone} == {alices["id"], bobs["id"]}
    gone = api.client.delete(f"/v1/webhooks/{alices['id']}", headers=api.auth("root"))
    assert gone.json() == {
        "id": alices["id"],
        "object": "webhook_endpoint.deleted",
        "deleted": True,
    }
    api.error(api.client.get(f"/v1/webhooks/{alices['id']}", headers=api.auth()), 404)


def test_bad_input_names_the_parameter(make_api: Callable[..., Api]) -> None:
    api = _api(make_api, allow_http=False, endpoints_per_principal=2)
    post = lambda body: api.client.post("/v1/webhooks", json=body, headers=api.auth())  # noqa: E731
    error = api.error(post({"url": "http://hooks.example.com/x"}), 400, param="url")
    assert "https" in error["message"]
    assert "http://hooks.example.com/x" in error["message"]
    api.error(post({"url": "ftp://127.0.0.1/x"}), 400, param="url")
    api.error(post({"url": "not a url"}), 400, param="url")
    api.error(post({"url": "https://127.0.0.1/x", "events": ["video.started"]}), 400)
    api.error(post({"url": "https://127.0.0.1/x", "events": []}), 400)
    _add(api, "https://127.0.0.1/1")
    _add(api, "https://127.0.0.1/2")
    api.error(post({"url": "https://127.0.0.1/3"}), 400, code="webhook_limit_reached")
    with api.server.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(WEBHOOK_ENDPOINTS)).scalar() == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ],
)
def test_private_targets_are_refused_without_the_setting(
    make_api: Callable[..., Api], url: str
) -> None:
    api = make_api(webhooks=WebhooksConfig())
    error = api.error(
        api.client.post("/v1/webhooks", json={"url": url}, headers=api.auth()),
        400,
        param="url",
        code="webhook_target_refused",
    )
    assert "OPENREEL_WEBHOOKS__ALLOW_PRIVATE" in error["message"]


def test_500_twice_then_2xx_keeps_one_webhook_id_and_stops(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    with receiving(statuses=[500, 500]) as receiver:
        hook = _add(api, receiver.url)
        api.make()
        received = receiver.wait_for(3)
        time.sleep(1.5)  # several backoff periods: nothing more may come
        assert len(receiver.received) == 3
        ids = receiver.ids()
        assert len(set(ids)) == 1
        for request in received:
            _unwrap(request, hook["secret"])
        assert [status for _, status in receiver.answered] == [500, 500, 200]
        [delivery] = _deliveries(api, hook["id"])
        assert delivery["status"] == "delivered"
        assert delivery["attempts"] == 3
        assert [a["status_code"] for a in delivery["history"]] == [500, 500, 200]
        # Only a short excerpt of a long answer is kept.
        assert len(delivery["history"][0]["response_excerpt"]) <= 256
        gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
        assert gaps[0] >= 0.1  # the first retry waited at least half the base delay


def test_retry_after_is_honoured(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    with receiving(statuses=[503], retry_after="2") as receiver:
        _add(api, receiver.url)
        api.make()
        first, second = receiver.wait_for(2, timeout=30)
        assert second.at - first.at >= 1.9  # not the 0.1-0.2 s the backoff alone would wait


def test_a_cancelled_video_is_video_failed_with_code_cancelled(
    make_api: Callable[..., Api],
) -> None:
    api = _api(make_api)
    with receiving() as receiver:
        hook = _add(api, receiver.url)
        video = api.start_long()
        response = api.client.post(f"/v1/videos/{video['id']}/cancel", headers=api.auth())
        assert response.status_code == 200, response.text
        [received] = receiver.wait_for(1)
        event = _unwrap(received, hook["secret"])
        assert event["type"] == "video.failed"
        assert event["data"]["id"] == video["id"]
        assert event["data"]["error"]["code"] == "cancelled"


def test_only_the_events_asked_for_are_sent(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    with receiving() as failed_only, receiving() as everything:
        _add(api, failed_only.url, events=["video.failed"])
        _add(api, everything.url)
        api.make()
        everything.wait_for(1)
        time.sleep(0.5)
        assert failed_only.received == []


def test_rotation_signs_with_both_secrets_for_the_grace_period(
    make_api: Callable[..., Api],
) -> None:
    api = _api(make_api)
    with receiving() as receiver:
        hook = _add(api, receiver.url)
        rotated = api.client.post(f"/v1/webhooks/{hook['id']}/rotate", headers=api.auth())
        new_secret = rotated.json()["secret"]
        api.make()
        [received] = receiver.wait_for(1)
        assert len(received.headers["webhook-signature"].split(" ")) == 2
        _unwrap(received, hook["secret"])
        _unwrap(received, new_secret)


def test_manual_redelivery_resends_the_same_webhook_id(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    with receiving() as receiver:
        hook = _add(api, receiver.url)
        api.make()
        [first] = receiver.wait_for(1)
        wait_for(lambda: _deliveries(api, hook["id"])[0]["status"] == "delivered")
        delivery_id = _deliveries(api, hook["id"])[0]["id"]
        again = api.client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver", headers=api.auth()
        )
        assert again.status_code == 200, again.text
        _, second = receiver.wait_for(2)
        assert second.headers["webhook-id"] == first.headers["webhook-id"] == delivery_id
        assert second.body == first.body
        api.error(
            api.client.post(
                f"/v1/webhooks/{hook['id']}/deliveries/msg_nothing/redeliver",
                headers=api.auth(),
            ),
            404,
        )


def test_a_redirect_is_not_followed(make_api: Callable[..., Api]) -> None:
    api = _api(make_api)
    with receiving() as inside, receiving(status=307) as redirecting:
        redirecting.location = inside.url
        hook = _add(api, redirecting.url)
        api.make()
        redirecting.wait_for(1)
        wait_for(lambda: _deliveries(api, hook["id"])[0]["attempts"] >= 1)
        [delivery] = _deliveries(api, hook["id"])
        assert delivery["status"] == "pending"
        assert delivery["history"][0]["status_code"] == 307
        assert inside.received == []


def test_a_hanging_receiver_does_not_delay_another_endpoint(
    make_api: Callable[..., Api],
) -> None:
    api = _api(make_api, timeout=10.0)
    with receiving() as slow, receiving() as fast:
        slow.hang.set()
        _add(api, slow.url)
        _add(api, fast.url, who="bob")
        api.make()
        api.make("bob")
        slow.wait_for(1)  # the slow receiver holds its attempt open...
        [received] = fast.wait_for(1, timeout=8)  # ...and the other is told meanwhile
        assert not slow.release.is_set()
        assert slow.answered == []
        assert json.loads(received.body)["type"] == "video.completed"


def test_an_endpoint_failing_too_long_is_disabled_with_its_reason(
    make_api: Callable[..., Api],
) -> None:
    api = _api(make_api, disable_after_hours=1 / 3600)  # one second
    with receiving(status=500) as receiver:
        hook = _add(api, receiver.url)
        api.make()

        def disabled() -> bool:
            shown = api.client.get(f"/v1/webhooks/{hook['id']}", headers=api.auth()).json()
            return bool(shown["status"] == "disabled")

        wait_for(disabled, timeout=20)
        shown = api.client.get(f"/v1/webhooks/{hook['id']}", headers=api.auth()).json()
        assert "disabled automatically" in shown["disabled_reason"]
        assert "HTTP 500" in shown["disabled_reason"]
        count = len(receiver.received)
        time.sleep(1.0)
        assert len(receiver.received) == count  # nothing more is sent to it
        enabled = api.client.post(f"/v1/webhooks/{hook['id']}/enable", headers=api.auth())
        assert enabled.json()["status"] == "enabled"
        receiver.wait_for(count + 1)
