"""SketchBackend: the sketch engine behind the VideoBackend protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.base import (
    BackendCapabilities,
    CancelCheck,
    Frame,
    ProgressCallback,
    check_against_capabilities,
    never_cancelled,
    no_progress,
)
from openreel.backends.sketch.plan import ScenePlan
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.understand import understand
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import CancelledError, InvalidRequestError, ModelNotFoundError

__all__ = ["SKETCH_MODEL", "SketchBackend"]


def _decode_reference(image: ImageInput | None) -> npt.NDArray[np.uint8] | None:
    """Decodes the reference image to RGB; admission already checked that it decodes."""
    if image is None:
        return None
    decoded = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise InvalidRequestError(
            "input_reference could not be decoded as an image", param="input_reference"
        )
    return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


SKETCH_MODEL = "openreel-sketch"
"""Model id of the sketch engine in /v1/models and on the command line."""

_CAPABILITIES = BackendCapabilities(
    max_seconds=60.0,
    min_side=64,
    max_side=3840,
    fps_range=(1, 60),
    sizes=("1920x1080", "1080x1920", "1280x720", "720x1280"),
    any_size=True,
    image_input=True,
    audio=False,
    deterministic=True,
)


class SketchBackend:
    """The embedded procedural engine: no GPU, no weights, repeatable by seed."""

    name = "sketch"
    models = (SKETCH_MODEL,)
    digital_source_type = "algorithmicMedia"
    """IPTC digital source type for C2PA: procedural, not a trained model."""

    def capabilities(self, model: str) -> BackendCapabilities:
        """The sketch engine's limits (the same for its one model)."""
        self._require_model(model)
        return _CAPABILITIES

    def check(self, request: VideoRequest) -> None:
        """Rejects requests outside the engine's limits, naming the parameter."""
        self._require_model(request.model)
        check_against_capabilities(request, _CAPABILITIES)

    def plan(self, request: VideoRequest) -> ScenePlan:
        """What the engine will draw for this request."""
        return understand(request.prompt, request.negative_prompt)

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """The scene plan as JSON, with a one-line summary for people."""
        plan = self.plan(request)
        summary = plan.summary() + (
            "; backdrop from input_reference" if request.input_reference else ""
        )
        return {"engine": "sketch", "summary": summary, "plan": plan.to_dict()}

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Iterator[Frame]:
        """Yields the frames of the clip one at a time (each a fresh array).

        Raises:
            InvalidRequestError: When the request's seed is not fixed, or it fails :meth:`check`.
            CancelledError: As soon as ``cancelled()`` returns True.
        """
        self.check(request)
        if request.seed is None:
            raise InvalidRequestError("seed must be fixed before generating", param="seed")
        total = request.frame_count
        offset = request.frame_offset
        renderer = SceneRenderer(
            self.plan(request),
            width=request.width,
            height=request.height,
            fps=request.fps,
            frames=offset + total,
            seed=request.seed,
            backdrop=_decode_reference(request.input_reference),
        )
        progress(0, total)
        for index in range(total):
            if cancelled():
                raise CancelledError("generation was cancelled", code="cancelled")
            yield renderer.render(offset + index)
            progress(index + 1, total)

    def _require_model(self, model: str) -> None:
        if model not in self.models:
            raise ModelNotFoundError.for_value(
                "model", model, f"is not served by the sketch engine ({SKETCH_MODEL})"
            )
