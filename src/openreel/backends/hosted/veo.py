"""Google Veo on Vertex AI, through Google's own SDK (``google-genai``, the ``veo`` extra).

Why the SDK rather than raw HTTP as for the other providers: Vertex authenticates with Google
Cloud credentials (a service account, workload identity, ``gcloud`` login), and minting and
refreshing those tokens is what google-auth, which the SDK brings, is for. The SDK is imported
only when a Veo model is first used, so installations without Google pay nothing for it.

The wire (from Google's documentation): ``generate_videos`` starts a long-running
operation (``:predictLongRunning``); ``operations.get`` polls it (``:fetchPredictOperation``);
a done operation carries either an ``error`` (a google.rpc status) or a response with the
videos, inline as bytes when no Cloud Storage output is configured. Veo reports no progress.
A done operation with no video and ``rai_media_filtered_count`` set was blocked by Google's
safety filters: that is a refusal, with Google's reasons. The SDK has no cancel for video
operations, so cancelling here only stops following the job.

Models, their limits (Veo 3.x: 4, 6 or 8 s; 16:9 or 9:16; 720p, or 1080p with 8 s) and the
request fields follow Vertex's documentation; the seed is passed (Vertex honours it) and
``generate_audio`` follows the request's ``audio`` (Veo 3.x makes synchronised sound; the
hosted loop keeps it, fitted to the picture).

Errors: the SDK raises ``APIError`` with the HTTP code; 401/403 are bad credentials; 408,
429 and 5xx are transient (the SDK retries nothing by default, our loop does); a 400 that
mentions safety or policy is a refusal, any other 4xx a failure.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import (
    HostedBackend,
    HostedModel,
    ProviderAuthError,
    ProviderRefusedError,
    RemoteJob,
    TransientProviderError,
)
from openreel.backends.hosted.http import (
    fetch_cdn,
    rejected,
    retryable_status,
    transient_network_errors,
)
from openreel.domain import VideoRequest
from openreel.errors import BackendError, BackendUnavailableError, InvalidRequestError

if TYPE_CHECKING:
    from google.genai import Client

__all__ = ["DURATIONS", "INSTALL_HINT", "MODELS", "POLL_INTERVAL_S", "VeoBackend", "VeoClient"]

POLL_INTERVAL_S = 10.0
"""Google's documented example interval for polling a Veo operation."""

INSTALL_HINT = "pip install 'openreel[veo]'"

DURATIONS = (4.0, 6.0, 8.0)
"""Lengths Veo 3.x makes, in seconds."""

_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920")
_POLICY = re.compile(r"safety|polic|blocked|responsible ai|sensitive|prohibited", re.IGNORECASE)


def _caps() -> BackendCapabilities:
    return BackendCapabilities(
        max_seconds=8.0,
        min_side=720,
        max_side=1920,
        fps_range=(12, 30),
        sizes=_SIZES,
        any_size=False,
        image_input=True,
        audio=True,
        deterministic=False,
    )


MODELS: tuple[HostedModel, ...] = (
    HostedModel("veo/veo-3.1", "veo-3.1-generate-001", _caps()),
    HostedModel("veo/veo-3.1-fast", "veo-3.1-fast-generate-001", _caps()),
    HostedModel("veo/veo-3.1-lite", "veo-3.1-lite-generate-001", _caps()),
)
"""Veo models on Vertex: 4, 6 or 8 s; 1280x720 or 720x1280 at any of those lengths,
1920x1080 or 1080x1920 at 8 s; an ``input_reference`` becomes the first frame."""


class VeoBackend(HostedBackend):
    """The hosted loop plus Veo's own rules: fixed lengths, and 1080p only at 8 s."""

    def check_exact(self, request: VideoRequest) -> None:
        """Checks the model's limits, then its lengths.

        Raises:
            InvalidRequestError: Naming ``seconds`` or ``size``.
        """
        super().check_exact(request)
        if request.seconds not in DURATIONS:
            raise InvalidRequestError.for_value(
                "seconds",
                request.seconds,
                f"must be 4, 6 or 8 for model {request.model}",
            )
        if min(request.width, request.height) > 720 and request.seconds != 8:
            raise InvalidRequestError.for_value(
                "size", request.size, f"is made only at 8 seconds by model {request.model}"
            )


