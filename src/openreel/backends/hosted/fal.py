"""fal's queue API: text-to-video apps run through ``https://queue.fal.run``.

Source of truth: fal's own client, ``fal_client`` 1.0.3 (PyPI, 2026-09-21; the ``fal-ai/fal``
repository's ``projects/fal_client``; checked 2026-12-06): its queue calls (submit, status,
result, cancel), its ``Queued`` / ``InProgress`` / ``Completed`` statuses and its retry rule
(``_should_retry``). We keep our own httpx client rather than calling through it: fal_client
polls and retries on its own (up to 10 tries with its own sleeps) where the hosted loop must
own the pace, the cancel checks and the deadline, and it would be a required dependency of
every server. The tests compare our retry decision with fal_client's own on the same replies
and parse every status the fake answers with fal_client's parser. What an app's input takes
is that app's own schema on fal, which the client does not carry.

The wire format: ``POST {base}/{app_id}`` with the app's
own JSON input answers ``{request_id, status_url, response_url, cancel_url}``; the status URL
answers ``IN_QUEUE`` (with ``queue_position``), ``IN_PROGRESS`` (with ``logs``, no percentage)
or ``COMPLETED`` (which may carry ``error`` and ``error_type``); the response URL answers the
app's result JSON, for video apps ``{"video": {"url": ...}}``; ``PUT`` on the cancel URL asks
the queue to drop the request. Every call to fal carries ``Authorization: Key <key>``.

The video itself lives on fal's CDN, a third party as far as the key is concerned: it is
fetched with a separate client that sends no credentials, and its URL is never put in an
error message (such URLs may be signed). The URLs fal returns at submit are kept per request
and used for the later calls (an app id with a sub-path, such as
``fal-ai/wan/v2.2-a14b/text-to-video``, is polled under ``fal-ai/wan/requests/...``), but only
when they point at the queue host we submitted to, so a reply can never send our key elsewhere.

Errors: 401/403 are bad credentials. A reply is retried exactly when fal_client retries it:
408, 409 and 429 always; 502, 503 and 504 only when they come from fal's ingress (no
``x-fal-request-id`` header, an nginx page), never a 504 carrying
``X-Fal-Request-Timeout-Type`` (the request's own timeout ran out); timeouts, transport errors
and malformed JSON are transient too (``Retry-After`` honoured). A 422 whose ``detail`` is a
content-policy violation is a refusal; any other 4xx or 5xx (a 5xx from fal's own servers
included) is a failure carrying fal's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Unpack
from urllib.parse import urlsplit

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.hosted.http import ClientOptions, ProviderHttp
from openreel.domain import VideoRequest
from openreel.errors import BackendError

__all__ = ["MODELS", "POLL_INTERVAL_S", "FalClient", "build_fal"]

POLL_INTERVAL_S = 2.0
"""Pause between status polls (fal's client polls every 0.1 s; video apps take minutes)."""

_RETRY_CODES = frozenset({408, 409, 429})
"""Statuses fal_client always retries (its ``RETRY_CODES``)."""
_INGRESS_CODES = frozenset({502, 503, 504})
"""Statuses fal_client retries only from fal's ingress (its ``INGRESS_ERROR_CODES``)."""
TIMEOUT_TYPE_HEADER = "x-fal-request-timeout-type"
"""Set on a 504 when the request's own timeout ran out: fal_client never retries that."""
_POLICY = re.compile(
    r"content[ _-]?policy|nsfw|safety|moderat|inappropriate|not allowed content", re.IGNORECASE
)


# ----- the catalogue --------------------------------------------------------------------

MODELS: tuple[HostedModel, ...] = (
    HostedModel(
        "fal/ltx-video",
        "fal-ai/ltx-video",
        BackendCapabilities(
            max_seconds=5.0,
            min_side=512,
            max_side=768,
            fps_range=(24, 30),
            sizes=("768x512",),
            any_size=False,
            deterministic=False,
        ),
    ),
    HostedModel(
        "fal/wan-t2v",
        "fal-ai/wan/v2.2-a14b/text-to-video",
        BackendCapabilities(
            max_seconds=5.0,
            min_side=480,
            max_side=1280,
            fps_range=(16, 30),
            sizes=("1280x720", "720x1280", "832x480", "480x832"),
            any_size=False,
            deterministic=False,
        ),
    ),
)
"""Models served through fal. The limits are deliberately conservative, narrower than what
the apps accept, so that what we admit is what they make well:

- ``fal/ltx-video`` (``fal-ai/ltx-video``): the app takes only prompt, negative prompt, seed
  and sampler settings; it has no length or size input and returns one short 768x512 clip
  at 24 fps (about 5 s). So only 768x512 and at most 5 s are admitted; the hosted loop fits
  the clip to the requested rate (24-30 fps) and length.
- ``fal/wan-t2v`` (``fal-ai/wan/v2.2-a14b/text-to-video``): Wan 2.2 A14B renders at 16 fps,
  17-161 frames, 480p/580p/720p, 16:9 / 9:16 / 1:1. We ask for ``seconds x 16 + 1`` frames at
  16 fps (at most 81: 5 s, the length the model is trained for), 720p for 1280x720 and
  720x1280 and 480p for 832x480 and 480x832; the loop resamples to the requested 16-30 fps.
"""


def _ltx_input(request: VideoRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": request.prompt, "seed": request.seed}
    if request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    return body


def _wan_input(request: VideoRequest) -> dict[str, Any]:
    frames = min(161, max(17, round(request.seconds * 16) + 1))
    body: dict[str, Any] = {
        "prompt": request.prompt,
        "num_frames": frames,
        "frames_per_second": 16,
        "resolution": "720p" if max(request.width, request.height) >= 1280 else "480p",
        "aspect_ratio": "9:16" if request.height > request.width else "16:9",
        "seed": request.seed,
    }
    if request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    return body


_INPUTS: dict[str, Callable[[VideoRequest], dict[str, Any]]] = {
    "fal-ai/ltx-video": _ltx_input,
    "fal-ai/wan/v2.2-a14b/text-to-video": _wan_input,
}


def app_input(app_id: str, request: VideoRequest) -> dict[str, Any]:
    """The JSON input sent to ``app_id`` for ``request`` (prompt and seed for unknown apps)."""
    build = _INPUTS.get(app_id, _ltx_input)
    return build(request)


# ----- the client -----------------------------------------------------------------------


class FalClient(ProviderHttp):
    """HTTP client for fal's queue API (its arguments: :class:`ProviderHttp`); the key never
    leaves fal's queue host."""

    provider = "fal"
    default_base_url = "https://queue.fal.run"
    auth_scheme = "Key"

    def __init__(self, api_key: str, **options: Unpack[ClientOptions]) -> None:
        super().__init__(api_key, **options)
        self._host = urlsplit(self._base_url).netloc
        self._urls: dict[str, dict[str, str]] = {}

    def submit(self, model: str, request: VideoRequest) -> str:
        """Queues the app ``model`` with the request's input; returns fal's request id."""
        data = self._json(
            self._send("POST", f"{self._base_url}/{model}", json=app_input(model, request))
        )
        request_id = self._job_id(data, "request_id", "a submit without a request_id")
        root = f"{self._base_url}/{'/'.join(model.split('/')[:2])}/requests/{request_id}"
        self._urls[request_id] = {
            "status": self._own(data.get("status_url")) or f"{root}/status",
            "response": self._own(data.get("response_url")) or root,
            "cancel": self._own(data.get("cancel_url")) or f"{root}/cancel",
        }
        return request_id

    def status(self, job_id: str) -> RemoteJob:
        """Reads the request's state once; on completion, fetches and keeps its result."""
        data = self._get(self._url(job_id, "status"))
        status = data.get("status")
        if status == "IN_QUEUE":
            return RemoteJob("queued")
        if status == "IN_PROGRESS":
            return RemoteJob("running")
        if status != "COMPLETED":
            raise self._unknown("status", status)
        failed = _failure(data)
        if failed is not None:
            return failed
        result = self._get(self._url(job_id, "response"))
        failed = _failure(result)
        if failed is not None:
            return failed
        self._keep(job_id, result)
        return RemoteJob("succeeded", 100.0)

    def download(self, job_id: str, target: Path) -> None:
        """Fetches the result's ``video.url`` from fal's CDN, without our credentials."""
        result = self._kept(job_id, lambda: self._get(self._url(job_id, "response")))
        video = result.get("video") if isinstance(result, dict) else None
        url = video.get("url") if isinstance(video, dict) else None
        self._fetch(url, target, "result has no video URL")

    def cancel(self, job_id: str) -> None:
        """Asks the queue to drop the request (fal answers 400 for one already finished)."""
        self._send("PUT", self._url(job_id, "cancel"))

    # ----- fal's error replies and URLs ------------------------------------------------

    def _retries(self, response: httpx.Response) -> bool:
        """fal_client's ``_should_retry_response``, rule for rule."""
        status = response.status_code
        if status == 504 and response.headers.get(TIMEOUT_TYPE_HEADER):
            return False
        if status in _INGRESS_CODES and "x-fal-request-id" not in response.headers:
            return "nginx" in response.text  # fal_client's heuristic for its ingress
        return status in _RETRY_CODES

    def _error_message(self, body: object) -> str:
        detail = body.get("detail") if isinstance(body, dict) else None
        return _text(detail) or _text(body)

    def _refuses(self, status: int, body: object, message: str) -> bool:
        detail = body.get("detail") if isinstance(body, dict) else None
        types = (
            " ".join(str(d.get("type", "")) for d in detail if isinstance(d, dict))
            if isinstance(detail, list)
            else ""
        )
        return status == 422 and bool(_POLICY.search(f"{types} {message}"))

    def _own(self, url: object) -> str | None:
        """``url`` if it is on the queue host we submitted to, else None."""
        if isinstance(url, str) and urlsplit(url).netloc == self._host and url.startswith("http"):
            return url
        return None

    def _url(self, job_id: str, kind: str) -> str:
        urls = self._urls.get(job_id)
        if urls is None:  # submitted by another client: its URLs are not known here
            raise BackendError(f"fal request {job_id} is unknown to this client")
        return urls[kind]


def build_fal(
    api_key: str, *, transport: httpx.BaseTransport | None = None, **backend_kwargs: Any
) -> HostedBackend:
    """The fal backend serving :data:`MODELS`, polling every :data:`POLL_INTERVAL_S` unless
    ``backend_kwargs`` say otherwise (see :meth:`HostedBackend.for_provider`)."""
    client = FalClient(api_key, transport=transport)
    return HostedBackend.for_provider(client, MODELS, interval_s=POLL_INTERVAL_S, **backend_kwargs)


# ----- shared helpers (fal's error shapes) ----------------------------------------------


def _failure(data: dict[str, Any]) -> RemoteJob | None:
    """A failed or refused job when ``data`` (status or result) carries an error."""
    error = data.get("error")
    error_type = data.get("error_type")
    if not error and not error_type:
        return None
    message = _text(error) or str(error_type)
    refused = bool(_POLICY.search(f"{error_type or ''} {message}"))
    return RemoteJob("refused" if refused else "failed", None, message[:500])


def _text(value: object) -> str:
    """A readable message out of fal's error shapes (string, ``{"msg"}``, ``detail`` lists)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("message", "msg", "detail"):
            if key in value:
                return _text(value[key])
        return ""
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return "" if value is None else str(value)
