"""Rate limits shared through a real Redis: two processes' limiters count together.

The fixture starts ``redis-server`` (from Debian; ``make test`` installs it) on a free port
with persistence off, and stops it afterwards. A missing ``redis-server`` fails the test
loudly rather than skipping it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openreel.errors import RateLimitError
from openreel.services.ratelimit import RateLimiter


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `make servers` (Debian's redis-server)"
    port = _free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert proc.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
