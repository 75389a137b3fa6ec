"""Luma's Dream Machine API: the Ray 2 video models.

Source of truth: Luma's own SDK, ``lumaai`` 1.21.0 (PyPI, 2026-04-07; the
``lumalabs/lumaai-python`` repository; checked 2026-12-06): its ``GenerationCreateParams``
(``POST /generations/video``), its ``Generation`` (``state``: ``queued``, ``dreaming``,
``completed``, ``failed``) and its ``generations.delete``. We keep our own httpx client rather
than calling through the SDK: its calls are thin and the hosted loop already owns polling,
retries, cancel checks and the CDN download; the tests check every body against the SDK's
typed dict and every state against its ``Generation`` (tests/backends/hosted/test_luma.py).

The wire format: ``POST /generations/video`` with ``{"model", "prompt", "aspect_ratio",
"duration", "resolution"}`` answers a generation with its ``id``; ``GET /generations/{id}``
answers ``state``, a ``failure_reason`` when it failed and, once completed, ``assets.video``
(a URL). Every call carries ``Authorization: Bearer <key>``.

Cancel: Luma's API has none. The SDK's only call on a generation is ``DELETE
/generations/{id}``, documented as "Remove a specific generation by its ID"; neither the SDK,
its ``api.md`` nor its README says that removing a generation still dreaming stops it, or stops
its billing. That source is missing, so :meth:`LumaClient.cancel` takes the safe reading: it
removes the generation (so its result is not kept at Luma) and logs that Luma may still
render and bill it; it never claims the work stopped.

Progress: Luma reports no percentage, so ``dreaming`` is running with no progress. A failed
generation whose ``failure_reason`` mentions moderation, policy, safety or blocking is a
refusal; any other is a failure.

The video lives on Luma's CDN, a third party as far as the key is concerned: it is fetched
with a separate client that sends no credentials, and its URL is never put in an error.

Edits: Luma's own video-to-video is ``POST /generations/video/modify`` (the SDK's
``VideoModifyParams``: ``generation_type: "modify_video"``, ``model`` ray-2 or ray-flash-2,
``mode``, ``prompt``), whose video is ``media: {"url"}``, "the URL of the media", fetched by
Luma; neither the SDK nor its ``api.md`` offers an upload or an inline form, and a self-hosted
server has no address Luma can reach, so edits are refused at admission, saying why
(``edit_note``), rather than sent with a URL that cannot work.

Errors: 401/403 are bad credentials; retried as Luma's SDK retries (its Stainless client:
``x-should-retry`` when sent, else 408, 409, 429 and every 5xx), with timeouts, transport
errors and malformed JSON (``Retry-After`` honoured). A 400 about content moderation is a
refusal; other 4xx are failures with the message.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.hosted.http import ProviderHttp, stainless_retries
from openreel.domain import VideoRequest

__all__ = ["MODELS", "POLL_INTERVAL_S", "LumaClient", "build_luma", "generation_body"]

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 3.0
"""Pause between polls (Luma's SDK has no wait helper; generations take a minute or more)."""

_POLICY = re.compile(r"moderat|polic|safety|blocked", re.IGNORECASE)
_RATIOS = ((16, 9), (9, 16), (1, 1), (4, 3), (3, 4), (21, 9))
_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920", "960x540", "540x960")


# ----- the catalogue --------------------------------------------------------------------


def _caps() -> BackendCapabilities:
    return BackendCapabilities(
        max_seconds=9.0,
        min_side=540,
        max_side=1920,
        fps_range=(1, 60),
        sizes=_SIZES,
        any_size=False,
        deterministic=False,
        edit_note=(
            "Luma's modify takes the video only as a URL Luma fetches itself, which this "
            "self-hosted server has no public address to give"
        ),
    )


MODELS: tuple[HostedModel, ...] = (
    HostedModel("luma/ray-2", "ray-2", _caps()),
    HostedModel("luma/ray-flash-2", "ray-flash-2", _caps()),
)
"""Models served through Luma: ``luma/ray-2`` (``ray-2``) and ``luma/ray-flash-2``
(``ray-flash-2``), both at most 9 s, in 16:9 or 9:16 at 540p, 720p or 1080p.

We send ``duration`` ``5s`` for requests up to 5 s and ``9s`` above, the aspect ratio the
size equals, and the resolution of its shorter side; the hosted loop resamples the result to
the requested frame rate and length. Luma takes no seed and no negative prompt.
"""


def generation_body(model: str, request: VideoRequest) -> dict[str, Any]:
    """The JSON sent to ``POST /generations/video`` for ``request`` on ``model``."""
    return {
        "model": model,
        "prompt": request.prompt,
        "aspect_ratio": _aspect_ratio(request.width, request.height),
        "duration": "5s" if request.seconds <= 5 else "9s",
        "resolution": _resolution(min(request.width, request.height)),
    }


# ----- the client -----------------------------------------------------------------------


class LumaClient(ProviderHttp):
    """HTTP client for Luma's Dream Machine API (its arguments: :class:`ProviderHttp`)."""

    provider = "luma"
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"

    def submit(self, model: str, request: VideoRequest) -> str:
        """Creates a generation with ``model`` (``ray-2``...); returns its id."""
        return self._create("/generations/video", generation_body(model, request))

    def status(self, job_id: str) -> RemoteJob:
        """Reads the generation once; keeps its video URL when it has completed."""
        data = self._get(f"/generations/{job_id}")
        state = data.get("state")
        if state == "queued":
            return RemoteJob("queued")
        if state == "dreaming":
            return RemoteJob("running")
        if state == "completed":
            self._keep(job_id, _video_url(data))
            return RemoteJob("succeeded", 100.0)
        if state == "failed":
            message = str(data.get("failure_reason") or "the generation failed")[:500]
            refused = bool(_POLICY.search(message))
            return RemoteJob("refused" if refused else "failed", None, message)
        raise self._unknown("state", state)

    def download(self, job_id: str, target: Path) -> None:
        """Fetches ``assets.video`` without our credentials."""
        url = self._kept(job_id, lambda: _video_url(self._get(f"/generations/{job_id}")))
        self._fetch(url, target, "generation has no video URL")

    def cancel(self, job_id: str) -> None:
        """Removes the generation (``DELETE``), the most Luma offers; see the module docstring:
        nothing Luma publishes says this stops a running generation or its billing, so the log
        says it may go on being billed."""
        log.warning(
            "luma has no cancel: generation %s is removed, but Luma documents no way to stop "
            "one already dreaming, so it may still render and be billed",
            job_id,
        )
        self._send("DELETE", f"/generations/{job_id}")

    # ----- Luma's error replies --------------------------------------------------------

    def _retries(self, response: httpx.Response) -> bool:
        """As Luma's SDK retries (its Stainless client: ``x-should-retry``, 408, 409, 429,
        5xx)."""
        return stainless_retries(response)

    def _error_message(self, body: object) -> str:
        if not isinstance(body, dict):
            return ""
        detail = body.get("detail") or body.get("message") or body.get("error")
        if isinstance(detail, dict | list):
            detail = str(detail)
        return str(detail) if detail else ""

    def _refuses(self, status: int, body: object, message: str) -> bool:
        return status == 400 and bool(_POLICY.search(message))


def build_luma(
    api_key: str, *, transport: httpx.BaseTransport | None = None, **backend_kwargs: Any
) -> HostedBackend:
    """The Luma backend serving :data:`MODELS`, polling every :data:`POLL_INTERVAL_S` unless
    ``backend_kwargs`` say otherwise (see :meth:`HostedBackend.for_provider`)."""
    client = LumaClient(api_key, transport=transport)
    return HostedBackend.for_provider(client, MODELS, interval_s=POLL_INTERVAL_S, **backend_kwargs)


# ----- helpers --------------------------------------------------------------------------


def _aspect_ratio(width: int, height: int) -> str:
    """The allowed ratio ``width x height`` equals (the nearest one, should none be exact)."""
    a, b = min(_RATIOS, key=lambda r: abs(width * r[1] - height * r[0]) / (height * r[1]))
    return f"{a}:{b}"


def _resolution(short_side: int) -> str:
    if short_side <= 540:
        return "540p"
    if short_side <= 720:
        return "720p"
    if short_side <= 1080:
        return "1080p"
    return "4k"


def _video_url(data: dict[str, Any]) -> object:
    assets = data.get("assets")
    return assets.get("video") if isinstance(assets, dict) else None
