"""Runway's developer API: text- and image-to-video tasks at ``https://api.dev.runwayml.com``.

Source of truth: Runway's own SDK, ``runwayml`` 5.24.0 (PyPI, 2026-10-23; checked 2026-12-06):
its ``TextToVideoCreateParams`` / ``ImageToVideoCreateParams`` (one typed dict per model) and
``TaskRetrieveResponse``. We keep our own httpx client rather than calling through the SDK: the
SDK's calls are thin (one POST, one GET, one DELETE) while the hosted loop already owns polling,
retries, cancel checks and the CDN download, and the SDK would bring a second retry policy and a
required dependency to every server. Instead the tests check every body this module builds, for
every model and option, against the SDK's typed dicts, and every status it maps against the
SDK's response types (tests/backends/hosted/test_runway.py), so a wrong note cannot pass.

The wire format: ``POST /v1/text_to_video`` (or ``/v1/image_to_video`` with ``promptImage``)
with a camelCase body answers ``{id}``; ``GET /v1/tasks/{id}`` answers the task, whose
``status`` is ``PENDING``, ``THROTTLED`` (queued behind our concurrency limit), ``RUNNING``
(with ``progress`` 0-1), ``SUCCEEDED`` (``output``, URLs that expire within 24-48 hours),
``FAILED`` (``failure`` for people, ``failureCode``) or ``CANCELLED``; ``DELETE
/v1/tasks/{id}`` cancels a running task (or deletes a finished one). Every call carries
``Authorization: Bearer <key>`` and ``X-Runway-Version: 2024-11-06``. Runway's SDK polls
every 6 s, so each poll asks the loop to wait that long.

What each model takes (:data:`ACCEPTS`) is the SDK's schema, not a guess: ``seed`` goes to
every model whose schema has one (gen4.5, gen4_turbo, Veo, Seedance) and to no other;
``negativePrompt`` to Veo; ``audio`` wherever the schema has it (Veo, Seedance, Wan 3: the
models that make sound), as the request says (Runway bills audio, so it is asked for only
when kept); ``ratio`` only where the endpoint's schema has it
(Kling's image-to-video takes its ratio from the image; Wan 3's keyframe image-to-video must
say ``auto_720p``).

A ``FAILED`` task whose ``failureCode`` starts with ``SAFETY.`` is a content refusal, kept with
Runway's text; any other failure is a failure. The output lives on Runway's CDN, a third party
as far as the key is concerned: it is fetched with a separate client that sends no credentials.

Errors: 401/403 are bad credentials; retried exactly as Runway's SDK retries (its Stainless
client's rule: ``x-should-retry`` when the reply says, else 408, 409, 429 and every 5xx),
with timeouts, transport errors and malformed JSON (``Retry-After`` / ``Retry-After-Ms``
honoured); other 4xx are failures carrying Runway's message.

Each model takes only certain lengths and prompt lengths, which :class:`BackendCapabilities`
cannot say, so :class:`RunwayBackend` adds those checks to admission.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob, RemoteState
from openreel.backends.hosted.http import ProviderHttp, data_uri, stainless_retries
from openreel.domain import VideoRequest
from openreel.errors import BackendError, InvalidRequestError

__all__ = [
    "ACCEPTS",
    "API_VERSION",
    "DURATIONS",
    "MODELS",
    "POLL_INTERVAL_S",
    "PROMPT_LIMITS",
    "VIDEO_LIMIT",
    "RunwayBackend",
    "RunwayClient",
    "build_runway",
    "video_uri",
]

API_VERSION = "2024-11-06"
"""The ``X-Runway-Version`` every call sends (Runway requires it; the SDK's default)."""

POLL_INTERVAL_S = 6.0
"""Pause between status polls, as Runway's SDK does."""

PROMPT_LIMITS: Mapping[str, int] = {
    "gen4.5": 1000,
    "gen4_turbo": 1000,
    "veo3.1": 1000,
    "veo3.1_fast": 1000,
    "seedance2": 3500,
}
"""Longest ``promptText`` each remote model takes, counted in UTF-16 code units, as the SDK's
field documentation states it (Seedance's "3500 characters" is counted the same way, the
stricter reading). Kling 2.5 and Wan 3 state no limit in the SDK; Runway's own 400 names it."""

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


def _caps(
    max_seconds: float, sizes: tuple[str, ...], *, audio: bool = False
) -> BackendCapabilities:
    sides = [int(side) for size in sizes for side in size.split("x")]
    return BackendCapabilities(
        max_seconds=max_seconds,
        min_side=min(sides),
        max_side=max(sides),
        fps_range=(12, 30),
        sizes=sizes,
        any_size=False,
        image_input=True,
        audio=audio,
        deterministic=False,
    )


def _edit_caps() -> BackendCapabilities:
    """aleph2's: it only edits the video it is sent, at that video's size, rate and length
    (the SDK's schema takes no ratio or duration it must have); the limit the SDK states is
    the 5 MB of the video as a data URI (:data:`VIDEO_LIMIT`), checked when it is sent."""
    return BackendCapabilities(
        max_seconds=10,
        min_side=64,
        max_side=3840,
        fps_range=(1, 60),
        sizes=("1280x720", "720x1280"),
        any_size=True,
        audio=False,
        deterministic=False,
        edit=True,
        edit_note=(
            "Runway's video-to-video (aleph2) remakes the video as the prompt says; the video "
            "is sent inline as a data URI of at most 5 MB"
        ),
        create=False,
    )


MODELS: tuple[HostedModel, ...] = (
    HostedModel("runway/gen4.5", "gen4.5", _caps(10, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/veo3.1", "veo3.1", _caps(8, _VEO_SIZES, audio=True)),
    HostedModel("runway/veo3.1_fast", "veo3.1_fast", _caps(8, _VEO_SIZES, audio=True)),
    HostedModel("runway/kling2.5_turbo_pro", "kling2.5_turbo_pro", _caps(10, _LANDSCAPE_PORTRAIT)),
    HostedModel("runway/seedance2", "seedance2", _caps(15, _LANDSCAPE_PORTRAIT, audio=True)),
    HostedModel("runway/wan3", "wan3", _caps(10, _LANDSCAPE_PORTRAIT, audio=True)),
    HostedModel("runway/gen4_turbo", "gen4_turbo", _caps(10, _IMAGE_SIZES)),
    HostedModel("runway/aleph2", "aleph2", _edit_caps()),
)
"""Models served through Runway, with their real limits (each listed in the SDK's
text-to-video and image-to-video schemas, gen4_turbo in image-to-video only):

- ``runway/gen4.5``: 2-10 whole seconds; ratio 1280:720 or 720:1280; takes a seed.
- ``runway/veo3.1`` and ``runway/veo3.1_fast``: 4, 6 or 8 seconds; 1280:720, 720:1280,
  1080:1920 or 1920:1080. They take a seed and a negative prompt, and make sound
  (``audio`` follows the request's; the hosted loop keeps the sound, fitted to the picture).
- ``runway/kling2.5_turbo_pro``: 5 or 10 seconds (the SDK's ``Literal[5, 10]``); the two 720p
  ratios of the six its text-to-video schema lists; no seed in its schema.
- ``runway/seedance2`` (ByteDance Seedance 2): 4-15 whole seconds (the SDK says only
  ``int``; ByteDance: 4 to 15); the two 720p ratios; takes a seed.
- ``runway/wan3`` (Alibaba Wan 3): 5 or 10 seconds in the two 720p ratios, a conservative
  subset (the SDK's ``duration`` is any ``int`` and states no range); no seed in its schema.
- ``runway/gen4_turbo``: image-to-video only (an ``input_reference`` is required); 5 or 10
  seconds; the ratios 1280:720, 720:1280, 1104:832, 832:1104, 960:960 and 1584:672; takes a
  seed.
- ``runway/aleph2``: video-to-video only (``POST /v1/videos/edits``; the SDK's
  ``VideoToVideoCreateParams``): the video as ``videoUri``, the prompt, a seed.

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

TEXT, IMAGE, VIDEO = "/v1/text_to_video", "/v1/image_to_video", "/v1/video_to_video"

ACCEPTS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "gen4.5": {TEXT: frozenset({"ratio", "seed"}), IMAGE: frozenset({"ratio", "seed"})},
    "veo3.1": {
        TEXT: frozenset({"ratio", "seed", "negativePrompt", "audio"}),
        IMAGE: frozenset({"ratio", "seed", "negativePrompt", "audio"}),
    },
    "veo3.1_fast": {
        TEXT: frozenset({"ratio", "seed", "negativePrompt", "audio"}),
        IMAGE: frozenset({"ratio", "seed", "negativePrompt", "audio"}),
    },
    "kling2.5_turbo_pro": {TEXT: frozenset({"ratio"}), IMAGE: frozenset()},
    "seedance2": {
        TEXT: frozenset({"ratio", "seed", "audio"}),
        IMAGE: frozenset({"ratio", "seed", "audio"}),
    },
    "wan3": {TEXT: frozenset({"ratio", "audio"}), IMAGE: frozenset({"ratio", "audio"})},
    "gen4_turbo": {IMAGE: frozenset({"ratio", "seed"})},
    "aleph2": {VIDEO: frozenset({"seed"})},
}
"""For each remote model, the endpoints its SDK schema lists it under and which of the
optional fields we use (``ratio``, ``seed``, ``negativePrompt``, ``audio``) that endpoint's
schema takes for it. A model absent from an endpoint is not sent there (gen4_turbo makes video
only from an image). tests/backends/hosted/test_runway.py holds this table to the SDK."""

_AUTO_RATIO = frozenset({"wan3"})
"""Remote models whose image-to-video keyframe requests must say ``auto_720p`` (the SDK: the
aspect ratio follows the first frame); every size we offer them is 720p."""


def ratio(size: str) -> str:
    """Runway's ratio for our size: ``"1280x720"`` -> ``"1280:720"``."""
    return size.replace("x", ":", 1)


IMAGE_LIMIT = 5 * 1024 * 1024
"""Largest ``promptImage`` data URI Runway takes, in bytes."""


VIDEO_LIMIT = 5 * 1024 * 1024
"""Largest ``videoUri`` data URI Runway takes, in bytes (the SDK: "up to 5MB")."""

_VIDEO_TYPES: Mapping[str, str] = {".webm": "video/webm", ".mov": "video/quicktime"}


def endpoint(request: VideoRequest) -> str:
    """``/v1/video_to_video`` for an edit; ``/v1/image_to_video`` when the request has a
    reference image; else text-to-video."""
    if request.operation == "edit":
        return VIDEO
    return IMAGE if request.input_reference is not None else TEXT


def video_uri(request: VideoRequest) -> str:
    """The edit's source video as a ``data:`` URI, the one form of the three Runway takes
    (an HTTPS URL, a Runway upload, a data URI) that needs no address reachable from the
    internet, which a self-hosted server does not have.

    Raises:
        InvalidRequestError: Naming ``video``: there is none, or it is over
            :data:`VIDEO_LIMIT` as a data URI.
    """
    if request.source is None:
        raise InvalidRequestError(
            f"model {request.model} edits a video; none was sent", param="video"
        )
    path = Path(request.source.path)
    media_type = _VIDEO_TYPES.get(path.suffix.lower(), "video/mp4")
    prefix = f"data:{media_type};base64,"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BackendError(f"the video to edit could not be read: {exc.strerror}") from None
    size = len(prefix) + 4 * ((len(data) + 2) // 3)
    if size > VIDEO_LIMIT:
        raise InvalidRequestError(
            f"video must be at most {VIDEO_LIMIT // 2**20} MB as a data URI for model "
            f"{request.model} (Runway's limit); got {size / 2**20:.1f} MB",
            param="video",
        )
    return prefix + base64.b64encode(data).decode("ascii")


def task_body(model: str, request: VideoRequest) -> dict[str, Any]:
    """The JSON body :func:`endpoint` gets for ``request`` on remote ``model``, with only the
    fields that endpoint's schema takes for the model (:data:`ACCEPTS`); a reference image goes
    as ``promptImage``, a data URI, and becomes the first frame."""
    where = endpoint(request)
    accepts = ACCEPTS.get(model, {}).get(where, frozenset({"ratio"}))
    if where == VIDEO:
        edit: dict[str, Any] = {
            "model": model,
            "videoUri": video_uri(request),
            "promptText": request.prompt,
        }
        if "seed" in accepts and request.seed is not None:
            edit["seed"] = request.seed % (1 << 32)
        return edit
    body: dict[str, Any] = {
        "model": model,
        "promptText": request.prompt,
        "duration": int(request.seconds),
    }
    if "ratio" in accepts:
        auto = where == IMAGE and model in _AUTO_RATIO
        body["ratio"] = "auto_720p" if auto else ratio(request.size)
    if request.input_reference is not None:
        body["promptImage"] = data_uri(request.input_reference)
    if "seed" in accepts and request.seed is not None:
        body["seed"] = request.seed % (1 << 32)  # Runway takes 0 to 4294967295
    if "negativePrompt" in accepts and request.negative_prompt:
        body["negativePrompt"] = request.negative_prompt
    if "audio" in accepts:
        body["audio"] = bool(request.audio)  # sound costs more: only when it is kept
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
        remote = self._model(request.model).remote
        if request.operation == "edit" and VIDEO not in ACCEPTS.get(remote, {}):
            raise InvalidRequestError(
                f"model {request.model} cannot edit videos; runway/aleph2 does",
                param="model",
            )
        made = request.operation != "edit"
        if made and request.input_reference is None and TEXT not in ACCEPTS.get(remote, {TEXT: {}}):
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
        limit = PROMPT_LIMITS.get(remote)
        units = len(request.prompt.encode("utf-16-le")) // 2
        if limit is not None and units > limit:
            raise InvalidRequestError(
                f"prompt must be at most {limit} UTF-16 code units for model "
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

    def _retries(self, response: httpx.Response) -> bool:
        """As Runway's SDK retries (its Stainless client: ``x-should-retry``, 408, 409, 429,
        5xx)."""
        return stainless_retries(response)

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
