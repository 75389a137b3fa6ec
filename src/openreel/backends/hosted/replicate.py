"""Replicate's predictions API: official models by ``owner/name``, community models by version.

Source of truth: Replicate's own SDK, ``replicate`` 2.0.0b4 (PyPI, 2025-12-18; checked
2026-12-06), the first generated from Replicate's OpenAPI spec: its ``PredictionCreateParams``
(``POST /v1/predictions`` with ``version``) and ``models.PredictionCreateParams`` (``POST
/v1/models/{owner}/{name}/predictions``, official models only) and its ``Prediction``. We keep
our own httpx client rather than calling through the SDK: the SDK's 2.x line is still a beta,
its calls are thin, and the hosted loop already owns polling, retries, cancel checks and the
CDN download; the tests check every create body against the SDK's typed dicts and every status
against its ``Prediction`` (tests/backends/hosted/test_replicate.py). What each model's
``input`` takes is that model's own schema on Replicate, which no SDK carries.

The wire format: an official model is created with ``POST /v1/models/{owner}/{name}/predictions``
and ``{"input": {...}}``; any other model needs its version, ``POST /v1/predictions`` with
``{"version": "<64 hex>", "input": {...}}`` (the SDK: "for all other models, the specific
version is required"). Both answer a prediction with its ``id``; ``GET /v1/predictions/{id}``
answers ``status`` (the SDK's ``starting``, ``processing``, ``succeeded``, ``failed``,
``canceled``, and ``aborted``, which Replicate's prediction-lifecycle docs add for a prediction
whose deadline passed before it started and replicate-python's PR #460 adds to the type), the
model's ``logs``, an ``error`` string and, once succeeded, ``output`` (a URL or a list of URLs);
``POST /v1/predictions/{id}/cancel`` stops it. Every call carries ``Authorization: Bearer``.

Progress: Replicate reports no percentage, but most video models print a progress bar to
their logs; the last ``NN%`` in ``logs`` is used when there is one. A failed prediction whose
error mentions NSFW, safety or content policy is a refusal; any other is a failure; an aborted
or canceled one is a failure with Replicate's reason.

The output lives on Replicate's delivery CDN, a third party as far as the token is concerned:
it is fetched with a separate client that sends no credentials.

Errors: 401/403 are bad credentials; retried as the SDK retries (its Stainless client:
``x-should-retry`` when sent, else 408, 409, 429 and every 5xx), with timeouts, transport
errors and malformed JSON (``Retry-After`` honoured). A create whose answer may have reached
Replicate (a timeout after sending) is not sent again (the hosted loop's rule), so a second
prediction is never started and billed. A 422 whose detail is a content-policy violation is a
refusal; other 4xx are failures with the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.hosted.http import ProviderHttp, stainless_retries
from openreel.domain import VideoRequest

__all__ = ["LTX_VERSION", "MODELS", "POLL_INTERVAL_S", "ReplicateClient", "build_replicate"]

POLL_INTERVAL_S = 2.0
"""Pause between polls (the SDK polls every 0.5 s; video models take minutes)."""

_POLICY = re.compile(r"nsfw|safety|content[ _-]?policy|moderat|flagged", re.IGNORECASE)
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_LTX_LENGTHS = (97, 129, 161, 193, 225, 257)  # frames the Replicate LTX model accepts

LTX_VERSION = "8c47da666861d081eeb4d1261853087de23923a268a69b63febdf5dc1dee08e4"
"""The version of the community model ``lightricks/ltx-video`` we run. Replicate's own
material for it (the model's versions page, ``GET /v1/models/lightricks/ltx-video/versions``)
was not reachable from where this was written; the id is the one public projects pin with
the same inputs we send (``length``, ``target_size``, ``aspect_ratio``), so it is the missing
source: an operator should confirm it against that listing."""


# ----- the catalogue --------------------------------------------------------------------

MODELS: tuple[HostedModel, ...] = (
    HostedModel(
        "replicate/wan-2.2-t2v-fast",
        "wan-video/wan-2.2-t2v-fast",
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
    HostedModel(
        "replicate/ltx-video",
        f"lightricks/ltx-video:{LTX_VERSION}",
        BackendCapabilities(
            max_seconds=10.0,
            min_side=512,
            max_side=768,
            fps_range=(24, 30),
            sizes=("768x512", "512x768"),
            any_size=False,
            deterministic=False,
        ),
    ),
)
"""Models served through Replicate, with deliberately conservative limits:

- ``replicate/wan-2.2-t2v-fast`` (``wan-video/wan-2.2-t2v-fast``): 81-121 frames at 16 fps,
  480p or 720p, 16:9 or 9:16. We send ``num_frames`` = ``seconds x 16 + 1`` clamped to 81-121
  (so at most 5 s; shorter requests are cut from the 81-frame minimum), 16 fps, ``720p`` for
  1280x720 / 720x1280 and ``480p`` for 832x480 / 480x832, and the aspect ratio.
- ``replicate/ltx-video`` (``lightricks/ltx-video``, a community model: created by its
  version, :data:`LTX_VERSION`): 24 fps, ``length`` one of 97...257
  frames, ``target_size`` for the long side and an ``aspect_ratio``. We send the shortest
  length covering ``seconds x 24 + 1`` frames (10 s needs 257), ``target_size`` 768 and
  ``3:2`` or ``2:3``.

Both get the prompt, the negative prompt when there is one, and our seed; the hosted loop
resamples the result to the requested frame rate and length.
"""


def _wan_input(request: VideoRequest) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "num_frames": min(121, max(81, round(request.seconds * 16) + 1)),
        "frames_per_second": 16,
        "resolution": "720p" if max(request.width, request.height) >= 1280 else "480p",
        "aspect_ratio": "9:16" if request.height > request.width else "16:9",
        "seed": request.seed,
    }


def _ltx_input(request: VideoRequest) -> dict[str, Any]:
    needed = round(request.seconds * 24) + 1
    body: dict[str, Any] = {
        "prompt": request.prompt,
        "length": next((n for n in _LTX_LENGTHS if n >= needed), _LTX_LENGTHS[-1]),
        "target_size": 768,
        "aspect_ratio": "2:3" if request.height > request.width else "3:2",
        "seed": request.seed,
    }
    if request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    return body


_INPUTS: dict[str, Callable[[VideoRequest], dict[str, Any]]] = {
    "wan-video/wan-2.2-t2v-fast": _wan_input,
    "lightricks/ltx-video": _ltx_input,
}


def model_input(model: str, request: VideoRequest) -> dict[str, Any]:
    """The ``input`` sent to ``model`` (``owner/name``, perhaps with ``:version``) for
    ``request`` (prompt and seed for unknown models)."""
    build = _INPUTS.get(model.partition(":")[0])
    if build is None:
        return {"prompt": request.prompt, "seed": request.seed}
    return build(request)


# ----- the client -----------------------------------------------------------------------


class ReplicateClient(ProviderHttp):
    """HTTP client for Replicate's predictions API (its arguments: :class:`ProviderHttp`)."""

    provider = "replicate"
    default_base_url = "https://api.replicate.com"

    def submit(self, model: str, request: VideoRequest) -> str:
        """Creates a prediction of ``model``: an official model by ``owner/name`` on its own
        endpoint, a community model ``owner/name:version`` by its version on
        ``/v1/predictions``; returns the prediction's id."""
        name, _, version = model.partition(":")
        body: dict[str, Any] = {"input": model_input(name, request)}
        if version:
            return self._create("/v1/predictions", {"version": version, **body})
        return self._create(f"/v1/models/{name}/predictions", body)

    def status(self, job_id: str) -> RemoteJob:
        """Reads the prediction once; keeps its output when it has succeeded."""
        data = self._get(f"/v1/predictions/{job_id}")
        status = data.get("status")
        progress = _progress(data.get("logs"))
        if status == "starting":
            return RemoteJob("queued", progress)
        if status == "processing":
            return RemoteJob("running", progress)
        if status == "succeeded":
            self._keep(job_id, data.get("output"))
            return RemoteJob("succeeded", 100.0)
        if status == "canceled":
            return RemoteJob("cancelled", progress, "the prediction was cancelled at Replicate")
        if status == "aborted":  # terminal: its deadline passed before it could start
            reason = str(data.get("error") or "its deadline passed before it started")[:500]
            return RemoteJob(
                "failed", progress, f"the prediction was aborted at Replicate: {reason}"
            )
        if status == "failed":
            message = str(data.get("error") or "the prediction failed")[:500]
            refused = bool(_POLICY.search(message))
            return RemoteJob("refused" if refused else "failed", progress, message)
        raise self._unknown("status", status)

    def download(self, job_id: str, target: Path) -> None:
        """Fetches the output (the first URL of a list) without our credentials."""
        output = self._kept(job_id, lambda: self._get(f"/v1/predictions/{job_id}").get("output"))
        url = output[0] if isinstance(output, list) and output else output
        self._fetch(url, target, "prediction has no output URL")

    def cancel(self, job_id: str) -> None:
        """Cancels the prediction."""
        self._send("POST", f"/v1/predictions/{job_id}/cancel")

    # ----- Replicate's error replies ---------------------------------------------------

    def _retries(self, response: httpx.Response) -> bool:
        """As Replicate's SDK retries (its Stainless client: ``x-should-retry``, 408, 409,
        429, 5xx)."""
        return stainless_retries(response)

    def _error_message(self, body: object) -> str:
        if not isinstance(body, dict):  # problem+json: {"title", "detail", "status"}
            return ""
        detail = body.get("detail") or body.get("title") or body.get("error")
        return str(detail) if detail else ""

    def _refuses(self, status: int, body: object, message: str) -> bool:
        return status == 422 and bool(_POLICY.search(message))


def build_replicate(
    api_key: str, *, transport: httpx.BaseTransport | None = None, **backend_kwargs: Any
) -> HostedBackend:
    """The Replicate backend serving :data:`MODELS` with the API token ``api_key``, polling
    every :data:`POLL_INTERVAL_S` unless ``backend_kwargs`` say otherwise (see
    :meth:`HostedBackend.for_provider`)."""
    client = ReplicateClient(api_key, transport=transport)
    return HostedBackend.for_provider(client, MODELS, interval_s=POLL_INTERVAL_S, **backend_kwargs)


# ----- helpers --------------------------------------------------------------------------


def _progress(logs: object) -> float | None:
    """The last percentage printed in ``logs`` (0-100), or None when there is none."""
    if not isinstance(logs, str):
        return None
    found = _PERCENT.findall(logs[-4000:])
    if not found:
        return None
    return max(0.0, min(float(found[-1]), 100.0))
