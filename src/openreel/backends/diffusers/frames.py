"""Frame arithmetic and post-processing between what a model makes and what was asked for.

Open video models make a fixed kind of clip: a frame count of the form ``step*k + 1``, a
native size and frame rate, and a longest clip per call. A request asks for something else
(10 seconds of 1920x1080 at 24 fps). Everything here bridges the two with plain numpy and
OpenCV, so it is tested without torch:

- :class:`FrameRule` rounds frame counts to what a family accepts (8k+1 LTX, 4k+1 Wan...);
- :func:`plan_segments` splits a long clip into calls that overlap, and :func:`stitch`
  cross-fades the overlaps back into one stream;
- :func:`retime` raises (or lowers) the frame rate by interpolating between frames;
- :func:`fit_native` picks a native size with the request's shape; ``media.fit.cover`` then
  fills the requested size from it (Lanczos, centre crop).

Every function streams: no more than a few frames are held at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "FrameRule",
    "Interpolation",
    "SegmentPlan",
    "crossfade",
    "fit_native",
    "plan_segments",
    "retime",
    "stitch",
]

Frame = npt.NDArray[np.uint8]
Interpolation = Literal["flow", "blend"]
"""How in-between frames are made: ``flow`` warps both neighbours along the optical flow
between them (motion stays sharp); ``blend`` mixes them (cheaper, ghosts on fast motion)."""


@dataclass(frozen=True, slots=True)
class FrameRule:
    """The frame counts a family accepts: ``step * k + 1`` (the VAE packs ``step`` frames into
    one latent frame after the first).

    Attributes:
        step: 8 for LTX-Video, 4 for Wan, CogVideoX and HunyuanVideo.
    """

    step: int

    def is_valid(self, frames: int) -> bool:
        """Whether a pipeline takes ``frames`` as it is."""
        return frames >= 1 and (frames - 1) % self.step == 0

    def normalise(self, frames: int) -> int:
        """The smallest valid count that is at least ``frames`` (never fewer than asked).

        Pipelines given another count pad, crop or warn; rounding up here keeps every frame
        the request needs and lets the caller drop the extra ones at the end.
        """
        if frames <= 1:
            return 1
        return self.step * math.ceil((frames - 1) / self.step) + 1

    def largest_within(self, limit: int) -> int:
        """The largest valid count that is at most ``limit``."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1; got {limit}")
        return self.step * ((limit - 1) // self.step) + 1


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """How one clip is made from model calls.

    Attributes:
        frames: Frames each call makes (each valid under the family's rule).
        overlap: Frames each call after the first shares with the one before it; they are
            cross-faded, and the next call is conditioned on the first of them.
    """

    frames: tuple[int, ...]
    overlap: int

    @property
    def total(self) -> int:
        """Frames of the stitched clip."""
        return sum(self.frames) - self.overlap * (len(self.frames) - 1)


def plan_segments(needed: int, max_frames: int, rule: FrameRule, overlap: int) -> SegmentPlan:
    """Splits ``needed`` native frames into calls of at most ``max_frames`` frames.

    One call when the family can make the clip natively; otherwise full-length calls that
    each repeat the last ``overlap`` frames of the one before, and a last call only as long
    as what is left needs.

    Raises:
        ValueError: ``overlap`` leaves a call no new frames.
    """
    longest = rule.largest_within(max_frames)
    single = rule.normalise(needed)
    if single <= longest:
        return SegmentPlan((single,), 0)
    if not 0 <= overlap < longest - 1:
        raise ValueError(f"overlap {overlap} must be below {longest - 1} frames per call")
    frames = [longest]
    made = longest
    while made < needed:
        call = min(longest, rule.normalise(needed - made + overlap))
        frames.append(call)
        made += call - overlap
    return SegmentPlan(tuple(frames), overlap)


def crossfade(tail: Sequence[Frame], head: Sequence[Frame]) -> Iterator[Frame]:
    """Blends the end of one segment into the start of the next, frame by frame.

    The weight of the new segment rises linearly over the overlap, so neither cut shows.
    """
    count = min(len(tail), len(head))
    for index in range(count):
        weight = (index + 1) / (count + 1)
        mixed = tail[index].astype(np.float32) * (1.0 - weight) + head[index] * weight
        yield np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def stitch(segments: Iterable[Sequence[Frame]], overlap: int) -> Iterator[Frame]:
    """Joins segments that share ``overlap`` frames into one stream, cross-fading each join.

    The last ``overlap`` frames of a segment are held back until the next one arrives (or
    the segments end), so segments are consumed lazily: the next model call starts only
    after the frames before it have been taken.
    """
    held: list[Frame] = []
    for segment in segments:
        frames = list(segment)
        if held:
            yield from crossfade(held, frames[: len(held)])
            frames = frames[len(held) :]
        if overlap and len(frames) > overlap:
            held = frames[-overlap:]
            frames = frames[:-overlap]
        else:
            held = []
        yield from frames
    yield from held


def _flow_between(a: Frame, b: Frame) -> npt.NDArray[np.float32]:
    """Dense optical flow from ``a`` to ``b`` (Farneback; pixels, shape (H, W, 2))."""
    grey_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    grey_b = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    flow = np.zeros((*grey_a.shape, 2), dtype=np.float32)
    found = cv2.calcOpticalFlowFarneback(grey_a, grey_b, flow, 0.5, 3, 15, 3, 5, 1.2, 0)
    return np.asarray(found, dtype=np.float32)


def _warp_mix(a: Frame, b: Frame, flow: npt.NDArray[np.float32], weight: float) -> Frame:
    """The frame ``weight`` of the way from ``a`` to ``b``, each warped along ``flow``."""
    height, width = a.shape[:2]
    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    from_a = cv2.remap(
        a,
        grid_x - weight * flow[..., 0],
        grid_y - weight * flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    from_b = cv2.remap(
        b,
        grid_x + (1.0 - weight) * flow[..., 0],
        grid_y + (1.0 - weight) * flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    mixed = from_a.astype(np.float32) * (1.0 - weight) + from_b.astype(np.float32) * weight
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def retime(
    frames: Iterable[Frame],
    source_fps: float,
    target_fps: float,
    count: int,
    method: Interpolation = "flow",
) -> Iterator[Frame]:
    """Yields ``count`` frames at ``target_fps`` from a stream made at ``source_fps``.

    Output frame ``i`` shows time ``i / target_fps``. When that falls between two source
    frames it is interpolated (``method``); a rate at or below the source's picks the
    nearest source frame instead (mixing would only blur). Past the end of the source the
    last frame is held. Every yielded frame is a fresh array.
    """
    source = iter(frames)
    ratio = source_fps / target_fps
    upsampling = ratio < 1.0
    current = next(source, None)
    if current is None:
        return
    following = next(source, None)
    position = 0  # index of ``current`` in the source
    flow: npt.NDArray[np.float32] | None = None
    for index in range(count):
        at = index * ratio if upsampling else round(index * ratio)
        while following is not None and at >= position + 1:
            current, following = following, next(source, None)
            position += 1
            flow = None
        weight = at - position
        if following is None or weight < 1e-6:
            yield current.copy()
        elif method == "blend":
            mixed = current.astype(np.float32) * (1.0 - weight) + following * weight
            yield np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        else:
            if flow is None:
                flow = _flow_between(current, following)
            yield _warp_mix(current, following, flow, weight)


def fit_native(
    native_width: int, native_height: int, multiple: int, width: int, height: int
) -> tuple[int, int]:
    """The size to generate at: the request's shape, no more pixels than the model's native
    size (nor than the request), each side a multiple of ``multiple``.

    A model is trained around one pixel count; keeping the count and taking the request's
    aspect ratio means the final scale changes size but crops almost nothing.
    """
    area = min(native_width * native_height, width * height)
    aspect = width / height
    fit_w = max(multiple, int(math.sqrt(area * aspect)) // multiple * multiple)
    fit_h = max(multiple, int(math.sqrt(area / aspect)) // multiple * multiple)
    return fit_w, fit_h
