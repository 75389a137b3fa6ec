"""The in-process moving windows behind ``memory://`` rate limits."""

from __future__ import annotations

import threading
import time

import pytest

from openreel.errors import RateLimitError
from openreel.trust.ratelimit import RateLimiter, _LocalWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_admits_up_to_the_amount_then_says_when_a_slot_frees() -> None:
    clock = Clock()
    windows = _LocalWindows(60.0, clock)
    assert windows.hit(("request", "t"), 3) is None
    clock.now += 10
    assert windows.hit(("request", "t"), 3) is None
    assert windows.hit(("request", "t"), 3) is None
    assert windows.hit(("request", "t"), 3) == pytest.approx(50.0)  # the first hit leaves at 60
    clock.now += 50
    assert windows.hit(("request", "t"), 3) is None  # a moving window: one slot came back
    assert windows.hit(("request", "t"), 3) == pytest.approx(10.0)


def test_window_counts_each_key_apart() -> None:
    windows = _LocalWindows(60.0, Clock())
    assert windows.hit(("request", "a"), 1) is None
    assert windows.hit(("request", "a"), 1) is not None
    assert windows.hit(("request", "b"), 1) is None
    assert windows.hit(("create", "a"), 1) is None


def test_window_forgets_quiet_keys() -> None:
    clock = Clock()
    windows = _LocalWindows(60.0, clock)
    for token in ("a", "b", "c"):
        windows.hit(("request", token), 5)
    clock.now += 61
    windows.hit(("request", "d"), 5)
    assert list(windows._hits) == [("request", "d")]


def test_memory_limiter_starts_no_thread_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter(requests_per_minute=1000, creates_per_minute=0)
    assert limiter.local
    started: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", started.append)
    for _ in range(50):
        limiter.hit("token", "request")
        time.sleep(0.001)
    assert started == []  # the event loop counts every request; it must never wait on one


def test_memory_limiter_refuses_with_retry_after() -> None:
    limiter = RateLimiter(requests_per_minute=2, creates_per_minute=0)
    limiter.hit("token", "request")
    limiter.hit("token", "request")
    limiter.hit("token", "create")  # no creation limit: never counted
    with pytest.raises(RateLimitError) as refused:
        limiter.hit("token", "request")
    assert refused.value.retry_after is not None
    assert 1 <= refused.value.retry_after <= 60
