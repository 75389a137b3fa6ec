"""Abuse signals: a token used from too many addresses, or spending too fast, is suspended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.conftest import TINY, Api

from openreel.config import AbuseConfig

BODY: dict[str, Any] = {"prompt": "a small boat", **TINY}


def test_token_used_from_too_many_addresses_is_suspended(make_api: Callable[..., Api]) -> None:
    api = make_api(abuse=AbuseConfig(max_addresses=3))
    monitor = api.server.services.abuse
    token_id = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").token.id
    for n in range(3):
        assert monitor.request(token_id, f"10.0.0.{n}") is None
    reason = monitor.request(token_id, "10.0.0.9")
    assert reason is not None
    assert "4 client addresses" in reason
    monitor.suspend(token_id, reason)
    refused = api.error(api.client.get("/v1/videos", headers=api.auth()), 401)
    assert refused["code"] == "invalid_api_key"
    assert api.client.get("/v1/videos", headers=api.auth("bob")).status_code == 200
    revoked = api.client.get(f"/v1/admin/tokens/{token_id}", headers=api.auth("root")).json()
    assert revoked["revoked_at"] is not None
    audit = api.client.get(
        "/v1/admin/audit", params={"action": "token.revoked"}, headers=api.auth("root")
    ).json()["data"]
    assert "suspended automatically" in audit[0]["detail"]["reason"]
    assert audit[0]["actor_id"] is None  # a rule, not a person


def test_the_request_that_trips_the_address_signal_is_refused(
    make_api: Callable[..., Api],
) -> None:
    # The test client always comes from one address; an earlier request from another
    # address is fed to the monitor directly, so the next HTTP request is the second address.
    api = make_api(abuse=AbuseConfig(max_addresses=1))
    token_id = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").token.id
    assert api.server.services.abuse.request(token_id, "198.51.100.7") is None
    refused = api.error(api.client.get("/v1/videos", headers=api.auth()), 401)
    assert refused["code"] == "token_suspended"
    assert "2 client addresses" in refused["message"]
    api.error(api.client.get("/v1/videos", headers=api.auth()), 401)  # and stays revoked


def test_token_spending_too_fast_is_suspended_after_its_video(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(abuse=AbuseConfig(max_seconds=2))
    for _ in range(2):
        assert api.client.post("/v1/videos", json=BODY, headers=api.auth()).status_code == 200
    tripping = api.client.post("/v1/videos", json=BODY, headers=api.auth())
    assert tripping.status_code == 200  # admitted before the signal fired: the caller gets it
    api.error(api.client.get("/v1/videos", headers=api.auth()), 401)
    assert api.client.post("/v1/videos", json=BODY, headers=api.auth("bob")).status_code == 200


def test_abuse_signals_can_be_off(make_api: Callable[..., Api]) -> None:
    api = make_api(abuse=AbuseConfig(max_addresses=0, max_seconds=0))
    token_id = api.server.services.auth.identify(f"Bearer {api.tokens['alice']}").token.id
    for n in range(50):
        assert api.server.services.abuse.request(token_id, f"10.0.1.{n}") is None
    assert api.client.get("/v1/videos", headers=api.auth()).status_code == 200
