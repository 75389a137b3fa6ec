"""A generic upstream that speaks ``/v1/videos``: another OpenReel, or any compatible gateway.

The wire format is OpenAI's video API (docs/api.md): ``POST /videos`` with model, prompt,
seconds (a string) and size; ``GET /videos/{id}`` with status
``queued | in_progress | completed | failed``, an integer ``progress`` and the poll interval in
``openai-poll-after-ms``; ``GET /videos/{id}/content`` for the MP4. An edit is passed through
as ``POST /videos/edits``, multipart with the source video as the ``video`` file (the form
OpenAI's SDK sends), since the upstream knows none of our ids. Polls are answered from
one shared ``GET /videos`` listing of the newest videos when the upstream has one (see
backends/hosted/listing.py), so hundreds of waiting jobs cost a few requests, not hundreds. A
content refusal arrives either at once (400 ``moderation_blocked``) or later as ``failed`` with
that code. Cancel is OpenReel's ``POST /videos/{id}/cancel``, falling back to ``DELETE`` for
gateways without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.hosted.base import ProviderRefusedError, RemoteJob, TransientProviderError
from openreel.backends.hosted.http import data_uri, json_object, raise_for_status, send
from openreel.backends.hosted.listing import ListingUnsupportedError, SharedListing
from openreel.domain import VideoRequest
from openreel.errors import BackendError

__all__ = ["UpstreamClient"]

_STATES = {"queued": "queued", "in_progress": "running", "completed": "succeeded"}


class UpstreamClient:
    """HTTP client for a ``/v1/videos`` upstream.

    Args:
        base_url: The API root, ending in ``/v1``.
        api_key: The upstream's bearer token (kept in this object only; never logged).
        timeout_s: Per-request timeout; a slower answer counts as a transient failure.
        transport: An httpx transport (tests pass a mock); the network by default.
        listing: A SharedListing answering polls (built over ``GET /videos`` by default).
        clock: Monotonic seconds for the default listing's freshness (tests pass the fake
            clock their backend loop runs on).
    """

    provider = "upstream"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        listing: SharedListing | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._listing = listing or SharedListing(self._list, clock=clock)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    def submit(self, model: str, request: VideoRequest) -> str:
        """Creates the video upstream (an edit through its ``/videos/edits``); returns its id."""
        if request.operation == "edit" and request.source is not None:
            return self._submit_edit(model, request, Path(request.source.path))
        body: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt,
            "seconds": f"{request.seconds:g}",
            "size": request.size,
        }
        if request.input_reference is not None:
            # The JSON form of the API's input_reference: a data URL, no multipart needed.
            body["input_reference"] = {"image_url": data_uri(request.input_reference)}
        data = self._json(self._send("POST", "/videos", json=body))
        video_id = data.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise TransientProviderError(f"upstream answered a create without an id: {data!r:.200}")
        return video_id

    def _submit_edit(self, model: str, request: VideoRequest, source: Path) -> str:
        media_type = "video/webm" if source.suffix == ".webm" else "video/mp4"
        with source.open("rb") as video:
            response = self._send(
                "POST",
                "/videos/edits",
                data={"prompt": request.prompt, "model": model},
                files={"video": (f"source{source.suffix}", video, media_type)},
            )
        data = self._json(response)
        video_id = data.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise TransientProviderError(f"upstream answered an edit without an id: {data!r:.200}")
        return video_id

    def status(self, job_id: str) -> RemoteJob:
        """The video's state: from the shared listing when it is there, else asked alone."""
        listed = self._listing.get(job_id)
        if listed is not None:
            return listed
        response = self._send("GET", f"/videos/{job_id}")
        after = response.headers.get("openai-poll-after-ms")
        poll_after = float(after) / 1000.0 if after and after.isdigit() else None
        return _remote(self._json(response), poll_after)

    def _list(self, wanted: frozenset[str], max_pages: int) -> dict[str, RemoteJob]:
        """The newest videos, page by page until ``wanted`` are all seen (SharedListing's fetch)."""
        found: dict[str, RemoteJob] = {}
        params: dict[str, str | int] = {"limit": 100}
        for _ in range(max_pages):
            response = self._send("GET", "/videos", params=params, listing=True)
            if response.status_code in (404, 405):
                raise ListingUnsupportedError(
                    f"upstream has no listing (HTTP {response.status_code})"
                )
            data = self._json(response)
            items = data.get("data")
            if not isinstance(items, list):
                raise ListingUnsupportedError("upstream's GET /videos is not a list")
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    try:
                        found[item["id"]] = _remote(item, None)
                    except TransientProviderError:
                        continue  # asked alone, it gets the usual retries
            if wanted <= found.keys() or not data.get("has_more") or not items:
                break
            last = items[-1]
            if not isinstance(last, dict) or not isinstance(last.get("id"), str):
                break
            params["after"] = last["id"]
        return found

    def download(self, job_id: str, target: Path) -> None:
        """Streams the finished MP4 to ``target``."""
        try:
            with self._http.stream(
                "GET", f"/videos/{job_id}/content", params={"variant": "video"}
            ) as response:
                if response.status_code in (404, 410):
                    raise BackendError(
                        f"the upstream video {job_id} is gone (HTTP {response.status_code}); "
                        "its download expired before it was fetched",
                        code="backend_error",
                    )
                self._raise_for(response)
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise TransientProviderError(f"download failed: {type(exc).__name__}") from None

    def cancel(self, job_id: str) -> None:
        """Cancels upstream (OpenReel's cancel route, else DELETE)."""
        response = self._send("POST", f"/videos/{job_id}/cancel")
        if response.status_code in (404, 405):
            self._send("DELETE", f"/videos/{job_id}")

    # ----- plumbing --------------------------------------------------------------------

    def _send(
        self, method: str, url: str, *, listing: bool = False, **kwargs: Any
    ) -> httpx.Response:
        cancelling = method == "POST" and url.endswith("/cancel")
        return send(
            self._http,
            "upstream",
            method,
            url,
            self._missing_route_ok if cancelling or listing else self._raise_for,
            **kwargs,
        )

    @classmethod
    def _missing_route_ok(cls, response: httpx.Response) -> None:
        if response.status_code not in (404, 405):  # no such route: the caller falls back
            cls._raise_for(response)

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        raise_for_status(response, "upstream", _rejection)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        return json_object(response, "upstream")