class VeoClient:
    """Veo on Vertex through google-genai.

    Args:
        project: Google Cloud project (with ``location``; credentials from the environment,
            as google-auth finds them, unless ``credentials`` is given).
        location: Vertex region.
        api_key: A Vertex API key instead of project credentials ("express mode").
        credentials: google-auth credentials (tests pass a fixed token).
        base_url: Vertex's endpoint, when not Google's default (tests point it at a fake).
        http_client: The httpx client the SDK sends with (tests pass a mock transport's).
        timeout_s: Per-request timeout.
    """

    provider = "veo"

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str = "us-central1",
        api_key: str | None = None,
        credentials: Any = None,
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        try:
            from google import genai
            from google.genai import types
        except ImportError:
            raise BackendUnavailableError(
                f"provider veo needs the google-genai package: {INSTALL_HINT}"
            ) from None
        self._types = types
        options = types.HttpOptions(
            base_url=base_url, httpx_client=http_client, timeout=int(timeout_s * 1000)
        )
        if api_key is not None:
            self._client: Client = genai.Client(
                vertexai=True, api_key=api_key, http_options=options
            )
        else:
            self._client = genai.Client(
                vertexai=True,
                project=project,
                location=location,
                credentials=credentials,
                http_options=options,
            )
        self._cdn = httpx.Client(timeout=timeout_s, follow_redirects=True)
        # A done operation carries the video inline; kept from the poll that saw it done, so
        # the download does not fetch the whole video a second time.
        self._done: dict[str, Any] = {}

    def close(self) -> None:
        """Closes the SDK's and the download client's connections."""
        self._client.close()
        self._cdn.close()

    def submit(self, model: str, request: VideoRequest) -> str:
        """Starts the operation; returns its name."""
        types = self._types
        image = None
        if request.input_reference is not None:
            image = types.Image(
                image_bytes=request.input_reference.data,
                mime_type=request.input_reference.media_type,
            )
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=int(request.seconds),
            aspect_ratio="16:9" if request.width >= request.height else "9:16",
            resolution="720p" if min(request.width, request.height) <= 720 else "1080p",
            seed=None if request.seed is None else request.seed % 2**32,
            negative_prompt=request.negative_prompt or None,
            generate_audio=bool(request.audio),
        )
        source = types.GenerateVideosSource(prompt=request.prompt, image=image)
        operation = self._call(
            lambda: self._client.models.generate_videos(model=model, source=source, config=config)
        )
        if not operation.name:
            raise TransientProviderError("veo started an operation without a name")
        return str(operation.name)

    def status(self, job_id: str) -> RemoteJob:
        """Reads the operation once."""
        operation = self._operation(job_id)
        if not operation.done:
            return RemoteJob("running")
        if operation.error:
            message = str(operation.error.get("message") or operation.error)
            code = operation.error.get("code")
            refused = code == 3 and _POLICY.search(message) is not None
            return RemoteJob("refused" if refused else "failed", None, message[:500])
        response = operation.response
        videos = (response.generated_videos if response is not None else None) or []
        if not videos:
            reasons = (response.rai_media_filtered_reasons if response is not None else None) or []
            if response is not None and response.rai_media_filtered_count:
                return RemoteJob("refused", None, "; ".join(reasons) or "safety filters")
            return RemoteJob("failed", None, "veo finished without a video")
        self._done[job_id] = operation
        return RemoteJob("succeeded", 100.0)

    def download(self, job_id: str, target: Path) -> None:
        """Writes the operation's video to ``target`` (inline bytes, or an HTTPS URL)."""
        operation = self._done.pop(job_id, None) or self._operation(job_id)
        response = operation.response
        videos = (response.generated_videos if response is not None else None) or []
        video = videos[0].video if videos else None
        if video is None:
            raise BackendError("veo's operation carries no video", code="backend_error")
        if video.video_bytes:
            data = video.video_bytes
            if isinstance(data, str):  # some SDK paths leave base64 text
                data = base64.b64decode(data)
            target.write_bytes(data)
            return
        if video.uri and video.uri.startswith("https://"):
            fetch_cdn(self._cdn, video.uri, target, "veo")
            return
        raise BackendError(
            "veo stored the video in Cloud Storage, which this server does not read; "
            "leave output_gcs_uri unset so Vertex returns the video inline",
            code="backend_error",
        )

    def cancel(self, job_id: str) -> None:
        """Veo has no cancel for video operations: the job is only no longer followed."""

    def _operation(self, name: str) -> Any:
        types = self._types
        return self._call(
            lambda: self._client.operations.get(types.GenerateVideosOperation(name=name))
        )

    def _call(self, fn: Any) -> Any:
        """Runs one SDK call, sorting its failures the way the hosted loop understands."""
        from google.genai import errors

        try:
            with transient_network_errors("veo"):
                return fn()
        except errors.APIError as exc:
            code = int(exc.code or 0)
            message = str(exc.message or exc.status or f"HTTP {code}")[:500]
            if code in (401, 403):
                raise ProviderAuthError(f"veo answered HTTP {code}") from None
            if retryable_status(code):
                raise TransientProviderError(f"veo answered HTTP {code}: {message}") from None
            if _POLICY.search(message):
                raise ProviderRefusedError(message) from None
            raise rejected("veo", code, message) from None
        except ValueError as exc:  # the SDK could not read the reply
            raise TransientProviderError(f"veo answered something unreadable: {exc}") from None


def build_veo(
    *,
    project: str | None = None,
    location: str = "us-central1",
    api_key: str | None = None,
    client_kwargs: dict[str, Any] | None = None,
    **backend_kwargs: Any,
) -> HostedBackend:
    """The Veo backend serving :data:`MODELS`.

    Args:
        project: Google Cloud project (credentials from the environment).
        location: Vertex region.
        api_key: A Vertex API key instead of project credentials.
        client_kwargs: More :class:`VeoClient` arguments (tests: credentials, fake endpoint).
        **backend_kwargs: See :meth:`HostedBackend.for_provider`; the policy defaults to
            polling every :data:`POLL_INTERVAL_S`.
    """
    client = VeoClient(project=project, location=location, api_key=api_key, **(client_kwargs or {}))
    return VeoBackend.for_provider(client, MODELS, interval_s=POLL_INTERVAL_S, **backend_kwargs)
