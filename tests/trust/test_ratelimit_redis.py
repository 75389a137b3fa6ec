"""Rate limits shared through a real Redis: two processes' limiters count together.

The session's ``redis_server`` (tests/support/redis_server.py) is Debian's ``redis-server`` on a free port
(``make test`` installs it); a missing binary fails the tests loudly rather than skipping them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from openreel.errors import RateLimitError
from openreel.trust.ratelimit import RateLimiter

if TYPE_CHECKING:
    from tests.support.redis_server import RedisServer


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


def test_two_limiters_on_one_redis_share_the_count(redis_url: str) -> None:
    first = RateLimiter(requests_per_minute=5, creates_per_minute=0, storage_uri=redis_url)
    second = RateLimiter(requests_per_minute=5, creates_per_minute=0, storage_uri=redis_url)
    assert not first.local
    for limiter in (first, second, first, second, first):
        limiter.hit("tok_shared", "request")
    with pytest.raises(RateLimitError) as info:
        second.hit("tok_shared", "request")
    assert info.value.retry_after >= 1
    second.hit("tok_other", "request")  # per token


def test_memory_limiters_do_not_share(redis_url: str) -> None:
    del redis_url
    first = RateLimiter(requests_per_minute=2, creates_per_minute=0)
    second = RateLimiter(requests_per_minute=2, creates_per_minute=0)
    assert first.local
    for limiter in (first, first, second, second):
        limiter.hit("tok", "request")
    with pytest.raises(RateLimitError):
        first.hit("tok", "request")