def _remote(data: dict[str, Any], poll_after: float | None) -> RemoteJob:
    """A video object (from a retrieve or a listing) as a RemoteJob."""
    status = data.get("status")
    progress = data.get("progress")
    progress = float(progress) if isinstance(progress, int | float) else None
    if status in _STATES:
        return RemoteJob(_STATES[status], progress, None, poll_after)  # type: ignore[arg-type]
    if status == "failed":
        error = data.get("error") or {}
        message = str(error.get("message") or "failed") if isinstance(error, dict) else None
        refused = isinstance(error, dict) and error.get("code") == "moderation_blocked"
        return RemoteJob("refused" if refused else "failed", progress, message, poll_after)
    raise TransientProviderError(f"upstream reported an unknown status {status!r}")


def _rejection(response: httpx.Response) -> Exception:
    """An error reply in OpenAI's shape, ``{"error": {"code", "message"}}``, as a refusal
    (``moderation_blocked``) or a failure with the upstream's message."""
    try:
        response.read()
        error = response.json().get("error") or {}
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        error = {}
    message = (
        str(error.get("message") or f"HTTP {response.status_code}")
        if isinstance(error, dict)
        else ""
    )
    if isinstance(error, dict) and error.get("code") == "moderation_blocked":
        return ProviderRefusedError(message)
    return BackendError(f"upstream rejected the request: {message}", code="backend_error")
