"""RenderPlan: how one request is made from a catalogue model, decided before any weights load.

The plan is what ``describe()`` returns, so the job record says what was done (native size,
frame rate and frames, segments, interpolation, scaling) and it is the same plan that
``generate()`` then follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from openreel.backends.diffusers.catalogue import ModelEntry
from openreel.backends.diffusers.frames import Interpolation, SegmentPlan, fit_native, plan_segments
from openreel.domain import VideoRequest

__all__ = ["RenderPlan", "make_plan"]


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Everything decided about one request before the model runs.

    Attributes:
        model: Catalogue model id.
        width: Native width generated.
        height: Native height generated.
        fps: Native frame rate generated.
        native_frames: Native frames the clip needs (before the family's rounding).
        segments: Model calls and their overlap.
        steps: Denoising steps per call.
        guidance: Guidance scale.
        out_width: Width delivered.
        out_height: Height delivered.
        out_fps: Frame rate delivered.
        out_frames: Frames delivered.
        interpolation: How frames are added when ``out_fps`` is above ``fps``.
        image_to_video: Whether the first segment starts from ``input_reference``.
        chained_by: How segments after the first are joined: ``first_frame`` (each is
            conditioned on the previous one's frames). Models that cannot continue from
            frames make one call only (a longer request is refused at admission).
        first_frame: Where the first frame comes from when the model needs one:
            ``input_reference`` (the request's image) or ``sketch`` (drawn from the prompt by
            the sketch engine, for image-to-video-only models); None for text-to-video.
        last_frame: How the clip is made to end on the request's ``last_frame`` image
            (``last_image`` or ``conditions``), or None when it has none.
        upsample: 2 when the model's own upsampler doubles each side, else 1.
        refine_steps: Denoising steps of the refine pass after the latent upsampler, per
            call (0 without it).
        upsampler: The upsampler's weights, when the catalogue names one.
    """

    model: str
    width: int
    height: int
    fps: int
    native_frames: int
    segments: SegmentPlan
    steps: int
    guidance: float
    out_width: int
    out_height: int
    out_fps: int
    out_frames: int
    interpolation: Interpolation
    image_to_video: bool
    chained_by: str
    first_frame: str | None = None
    last_frame: str | None = None
    upsample: int = 1
    upsampler: str | None = None
    refine_steps: int = 0

    @property
    def total_steps(self) -> int:
        """Denoising steps over all segments (the unit of progress)."""
        return (self.steps + self.refine_steps) * len(self.segments.frames)

    @property
    def made_size(self) -> tuple[int, int]:
        """Size of the frames the model makes (after its own upsampler, if used)."""
        return self.width * self.upsample, self.height * self.upsample

    @property
    def scales(self) -> bool:
        """Whether frames are resized with Lanczos after generation."""
        return self.made_size != (self.out_width, self.out_height)

    @property
    def retimes(self) -> bool:
        """Whether the frame rate changes after generation."""
        return self.fps != self.out_fps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the plan, with a one-line summary for people."""
        calls = len(self.segments.frames)
        parts = [f"{calls} call{'s' if calls > 1 else ''} of {self.steps} steps"]
        parts.append(f"native {self.width}x{self.height} at {self.fps} fps")
        if self.retimes:
            parts.append(f"{self.interpolation} interpolation to {self.out_fps} fps")
        if self.upsample > 1:
            made_w, made_h = self.made_size
            parts.append(f"model upsampler x{self.upsample} to {made_w}x{made_h}")
        if self.scales:
            parts.append(f"Lanczos to {self.out_width}x{self.out_height}")
        return {
            "engine": "diffusers",
            "model": self.model,
            "summary": "; ".join(parts),
            "native": {
                "width": self.width,
                "height": self.height,
                "fps": self.fps,
                "frames": self.segments.total,
            },
            "segments": {
                "frames": list(self.segments.frames),
                "overlap": self.segments.overlap,
                "chained_by": self.chained_by if calls > 1 else None,
            },
            "steps": self.steps,
            "guidance": self.guidance,
            "interpolation": (
                {"from_fps": self.fps, "to_fps": self.out_fps, "method": self.interpolation}
                if self.retimes
                else None
            ),
            "scaling": (
                {
                    "from": f"{self.width}x{self.height}",
                    "to": f"{self.out_width}x{self.out_height}",
                    "model_upsampler": self.upsampler,
                    "model_upsampler_used": self.upsample > 1,
                    "upsampled": "x".join(map(str, self.made_size)) if self.upsample > 1 else None,
                    "method": "lanczos" if self.scales else None,
                }
                if self.scales or self.upsample > 1
                else None
            ),
            "image_to_video": self.image_to_video,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "output": {
                "width": self.out_width,
                "height": self.out_height,
                "fps": self.out_fps,
                "frames": self.out_frames,
            },
        }


def make_plan(
    entry: ModelEntry, request: VideoRequest, interpolation: Interpolation = "flow"
) -> RenderPlan:
    """Decides how ``entry`` makes ``request``.

    The native frame rate is kept when the request asks for less (frames are then picked,
    not blended) and interpolated up when it asks for more; the native size takes the
    request's aspect ratio at the model's pixel count; frames beyond the family's rounding
    are generated and dropped.
    """
    if entry.fixed_size:
        width, height = entry.width, entry.height
    else:
        width, height = fit_native(
            entry.width, entry.height, entry.side_multiple, request.width, request.height
        )
    out_frames = request.frame_count
    # Native frames covering the same span of time: rounded up, so the last native frame
    # reaches (or passes) the last output frame's time and the end is interpolated, never
    # a held frame.
    duration = (out_frames - 1) / request.fps
    needed = max(1, math.ceil(duration * entry.fps - 1e-9) + 1)
    if out_frames > 1 and needed < 2 and entry.fps < request.fps:
        needed = 2
    segments = plan_segments(needed, entry.max_frames, entry.spec.rule, entry.overlap)
    image_class = entry.image_pipeline_class
    # The model's own x2 upsampler runs only when the request is larger than native.
    upsample = 2 if entry.upsampler and (request.width > width or request.height > height) else 1
    if request.input_reference is not None and image_class is not None:
        first_frame: str | None = "input_reference"
    elif entry.needs_image:
        first_frame = "sketch"
    else:
        first_frame = None
    return RenderPlan(
        model=entry.id,
        width=width,
        height=height,
        fps=entry.fps,
        native_frames=needed,
        segments=segments,
        steps=entry.steps,
        guidance=entry.guidance,
        out_width=request.width,
        out_height=request.height,
        out_fps=request.fps,
        out_frames=out_frames,
        interpolation=interpolation,
        image_to_video=first_frame is not None,
        chained_by="first_frame",
        first_frame=first_frame,
        last_frame=entry.last_frame_by if request.last_frame is not None else None,
        upsample=upsample,
        upsampler=entry.upsampler,
        refine_steps=_refine_steps(entry) if upsample > 1 else 0,
    )


def _refine_steps(entry: ModelEntry) -> int:
    """Steps of the refine pass: its schedule's length, else its step count."""
    if entry.spec.refine_pipeline is None:
        return 0
    timesteps = entry.refine.get("timesteps")
    if isinstance(timesteps, list):
        return len(timesteps)
    return int(entry.refine.get("num_inference_steps", entry.steps))
