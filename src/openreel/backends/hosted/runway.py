"""Runway's developer API: text-to-video tasks at ``https://api.dev.runwayml.com``.

The wire format (from Runway's documentation): ``POST /v1/text_to_video`` with a
camelCase JSON body (``model``, ``promptText``, ``ratio`` such as ``"1280:720"``, ``duration``
in whole seconds, and for the Veo models ``seed``, ``negativePrompt`` and ``audio``) answers
``{id}``; ``GET /v1/tasks/{id}`` answers the task, whose ``status`` is ``PENDING``,
``THROTTLED`` (queued behind our concurrency limit), ``RUNNING`` (with ``progress`` as a float
0-1), ``SUCCEEDED`` (with ``output``, a list of URLs that expire within a day or two),
``FAILED`` (with ``failure`` for people and ``failureCode``) or ``CANCELLED``;
``DELETE /v1/tasks/{id}`` cancels a task. Every call to the API carries
``Authorization: Bearer <key>`` and ``X-Runway-Version: 2024-11-06``. Runway's SDK polls every
6 s, so each poll asks the loop to wait that long.

A ``FAILED`` task whose ``failureCode`` starts with ``SAFETY.`` (``SAFETY.INPUT.TEXT``,
``SAFETY.OUTPUT.*``) is a content refusal, kept with Runway's text; any other failure is a
failure. The output lives on Runway's CDN, a third party as far as the key is concerned: it is
fetched with a separate client that sends no credentials, and its URL (signed, short-lived) is
never put in an error message. A 403, 404 or 410 there means the URL expired.

Errors: 401/403 are bad credentials; 408, 429 and every 5xx, timeouts, transport errors and
malformed JSON are transient (``Retry-After`` / ``Retry-After-Ms`` honoured); other 4xx
(Runway documents 400, 404 and 405 as not retryable) are failures carrying Runway's message.
As with the other providers, a create that failed transiently is retried, which can in rare
cases start (and bill) a second task; a 429 (the common case) is always safe.

Each model takes only certain lengths (gen4.5: 2-10 whole seconds; Veo: 4, 6 or 8; Kling: 5
or 10), which :class:`BackendCapabilities` cannot say, so :class:`RunwayBackend` adds that
check to admission.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob, RemoteState
from openreel.backends.hosted.http import ProviderHttp, data_uri
from openreel.domain import VideoRequest
from openreel.errors import BackendError, InvalidRequestError

__all__ = [
    "API_VERSION",
    "DURATIONS",
    "MODELS",
    "POLL_INTERVAL_S",
    "RunwayBackend",
    "RunwayClient",
    "build_runway",
]

API_VERSION = "2024-11-06"
"""The ``X-Runway-Version`` every call sends (Runway requires it; the SDK's default)."""

POLL_INTERVAL_S = 6.0
"""Pause between status polls, as Runway's SDK does."""

PROMPT_LIMIT = 1000
"""Longest ``promptText`` Runway takes, in UTF-16 code units."""

_STATES: Mapping[str, RemoteState] = {
    "PENDING": "queued",
    "THROTTLED": "queued",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "CANCELLED": "cancelled",
}


# ----- the catalogue --------------------------------------------------------------------

_LANDSCAPE_PORTRAIT = ("1280x720", "720x1280")
_VEO_SIZES = ("1280x720", "720x1280", "1080x1920", "1920x1080")
_IMAGE_SIZES = ("1280x720", "720x1280", "1104x832", "832x1104", "960x960", "1584x672")


def _caps(max_seconds: float, sizes: tuple[str, ...]) -> BackendCapabilities:
    sides = [int(side) for size in sizes for side in size.split("x")]
    return BackendCapabilities(
        max_seconds=max_seconds,
        min_side=min(sides),
        max_side=max(sides),
        fps_range=(12, 30),
        sizes=sizes,
        any_size=False,
        image_input=True,
        audio=False,
        deterministic=False,
    )


MODELS: tuple[HostedModel, ...] = (
    HostedModel("runway/gen4.5", "gen4.5", _caps(10, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/veo3.1", "veo3.1", _caps(8, _VEO_SIZES)),
    HostedModel("runway/veo3.1_fast", "veo3.1_fast", _caps(8, _VEO_SIZES)),
    HostedModel("runway/kling2.5_turbo_pro", "kling2.5_turbo_pro", _caps(10, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/seedance2", "seedance2", _caps(15, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/wan3", "wan3", _caps(10, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/gen4_turbo", "gen4_turbo", _caps(10, _IMAGE_SIZES)),
)
"""Models served through Runway's ``text_to_video``, with their real limits:

- ``runway/gen4.5``: 2-10 whole seconds; ratio 1280:720 or 720:1280 only.
- ``runway/veo3.1`` and ``runway/veo3.1_fast``: 4, 6 or 8 seconds; 1280:720, 720:1280,
  1080:1920 or 1920:1080. They take a seed and a negative prompt; audio is turned off (we
  keep no soundtrack, and it doubles the price).
- ``runway/kling2.5_turbo_pro``: 5 or 10 seconds. Runway documents no ratios for it, so only
  the two 720p ones are admitted.
- ``runway/seedance2`` (ByteDance Seedance 2): 4-15 whole seconds (Runway: "up to 15 s";
  ByteDance: 4 to 15); only the two 720p ratios, the ones every Runway model takes, until
  Runway documents its others.
- ``runway/wan3`` (Alibaba Wan 3): 5 or 10 seconds in the two 720p ratios, a conservative
  subset of what Wan 3 makes elsewhere (2 to 30 s, five ratios) until Runway documents its own.
- ``runway/gen4_turbo``: image-to-video only (an ``input_reference`` is required); 5 or 10
  seconds; the image-to-video ratios 1280:720, 720:1280, 1104:832, 832:1104, 960:960 and
  1584:672.

Not offered yet: the other Kling, Seedance and Wan variants on Runway, whose lengths and
ratios are not documented where we could check them; each is one line here once they are.

Runway renders at 24 fps; the hosted loop resamples to the requested 12-30 fps.
"""

DURATIONS: Mapping[str, tuple[int, ...]] = {
    "runway/gen4.5": tuple(range(2, 11)),
    "runway/veo3.1": (4, 6, 8),
    "runway/veo3.1_fast": (4, 6, 8),
    "runway/kling2.5_turbo_pro": (5, 10),
    "runway/seedance2": tuple(range(4, 16)),
    "runway/wan3": (5, 10),
    "runway/gen4_turbo": (5, 10),
}
"""The whole-second lengths each model accepts (by our model id)."""

_SEEDED = frozenset({"veo3.1", "veo3.1_fast"})
"""Remote models that document a ``seed`` (and ``negativePrompt`` and ``audio``)."""

_IMAGE_ONLY = frozenset({"gen4_turbo"})
"""Remote models that make video only from an image (``image_to_video``)."""

_PROMPT_LIMITED = frozenset({"gen4.5", "veo3.1", "veo3.1_fast"})
"""Remote models documented to take at most :data:`PROMPT_LIMIT` UTF-16 units of prompt."""


def ratio(size: str) -> str:
    """Runway's ratio for our size: ``"1280x720"`` -> ``"1280:720"``."""
    return size.replace("x", ":", 1)


IMAGE_LIMIT = 5 * 1024 * 1024
"""Largest ``promptImage`` data URI Runway takes, in bytes."""


def endpoint(request: VideoRequest) -> str:
    """``/v1/image_to_video`` when the request has a reference image, else text-to-video."""
    return "/v1/image_to_video" if request.input_reference is not None else "/v1/text_to_video"


def task_body(model: str, request: VideoRequest) -> dict[str, Any]:
    """The JSON body :func:`endpoint` gets for ``request`` on remote ``model``; a reference
    image goes as ``promptImage``, a data URI, and becomes the first frame."""
    body: dict[str, Any] = {
        "model": model,
        "promptText": request.prompt,
        "ratio": ratio(request.size),
        "duration": int(request.seconds),
    }
    if request.input_reference is not None:
        body["promptImage"] = data_uri(request.input_reference)
    if model in _SEEDED:
        if request.seed is not None:
            body["seed"] = request.seed % (1 << 32)  # Runway takes 0 to 4294967295
        if request.negative_prompt:
            body["negativePrompt"] = request.negative_prompt
        body["audio"] = False
    return body


class RunwayBackend(HostedBackend):
    """The hosted loop, with admission checking each model's allowed lengths too."""

    def check_exact(self, request: VideoRequest) -> None:
        """Checks the model's limits, then its lengths and prompt length.

        Raises:
            InvalidRequestError: Naming ``seconds``, ``size``, ``fps`` or ``prompt``.
        """
        super().check_exact(request)
        allowed = DURATIONS.get(request.model)
        if allowed is not None and request.seconds not in allowed:
            if allowed == tuple(range(allowed[0], allowed[-1] + 1)) and len(allowed) > 3:
                rule = f"must be a whole number from {allowed[0]} to {allowed[-1]}"
            else:
                rule = f"must be one of {', '.join(str(s) for s in allowed)}"
            raise InvalidRequestError.for_value(
                "seconds", request.seconds, f"{rule} for model {request.model}"
            )
        if request.input_reference is None and self._model(request.model).remote in _IMAGE_ONLY:
            raise InvalidRequestError(
                f"input_reference is required by model {request.model}: it makes video from an "
                "image (send one, or choose a text-to-video model)",
                param="input_reference",
            )
        if request.input_reference is not None:
            # The data URI's length, without base64-encoding megabytes on every check.
            image = request.input_reference
            size = len(f"data:{image.media_type};base64,") + 4 * ((len(image.data) + 2) // 3)
            if size > IMAGE_LIMIT:
                raise InvalidRequestError(
                    f"input_reference must be at most {IMAGE_LIMIT // 2**20} MB as a data URI "
                    f"for model {request.model}; got {size / 2**20:.1f} MB",
                    param="input_reference",
                )
        remote = self._model(request.model).remote
        units = len(request.prompt.encode("utf-16-le")) // 2
        if remote in _PROMPT_LIMITED and units > PROMPT_LIMIT:
            raise InvalidRequestError(
                f"prompt must be at most {PROMPT_LIMIT} UTF-16 code units for model "
                f"{request.model}; got {units}",
                param="prompt",
            )


# ----- the client -----------------------------------------------------------------------


class RunwayClient(ProviderHttp):
    """HTTP client for Runway's developer API (its arguments: :class:`ProviderHttp`); every
    call also names the API version."""

    provider = "runway"
    default_base_url = "https://api.dev.runwayml.com"
    extra_headers: ClassVar[Mapping[str, str]] = {"X-Runway-Version": API_VERSION}

    def submit(self, model: str, request: VideoRequest) -> str:
        """Starts a text- or image-to-video task on remote ``model``; returns the task id."""
        return self._create(endpoint(request), task_body(model, request))

    def status(self, job_id: str) -> RemoteJob:
        """Reads the task's state once."""
        data = self._get(f"/v1/tasks/{job_id}")
        status = data.get("status")
        if status == "FAILED":
            code = str(data.get("failureCode") or "")
            message = str(data.get("failure") or code or "the task failed")[:500]
            refused = code.upper().startswith("SAFETY.")
            return RemoteJob("refused" if refused else "failed", None, message)
        if not isinstance(status, str) or status not in _STATES:
            raise self._unknown("status", status)
        progress: float | None = None
        if status == "RUNNING":
            raw = data.get("progress")
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                progress = max(0.0, min(float(raw), 1.0)) * 100.0
        elif status == "SUCCEEDED":
            progress = 100.0
        return RemoteJob(_STATES[status], progress, None, POLL_INTERVAL_S)

    def download(self, job_id: str, target: Path) -> None:
        """Fetches the task's first output from Runway's CDN, without our credentials."""
        data = self._get(f"/v1/tasks/{job_id}")
        if data.get("status") != "SUCCEEDED":
            raise BackendError(
                f"runway task {job_id} has no video (status {str(data.get('status'))[:40]!r})",
                code="backend_error",
            )
        output = data.get("output")
        url = output[0] if isinstance(output, list) and output else None
        self._fetch(url, target, "task has no output URL")

    def cancel(self, job_id: str) -> None:
        """Cancels the task (``DELETE``); one Runway no longer knows is left alone."""
        try:
            self._send("DELETE", f"/v1/tasks/{job_id}")
        except BackendError as exc:
            if "HTTP 404" not in exc.message:
                raise

    # ----- Runway's error replies ------------------------------------------------------

    def _error_message(self, body: object) -> str:
        """Runway's error text: ``{"error": "..."}``, perhaps with ``issues``, or nested."""
        if isinstance(body, str):
            return body
        if not isinstance(body, dict):
            return ""
        parts: list[str] = []
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("error")
        if isinstance(error, str) and error:
            parts.append(error)
        elif isinstance(body.get("message"), str):
            parts.append(body["message"])
        issues = body.get("issues")
        if isinstance(issues, list):
            for issue in issues[:5]:
                if isinstance(issue, dict) and isinstance(issue.get("message"), str):
                    path = issue.get("path")
                    where = ".".join(str(p) for p in path) if isinstance(path, list) else ""
                    parts.append(f"{where}: {issue['message']}" if where else issue["message"])
        return "; ".join(parts)


def build_runway(
    api_key: str,
    *,
    transport: httpx.BaseTransport | None = None,
    base_url: str = RunwayClient.default_base_url,
    **backend_kwargs: Any,
) -> HostedBackend:
    """The Runway backend serving :data:`MODELS` (a :class:`RunwayBackend`) from the API root
    ``base_url``, polling every :data:`POLL_INTERVAL_S` unless ``backend_kwargs`` say
    otherwise (see :meth:`HostedBackend.for_provider`)."""
    client = RunwayClient(api_key, base_url=base_url, transport=transport)
    return RunwayBackend.for_provider(client, MODELS, interval_s=POLL_INTERVAL_S, **backend_kwargs)
