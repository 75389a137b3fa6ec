"""HTTP plumbing every hosted provider client shares.

A provider module says only what is its own: its URLs, which statuses it retries, where its
error replies keep their message and which of them are content refusals. What does not differ
lives here once: the key in one client that never follows a redirect and a second client with
no credentials for the CDN, the status ladder (bad credentials, retryable, rejected), turning
timeouts and connection failures into transient errors, reading a JSON object or calling the
reply malformed, honouring ``Retry-After`` in any of its forms, and fetching a result from a
provider's CDN, where 403, 404 and 410 mean the URL expired.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import httpx

from openreel.backends.hosted.base import (
    ProviderAuthError,
    ProviderRefusedError,
    TransientProviderError,
)
from openreel.domain import ImageInput
from openreel.errors import BackendError

__all__ = [
    "ClientOptions",
    "ProviderHttp",
    "data_uri",
    "fetch_cdn",
    "json_object",
    "raise_for_status",
    "rejected",
    "retry_after",
    "retryable_status",
    "send",
    "stainless_retries",
    "transient_network_errors",
]

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


def retryable_status(status: int) -> bool:
    """Whether an error status is worth retrying for most providers: 408, 429 and every 5xx."""
    return status in (408, 429) or status >= 500


def stainless_retries(response: httpx.Response) -> bool:
    """Whether the Stainless-generated SDKs (Runway's ``runwayml``, Luma's ``lumaai``,
    Replicate's 2.x ``replicate``, OpenAI's) retry an error reply: as the server's
    ``x-should-retry`` header says when it sends one, else 408, 409, 429 and every 5xx (their
    ``_base_client._should_retry``)."""
    should = response.headers.get("x-should-retry", "").strip().lower()
    if should == "true":
        return True
    if should == "false":
        return False
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def rejected(provider: str, status: int, message: str) -> BackendError:
    """The failure for a request the provider turned down for a reason other than content."""
    return BackendError(
        f"{provider} rejected the request (HTTP {status}): {message}", code="backend_error"
    )


def raise_for_status(
    response: httpx.Response,
    provider: str,
    rejection: Callable[[httpx.Response], Exception],
    *,
    transient: Callable[[int], bool] = retryable_status,
    retries: Callable[[httpx.Response], bool] | None = None,
) -> None:
    """The ladder every provider's statuses go down: below 400 passes; 401 and 403 are bad
    credentials; a ``transient`` status (or, when given, a reply ``retries`` accepts: a
    provider whose rule reads more than the status) is retried (``Retry-After`` kept); any
    other error is what ``rejection`` makes of the reply (a refusal or a failure, with the
    provider's words).
    """
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise ProviderAuthError(f"{provider} answered HTTP {status}")
    if retries(response) if retries is not None else transient(status):
        raise TransientProviderError(
            f"{provider} answered HTTP {status}", retry_after_s=retry_after(response)
        )
    raise rejection(response)


@contextmanager
def transient_network_errors(provider: str) -> Iterator[None]:
    """Turns httpx's network failures inside the block into transient provider errors; a
    timeout or broken connection after sending is ``ambiguous`` (the provider may have acted).
    """
    try:
        yield
    except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError) as exc:
        raise TransientProviderError(f"{provider} unreachable: {type(exc).__name__}") from None
    except httpx.TimeoutException:
        raise TransientProviderError(f"{provider} did not answer in time", ambiguous=True) from None
    except httpx.TransportError as exc:
        raise TransientProviderError(
            f"{provider} connection failed: {type(exc).__name__}", ambiguous=True
        ) from None


def send(
    client: httpx.Client,
    provider: str,
    method: str,
    url: str,
    raise_for: Callable[[httpx.Response], None],
    **kwargs: Any,
) -> httpx.Response:
    """One request; network trouble is transient, statuses are judged by ``raise_for``."""
    with transient_network_errors(provider):
        response = client.request(method, url, **kwargs)
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


class ClientOptions(TypedDict, total=False):
    """The keyword arguments every :class:`ProviderHttp` takes (see its docstring)."""

    base_url: str | None
    timeout_s: float
    transport: httpx.BaseTransport | None


class ProviderHttp:
    """The two HTTP clients every provider needs, and the calls made through them.

    ``_http`` carries our credentials and never follows a redirect (one must not carry the key
    to another host); ``_cdn`` carries none and fetches results from wherever the provider
    stores them. Subclasses name the ``provider``, its ``default_base_url`` and how the key is
    sent (``auth_scheme``, ``extra_headers``), and say what is their own in the status ladder
    (``_transient``, ``_error_message``, ``_refuses``).

    Args:
        api_key: The provider's key (kept in this object only; never logged, never sent to the
            CDN nor off the API host).
        base_url: The API root; the provider's ``default_base_url`` when None.
        timeout_s: Per-request timeout; a slower answer counts as a transient failure.
        transport: An httpx transport (tests pass a mock); the network by default.
    """

    provider: ClassVar[str] = "provider"
    default_base_url: ClassVar[str] = ""
    auth_scheme: ClassVar[str] = "Bearer"
    extra_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout_s: float = 60,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = (self.default_base_url if base_url is None else base_url).rstrip("/")
        self._http = httpx.Client(
            base_url=self._base_url,
            headers={"Authorization": f"{self.auth_scheme} {api_key}", **self.extra_headers},
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
        )
        self._cdn = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=True)
        # What the poll that saw a job succeed read for its download (see _keep and _kept).
        self._results: dict[str, object] = {}

    def close(self) -> None:
        """Closes the connection pools."""
        self._http.close()
        self._cdn.close()

    # ----- the status ladder (raise_for_status), with the provider's own rungs --------------

    def _raise_for(self, response: httpx.Response) -> None:
        raise_for_status(response, self.provider, self._rejection, retries=self._retries)

    def _retries(self, response: httpx.Response) -> bool:
        """Whether an error reply is retried: by its status alone (:meth:`_transient`) unless
        a provider's rule reads more of it (headers, body), as fal's and the Stainless SDKs' do.
        """
        return self._transient(response.status_code)

    def _transient(self, status: int) -> bool:
        """Whether an error status is retried (408, 429 and every 5xx unless overridden)."""
        return retryable_status(status)

    def _error_message(self, body: object) -> str:
        """The provider's words in an error reply's JSON ``body``; empty when it has none."""
        raise NotImplementedError

    def _refuses(self, status: int, body: object, message: str) -> bool:
        """Whether an error reply is a content refusal (never, unless overridden)."""
        return False

    def _rejection(self, response: httpx.Response) -> Exception:
        status = response.status_code
        try:
            body: object = response.json()
        except ValueError:
            body = None
        message = (self._error_message(body) or f"HTTP {status}")[:500]
        if self._refuses(status, body, message):
            return ProviderRefusedError(message)
        return rejected(self.provider, status, message)

    # ----- calls ---------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return send(self._http, self.provider, method, url, self._raise_for, **kwargs)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, self.provider)

    def _get(self, url: str) -> dict[str, Any]:
        """``GET url``'s JSON object."""
        return self._json(self._send("GET", url))

    def _create(self, url: str, body: dict[str, Any]) -> str:
        """``POST body`` to ``url``; the new job's ``id``."""
        return self._job_id(self._json(self._send("POST", url, json=body)))

    def _job_id(
        self, reply: dict[str, Any], key: str = "id", missing: str = "a create without an id"
    ) -> str:
        """The new job's id, ``reply[key]``; a reply without one is transient (``missing``
        says what came: ``"a submit without a request_id"``)."""
        job_id = reply.get(key)
        if not isinstance(job_id, str) or not job_id:
            raise TransientProviderError(f"{self.provider} answered {missing}")
        return job_id

    def _unknown(self, field: str, value: object) -> TransientProviderError:
        """The error for a job state the provider's ``field`` holds and we do not know."""
        return TransientProviderError(
            f"{self.provider} reported an unknown {field} {str(value)[:40]!r}"
        )

    # ----- results -------------------------------------------------------------------------

    def _keep(self, job_id: str, result: object) -> None:
        """Keeps what the poll that saw ``job_id`` succeed read for its download."""
        self._results[job_id] = result

    def _kept(self, job_id: str, read: Callable[[], object]) -> object:
        """What :meth:`_keep` kept for ``job_id``, else what ``read()`` reads (and is kept)."""
        if job_id not in self._results:
            self._results[job_id] = read()
        return self._results[job_id]

    def _fetch(self, url: object, target: Path, what: str) -> None:
        """Fetches a result ``url`` read from the provider's reply; ``what`` names where it
        should have been (``"result has no video URL"``) for the error when it is not one."""
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BackendError(f"{self.provider}'s {what}", code="backend_error")
        fetch_cdn(self._cdn, url, target, self.provider)
