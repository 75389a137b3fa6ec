"""HTTP plumbing every hosted provider client shares.

Each provider decides which statuses mean what (its own ``raise_for``); what does not differ
lives here once: turning timeouts and connection failures into transient errors, reading a
JSON object or calling the reply malformed, honouring ``Retry-After`` in any of its forms,
and fetching a result from a provider's CDN with a client that carries no credentials, where
403, 404 and 410 mean the URL expired.

Imports: backends.hosted.base, errors; httpx.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.hosted.base import TransientProviderError
from openreel.errors import BackendError

__all__ = ["fetch_cdn", "json_object", "retry_after", "send"]

_CHUNK = 1 << 20


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After-Ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    millis = response.headers.get("retry-after-ms", "").strip()
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        date = parsedate_to_datetime(response.headers.get("date", value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - date).total_seconds())


def send(
    client: httpx.Client,
    provider: str,
    method: str,
    url: str,
    raise_for: Callable[[httpx.Response], None],
    **kwargs: Any,
) -> httpx.Response:
    """One request; network trouble is transient, statuses are judged by ``raise_for``."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise TransientProviderError(f"{provider} did not answer in time") from None
    except httpx.TransportError as exc:
        raise TransientProviderError(f"{provider} unreachable: {type(exc).__name__}") from None
    raise_for(response)
    return response


def json_object(response: httpx.Response, provider: str) -> dict[str, Any]:
    """The reply's JSON object; anything else is a transient, malformed reply."""
    try:
        data = response.json()
    except ValueError:
        raise TransientProviderError(f"{provider} answered with malformed JSON") from None
    if not isinstance(data, dict):
        raise TransientProviderError(f"{provider} answered with JSON that is not an object")
    return data


def fetch_cdn(cdn: httpx.Client, url: str, target: Path, provider: str) -> None:
    """Streams a result ``url`` to ``target`` with ``cdn``, a client with no credentials.

    Raises:
        BackendError: The URL expired (403, 404, 410) or the CDN refused the download.
        TransientProviderError: 429, 5xx, a timeout or a connection failure.
    """
    try:
        with cdn.stream("GET", url) as response:
            status = response.status_code
            if status in (403, 404, 410):
                raise BackendError(
                    f"{provider}'s result URL expired before it was fetched (HTTP {status})",
                    code="backend_error",
                )
            if status in (408, 429) or status >= 500:
                raise TransientProviderError(
                    f"{provider}'s CDN answered HTTP {status}",
                    retry_after_s=retry_after(response),
                )
            if status >= 400:
                raise BackendError(
                    f"{provider}'s CDN refused the download (HTTP {status})", code="backend_error"
                )
            with target.open("wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
    except httpx.TimeoutException:
        raise TransientProviderError(f"{provider}'s CDN did not answer in time") from None
    except httpx.TransportError as exc:
        raise TransientProviderError(
            f"{provider}'s CDN unreachable: {type(exc).__name__}"
        ) from None
