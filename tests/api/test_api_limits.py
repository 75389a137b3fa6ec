"""Per-token rate limits: 429 with Retry-After, counted per token, creations apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.api.conftest import TINY, Api

from openreel.errors import ConfigurationError
from openreel.trust.ratelimit import RateLimiter


def test_requests_over_the_limit_get_429_with_retry_after(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_requests_per_minute=5)
    for _ in range(5):
        assert api.client.get("/v1/videos", headers=api.auth()).status_code == 200
    refused = api.client.get("/v1/videos", headers=api.auth())
    error = api.error(refused, 429)
    assert error["type"] == "rate_limit_error"
    assert "5 a minute" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another token has its own allowance.
    assert api.client.get("/v1/videos", headers=api.auth("bob")).status_code == 200


def test_creations_have_their_own_lower_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_creates_per_minute=2)
    body: dict[str, Any] = {"prompt": "a boat", **TINY}
    for _ in range(2):
        assert api.client.post("/v1/videos", json=body, headers=api.auth()).status_code == 200
    refused = api.client.post("/v1/videos", json=body, headers=api.auth())
    assert "videos created" in api.error(refused, 429)["message"]
    assert "retry-after" in refused.headers
    listing = api.client.get("/v1/videos", headers=api.auth()).json()["data"]
    assert len(listing) == 2  # the refused one was not queued
    assert api.client.get("/v1/videos", headers=api.auth()).status_code == 200  # reads still work


def test_limit_of_zero_means_no_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_requests_per_minute=0)
    for _ in range(30):
        assert api.client.get("/v1/videos", headers=api.auth()).status_code == 200


def test_bad_limit_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="-1"):
        RateLimiter(requests_per_minute=-1, creates_per_minute=1)
    with pytest.raises(ConfigurationError, match="nosuch"):
        RateLimiter(requests_per_minute=1, creates_per_minute=1, storage_uri="nosuch://x")
