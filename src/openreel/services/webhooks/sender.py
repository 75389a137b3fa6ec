"""One webhook attempt over HTTP: checked address, signed body, short timeout, no redirects.

The attempt connects to the address :class:`~.targets.TargetPolicy` checked at this very
attempt (TLS still verifies the certificate against the host's name, sent as SNI), follows no
redirect (a 3xx is a failed attempt like any non-2xx answer), keeps no connection for later
(each attempt resolves and checks afresh), and reads at most :data:`EXCERPT_CHARS` of the
answer: the receiver's body is kept only as a short excerpt for its owner to read.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

import httpx

from openreel.services.webhooks.targets import TargetPolicy, TargetRefused

__all__ = ["EXCERPT_CHARS", "Reply", "WebhookSender"]

EXCERPT_CHARS = 256
"""How much of a receiver's answer is kept."""

USER_AGENT = "OpenReel-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Reply:
    """What one attempt came to.

    Attributes:
        started_at: Unix seconds when it began.
        latency_ms: How long it took, DNS to answer.
        status_code: The receiver's HTTP status, or None when none came.
        error: Why it failed without an answer (refused address, timeout, connection).
        excerpt: The answer's first characters.
        retry_after: Seconds the receiver asked to wait (``Retry-After``), if it did.
    """

    started_at: float
    latency_ms: float
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver took it (any 2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class WebhookSender:
    """Sends attempts; safe to share between threads (one pooled client, no keep-alive).

    Args:
        policy: Which addresses may be called.
        timeout: Seconds each of connecting, sending and waiting for the answer may take.
    """

    def __init__(self, policy: TargetPolicy, *, timeout: float) -> None:
        self.policy = policy
        self.timeout = timeout
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # No connection outlives its attempt: each one is made to a freshly checked address.
            limits=httpx.Limits(max_keepalive_connections=0, max_connections=None),
            trust_env=False,  # no proxy from the environment: the check must see the target
            headers={"user-agent": USER_AGENT},
        )

    def close(self) -> None:
        """Closes the HTTP client."""
        self._client.close()

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        """Posts ``body`` with ``headers`` to ``url``; never raises for the receiver's sake."""
        started = time.time()
        clock = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - clock) * 1000, 3)

        try:
            target = self.policy.resolve(url)
        except TargetRefused as exc:
            return Reply(started, took(), error=f"refused: {exc.message}")
        extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
        request = self._client.build_request(
            "POST",
            target.connect_url,
            content=body,
            headers={
                **headers,
                "host": target.host_header,
                "content-type": "application/json",
            },
            extensions=extensions,
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            return Reply(started, took(), error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return Reply(started, took(), error=f"connection failed: {type(exc).__name__}")
        try:
            excerpt = _excerpt(response)
        except httpx.HTTPError:
            excerpt = None
        finally:
            response.close()
        return Reply(
            started,
            took(),
            status_code=response.status_code,
            excerpt=excerpt,
            retry_after=retry_after_seconds(response.headers.get("retry-after"), time.time()),
        )


def _excerpt(response: httpx.Response) -> str:
    """The first :data:`EXCERPT_CHARS` characters of the answer, reading no more than needed."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_CHARS * 4:
            break
    return kept.decode("utf-8", "replace")[:EXCERPT_CHARS]
