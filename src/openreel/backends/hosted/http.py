"""HTTP plumbing every hosted provider client shares.

Each provider decides which statuses mean what (its own ``raise_for``); what does not differ
lives here once: turning timeouts and connection failures into transient errors, reading a
JSON object or calling the reply malformed, honouring ``Retry-After`` in any of its forms,
and fetching a result from a provider's CDN with a client that carries no credentials, where
403, 404 and 410 mean the URL expired.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from openreel.backends.hosted.base import TransientProviderError
from openreel.domain import ImageInput
from openreel.errors import BackendError

__all__ = ["ProviderHttp", "data_uri", "fetch_cdn", "json_object", "retry_after", "send"]

_CHUNK = 1 << 20


def data_uri(image: ImageInput) -> str:
    """A reference image as a ``data:`` URI, the form most providers take inline."""
    return f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"


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
    except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError) as exc:
        raise TransientProviderError(f"{provider} unreachable: {type(exc).__name__}") from None
    except httpx.TimeoutException:
        raise TransientProviderError(f"{provider} did not answer in time", ambiguous=True) from None
    except httpx.TransportError as exc:
        raise TransientProviderError(
            f"{provider} connection failed: {type(exc).__name__}", ambiguous=True
        ) from None
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


class ProviderHttp:
    """The two HTTP clients every provider needs, and the calls made through them.

    ``_http`` carries our credentials and never follows a redirect (one must not carry the key
    to another host); ``_cdn`` carries none and fetches results from wherever the provider
    stores them. Subclasses name the ``provider`` and judge statuses in ``_raise_for``.
    """

    provider: ClassVar[str] = "provider"

    def __init__(
        self,
        *,
        headers: dict[str, str],
        timeout_s: float,
        transport: httpx.BaseTransport | None,
        base_url: str = "",
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
        )
        self._cdn = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=True)

    def close(self) -> None:
        """Closes the connection pools."""
        self._http.close()
        self._cdn.close()

    def _raise_for(self, response: httpx.Response) -> None:
        raise NotImplementedError

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return send(self._http, self.provider, method, url, self._raise_for, **kwargs)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, self.provider)

    def _fetch(self, url: object, target: Path, what: str) -> None:
        """Fetches a result ``url`` read from the provider's reply; ``what`` names where it
        should have been (``"result has no video URL"``) for the error when it is not one."""
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BackendError(f"{self.provider}'s {what}", code="backend_error")
        fetch_cdn(self._cdn, url, target, self.provider)
