"""SketchBackend: the sketch engine behind the VideoBackend protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.base import (
    BackendCapabilities,
    CancelCheck,
    Clip,
    Frame,
    ProgressCallback,
    check_against_capabilities,
    never_cancelled,
    no_progress,
)
from openreel.backends.sketch.character import CharacterPath, CharacterSprite
from openreel.backends.sketch.edit import footage_edit, merge_edit
from openreel.backends.sketch.footage import FootageLayers, cross_fade
from openreel.backends.sketch.plan import ScenePlan
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound import soundscape
from openreel.backends.sketch.understand import understand
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import CancelledError, InvalidRequestError, ModelNotFoundError
from openreel.media.audio import SAMPLE_RATE, Soundtrack, read_soundtrack, samples_for
from openreel.media.uploaded import fit_picture, fitted_frames, last_frame

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
    audio=True,
    deterministic=True,
    edit=True,
    characters=True,
    edit_note=(
        "its own videos are drawn again from their plan with the edit applied (same seed); "
        "other footage gets light, weather and style layers over it"
    ),
)

FADE_SECONDS = 1.0
"""How long an extension of an uploaded video dissolves from its last frame into the scene."""


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
        """What the engine will draw for this request (an edit of its own video: the
        source's plan with the edit applied)."""
        source = request.source
        if request.operation == "edit" and source is not None and source.plan is not None:
            return merge_edit(ScenePlan.from_dict(source.plan), request.prompt)[0]
        return understand(request.prompt, request.negative_prompt)

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """The scene plan as JSON, with a one-line summary for people.

        ``mode`` is ``drawn`` when the engine draws the scene (it can draw it again for an
        edit) and ``footage`` when it lays layers over a video it did not draw.
        """
        source = request.source
        out: dict[str, Any]
        if request.operation == "edit" and source is not None and source.plan is None:
            layers = footage_edit(request.prompt)
            out = {
                "engine": "sketch",
                "mode": "footage",
                "operation": "edit",
                "summary": layers.summary(),
                "layers": layers.to_dict(),
            }
        else:
            plan = self.plan(request)
            summary = plan.summary() + (
                "; backdrop from input_reference" if request.input_reference else ""
            )
            out = {"engine": "sketch", "mode": "drawn", "summary": summary, "plan": plan.to_dict()}
            if request.operation == "edit" and source is not None and source.plan is not None:
                changes = merge_edit(ScenePlan.from_dict(source.plan), request.prompt)[1]
                out["operation"] = "edit"
                out["changes"] = changes
                out["summary"] += "; edit: " + ("; ".join(changes) or "no change understood")
            elif request.operation == "extend" and source is not None:
                out["operation"] = "extend"
                out["continues"] = (
                    f"dissolves from the uploaded video's last frame into the scene over "
                    f"{self._fade_frames(request)} frames"
                )
        if source is not None:
            out["source"] = {"video_id": source.video_id, "uploaded": source.uploaded}
        if request.character is not None:
            out["character"] = {
                "id": request.character.id,
                "name": request.character.name,
                "how": "cut out of its clip's clearest frame; walks across the scene from "
                "left to right, in front of the other subjects",
                "path": CharacterPath().to_dict(),
            }
        return out

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Clip:
        """The frames of the clip one at a time (each a fresh array), with its sound when
        ``request.audio`` is true (see :meth:`soundtrack`).

        Raises:
            InvalidRequestError: When the request's seed is not fixed, or it fails :meth:`check`.
            CancelledError: As soon as ``cancelled()`` returns True.
        """
        built: list[SceneRenderer] = []

        def scene() -> SceneRenderer:
            # One renderer for the picture and its sound: the sound reads the strikes, the
            # subjects and the camera from it, and a second one would cost its time and memory.
            if not built:
                built.append(self._renderer(request))
            return built[0]

        frames = self._frames(request, scene, progress, cancelled)
        return Clip(frames, (lambda: self.soundtrack(request, scene())) if request.audio else None)

    def soundtrack(
        self, request: VideoRequest, renderer: SceneRenderer | None = None
    ) -> Soundtrack:
        """The clip's sound, locked to its frames: the scene's soundscape from the request's
        frame offset (an extension's sound goes on from its source's clock); an edit of
        footage the engine did not draw keeps the footage's own sound (silence if it had
        none), as it keeps its picture under the new layers."""
        if request.seed is None:
            raise InvalidRequestError("seed must be fixed before generating", param="seed")
        total = request.frame_count
        samples = samples_for(total, request.fps)
        source = request.source
        if request.operation == "edit" and source is not None and source.plan is None:
            kept = read_soundtrack(Path(source.path))
            return (kept or Soundtrack.silence(samples)).fitted(samples)
        sound = soundscape(
            self.plan(request),
            width=request.width,
            height=request.height,
            fps=request.fps,
            start_frame=request.frame_offset,
            frames=total,
            seed=request.seed,
            sample_rate=SAMPLE_RATE,
            renderer=renderer,
        )
        return Soundtrack(np.asarray(sound, dtype=np.float32)).fitted(samples)

    def _frames(
        self,
        request: VideoRequest,
        scene: Callable[[], SceneRenderer],
        progress: ProgressCallback,
        cancelled: CancelCheck,
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
        width, height = request.width, request.height
        character = (
            None
            if request.character is None
            else CharacterSprite(
                Path(request.character.cutout), CharacterPath(), width=width, height=height
            )
        )
        source = request.source
        progress(0, total)
        if request.operation == "edit" and source is not None and source.plan is None:
            layers = FootageLayers(
                footage_edit(request.prompt),
                width=width,
                height=height,
                fps=request.fps,
                frames=total,
                seed=request.seed,
            )
            footage = fitted_frames(Path(source.path), width, height, total)
            for index, picture in enumerate(footage):
                if cancelled():
                    raise CancelledError("generation was cancelled", code="cancelled")
                frame = layers.apply(picture, index)
                if character is not None:
                    character.draw(frame, index / max(total - 1, 1))
                yield frame
                progress(index + 1, total)
            return
        offset = request.frame_offset
        renderer = scene()
        start = None
        if request.operation == "extend" and source is not None:

            def alive() -> None:  # reading the source is progress too (a render's heartbeat)
                if cancelled():
                    raise CancelledError("generation was cancelled", code="cancelled")
                progress(0, total)

            start = (
                last_frame(Path(source.path), width, height, each=alive)
                if source.last_picture is None  # not yet decoded by the render (see domain)
                else fit_picture(source.last_picture, width, height)
            )
        fade = self._fade_frames(request)
        for index in range(total):
            if cancelled():
                raise CancelledError("generation was cancelled", code="cancelled")
            frame = renderer.render(offset + index)
            if character is not None:
                character.draw(frame, index / max(total - 1, 1))
            yield frame if start is None else cross_fade(start, frame, index, fade)
            progress(index + 1, total)

    def _renderer(self, request: VideoRequest) -> SceneRenderer:
        """The scene's renderer for the whole clip up to this request's last frame."""
        if request.seed is None:
            raise InvalidRequestError("seed must be fixed before generating", param="seed")
        return SceneRenderer(
            self.plan(request),
            width=request.width,
            height=request.height,
            fps=request.fps,
            frames=request.frame_offset + request.frame_count,
            seed=request.seed,
            backdrop=_decode_reference(request.input_reference),
        )

    @staticmethod
    def _fade_frames(request: VideoRequest) -> int:
        return max(1, min(round(FADE_SECONDS * request.fps), request.frame_count // 2))

    def _require_model(self, model: str) -> None:
        if model not in self.models:
            raise ModelNotFoundError.for_value(
                "model", model, f"is not served by the sketch engine ({SKETCH_MODEL})"
            )
