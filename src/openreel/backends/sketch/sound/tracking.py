"""Where a sounding thing is on screen, frame by frame, as pan, nearness and pitch per sample.

Positions come from the subject drawers' own position functions and the renderer's own camera,
so a car is heard where it is drawn. Controls are computed once per picture frame and
interpolated to samples: cheap, and smooth enough that nothing steps audibly between frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.render import SceneRenderer

__all__ = ["Frames", "Lerp", "Track", "edge_fade", "placement"]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Lerp:
    """Linear interpolation from a uniform grid to the window's samples, set up once.

    ``np.interp`` searches the grid for every sample; on a uniform grid the cell and the
    fraction are one multiply away, and every control signal of a window shares them.
    """

    index: npt.NDArray[np.int32]
    frac: F32

    @classmethod
    def build(cls, t: F64, step: float, points: int) -> Lerp:
        """For sample times ``t`` over a grid of ``points`` values at 0, step, 2 step..."""
        where = t / step
        index = np.clip(np.floor(where), 0, max(points - 2, 0)).astype(np.int32)
        return cls(index, np.clip(where - index, 0.0, 1.0).astype(np.float32))

    def __call__(self, values: npt.ArrayLike) -> F32:
        """The grid's ``values`` at each sample, in single precision."""
        v = np.asarray(values, np.float32)
        if v.size < 2:
            return np.full(self.index.shape, v[0] if v.size else 0.0, np.float32)
        out = np.diff(v)[self.index]
        out *= self.frac
        out += v[self.index]
        return out


@dataclass(frozen=True, slots=True)
class Frames:
    """Picture frames from 0 to just past the window, with their camera, and sample times."""

    renderer: SceneRenderer
    times: F64
    """Seconds of each frame from frame 0 (one frame past the window's end)."""
    cameras: list[CameraState]
    t: F64
    """Absolute seconds of each sample in the window."""
    lerp: Lerp
    """Frame values to samples."""

    cache: dict[tuple[object, ...], tuple[F64, F64]]
    """Per-frame screen positions already worked out, by source (shared by every window)."""

    @classmethod
    def build(cls, renderer: SceneRenderer, until: float) -> Frames:
        """Frames 0 .. the one just after ``until`` seconds; no window yet (see :meth:`at`)."""
        fps = float(renderer.fps)
        last = math.ceil(until * fps) + 1
        last_index = max(renderer.frames - 1, 0)
        cameras = [renderer.camera(min(i, last_index)) for i in range(last + 1)]
        times = np.arange(last + 1, dtype=np.float64) / fps
        empty = np.zeros(0)
        return cls(renderer, times, cameras, empty, Lerp.build(empty, 1.0, 2), {})

    def at(self, t: F64) -> Frames:
        """The same frames, for the window of samples at absolute seconds ``t``."""
        lerp = Lerp.build(t, float(self.times[1] - self.times[0]), self.times.size)
        return Frames(self.renderer, self.times, self.cameras, t, lerp, self.cache)

    def screen(
        self,
        where: Callable[[float, CameraState], tuple[float, float, float]],
        key: tuple[object, ...],
    ) -> tuple[F64, F64]:
        """Screen position in -1 (left edge) .. 1 (right edge) and nearness, per frame.

        ``where`` maps seconds (and the camera then) to the world (x, y, depth) of the thing; nearness is its scale
        on screen relative to the start of an unmoved camera, so a push-in brings it closer.
        """
        if key in self.cache:
            return self.cache[key]
        width = float(self.renderer.width)
        height = float(self.renderer.height)
        pos = np.empty(self.times.size)
        near = np.empty(self.times.size)
        for i, (tm, cam) in enumerate(zip(self.times.tolist(), self.cameras, strict=True)):
            x, y, depth = where(tm, cam)
            sx, _ = cam.to_screen(x, y, depth)
            pos[i] = float(sx) / width * 2.0 - 1.0
            near[i] = cam.scale(depth) / height
        self.cache[key] = (pos, near)
        return pos, near


def edge_fade(pos: F64, reach: float = 0.7) -> F64:
    """1 on screen, falling to 0 by ``reach`` screen half-widths beyond an edge."""
    return np.asarray(np.clip(1.0 - (np.abs(pos) - 1.0) / reach, 0.0, 1.0) ** 2)


def placement(pos: F64, near: F64, floor: float = 0.0) -> tuple[F64, F64]:
    """Per frame: pan in -0.9..0.9 and gain (nearness, fading off screen to ``floor``)."""
    return np.clip(pos, -1.0, 1.0) * 0.9, near * np.maximum(edge_fade(pos), floor)


@dataclass(frozen=True, slots=True)
class Track:
    """Per-sample left and right gains and the pitch phase of one moving source."""

    left: F32
    right: F32
    cycles: F64
    """Integral of the pitch ratio over time (seconds): times a base frequency, the phase in
    cycles, continuous from frame 0."""
    audible: bool
    """Whether it is heard at all in the window; if not, the arrays are empty."""

    @classmethod
    def follow(cls, frames: Frames, pos: F64, near: F64, pitched: bool = True) -> Track:
        """Pans with the position, fades off screen, and pitches up while approaching
        (``cycles`` is left empty when not ``pitched``).

        Gains are panned at frame rate and interpolated, so a sample costs two lookups, not
        a cosine and a sine.
        """
        fps = float(frames.renderer.fps)
        pan, gain = placement(pos, near)
        angle = (pan + 1.0) * (math.pi / 4)
        lerp = frames.lerp
        if lerp.index.size == 0 or not gain[lerp.index[0] : lerp.index[-1] + 2].any():
            # Off screen for the whole window (a car round the back of its loop): skip it.
            empty = np.zeros(0, np.float32)
            return cls(empty, empty, np.zeros(0), False)
        left, right = lerp(gain * np.cos(angle)), lerp(gain * np.sin(angle))
        if not pitched:
            return cls(left, right, np.zeros(0), True)
        velocity = np.gradient(pos) * fps if pos.size > 1 else np.zeros_like(pos)
        radius = np.sqrt(pos * pos + 0.3)
        closing = np.clip(pos * velocity / radius, -3.0, 3.0)
        pitch = 1.0 / (1.0 + 0.06 * closing)
        cum = np.concatenate([[0.0], np.cumsum((pitch[1:] + pitch[:-1]) / 2) / fps])
        # The phase stays in double precision: it grows with time and feeds an oscillator.
        cycles = cum[lerp.index] + (cum[lerp.index + 1] - cum[lerp.index]) * lerp.frac
        return cls(left, right, cycles, True)
