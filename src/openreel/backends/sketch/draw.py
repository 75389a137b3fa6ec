"""Drawing primitives for the sketch engine: anti-aliased polygons, alpha sprites, the camera.

OpenCV does the rasterising (``fillPoly`` with ``LINE_AA`` and 4 bits of sub-pixel precision)
because it is a maintained C++ library with anti-aliased scanline fills that touch only the
covered pixels; doing the same in numpy would cost a full-frame float pass per shape. Alpha
sprites are stored premultiplied so a blit is two saturating OpenCV operations on the covered
rectangle only. Soft things never end at that rectangle: a sprite's alpha is nil (rounded to
nothing) at its border, and soft polygons blur their coverage on a canvas padded by the blur.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "CameraState",
    "Points",
    "Sprite",
    "blend_poly",
    "fill_each",
    "fill_poly",
    "glow_radius",
    "radial_sprite",
    "soft_poly",
    "stroke",
]

Points = npt.NDArray[np.float64]
"""An (N, 2) array of screen coordinates in pixels, x then y."""

_SHIFT = 4
_SCALE = float(1 << _SHIFT)


def _fixed(points: Points) -> npt.NDArray[np.int32]:
    return np.round(points * _SCALE).astype(np.int32)


def _fixed_all(polys: list[Points] | Points) -> list[npt.NDArray[np.int32]]:
    """Converts many shapes at once; an (N, k, 2) array costs one numpy call, not N."""
    if isinstance(polys, np.ndarray):
        return list(np.round(polys * _SCALE).astype(np.int32))
    return [_fixed(p) for p in polys]


def fill_poly(
    frame: npt.NDArray[np.uint8], polys: list[Points] | Points, color: tuple[int, int, int]
) -> None:
    """Fills polygons with an opaque colour, anti-aliased, with sub-pixel precision."""
    if len(polys):
        cv2.fillPoly(frame, _fixed_all(polys), color, cv2.LINE_AA, _SHIFT)


def fill_each(
    frame: npt.NDArray[np.uint8], polys: list[Points], color: tuple[int, int, int]
) -> None:
    """Fills overlapping polygons one by one: one ``fill_poly`` of several fills even-odd, so
    where parts of one body overlap it would leave holes."""
    for poly in polys:
        cv2.fillPoly(frame, [_fixed(poly)], color, cv2.LINE_AA, _SHIFT)


def stroke(
    frame: npt.NDArray[np.uint8],
    lines: list[Points] | Points,
    color: tuple[int, int, int],
    thickness: int = 1,
) -> None:
    """Draws open polylines, anti-aliased; ``lines`` may be one (N, k, 2) array."""
    if len(lines):
        cv2.polylines(frame, _fixed_all(lines), False, color, thickness, cv2.LINE_AA, _SHIFT)


def blend_poly(
    frame: npt.NDArray[np.uint8],
    polys: list[Points],
    color: tuple[int, int, int],
    alpha: float,
) -> None:
    """Fills polygons with a translucent colour; only their bounding box is touched."""
    if not polys or alpha <= 0:
        return
    allp = np.concatenate(polys)
    h, w = frame.shape[:2]
    x0 = max(0, math.floor(float(allp[:, 0].min())) - 1)
    y0 = max(0, math.floor(float(allp[:, 1].min())) - 1)
    x1 = min(w, math.ceil(float(allp[:, 0].max())) + 2)
    y1 = min(h, math.ceil(float(allp[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    roi = frame[y0:y1, x0:x1]
    layer = roi.copy()
    offset = np.array([x0, y0], dtype=np.float64)
    cv2.fillPoly(layer, [_fixed(p - offset) for p in polys], color, cv2.LINE_AA, _SHIFT)
    cv2.addWeighted(layer, alpha, roi, 1.0 - alpha, 0.0, dst=roi)


def soft_poly(
    frame: npt.NDArray[np.uint8],
    polys: list[Points],
    color: tuple[int, int, int],
    alpha: float,
    feather: float,
    fade: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> None:
    """Fills polygons with a translucent colour whose edges blur over ``feather`` pixels.

    For soft things (light shafts, smoke): a flat fill would show their outline as a hard
    step. The coverage is drawn and blurred at a quarter of the resolution (soft anyway,
    and 16 times fewer pixels), on a canvas padded by the blur's reach, so nothing is cut
    at the shape's box; shapes past the frame edge are drawn too, so they blur in from it.
    ``fade`` = (a, b) in screen pixels also lowers the opacity from full at ``a`` to nothing
    at ``b`` (a beam dying out along its length instead of ending in a line).
    """
    if not polys or alpha <= 0:
        return
    feather = max(feather, 1.0)
    allp = np.concatenate(polys)
    h, w = frame.shape[:2]
    q = 4 if feather >= 4 else 1  # pyrUp doubles: q must be a power of two
    pad = math.ceil(3 * feather) + 2 * q
    # The canvas: the shapes' box grown by the blur's reach, but never further than that
    # reach past the frame (what lies beyond cannot show).
    cx0 = max(math.floor(float(allp[:, 0].min())) - pad, -pad)
    cy0 = max(math.floor(float(allp[:, 1].min())) - pad, -pad)
    cx1 = min(math.ceil(float(allp[:, 0].max())) + pad, w + pad)
    cy1 = min(math.ceil(float(allp[:, 1].max())) + pad, h + pad)
    x0, y0, x1, y1 = max(0, cx0), max(0, cy0), min(w, cx1), min(h, cy1)
    if x1 <= x0 or y1 <= y0:
        return
    lw, lh = -(-(cx1 - cx0) // q), -(-(cy1 - cy0) // q)
    coverage = np.zeros((lh, lw), np.float32)
    # pyrUp twice doubles the canvas twice (low pixel i lands on full pixel 4i) with a
    # smooth kernel, several times faster than a linear resize of the same size.
    origin = np.array([cx0, cy0], dtype=np.float64)
    cv2.fillPoly(coverage, [_fixed((p - origin) / q) for p in polys], 1.0, cv2.LINE_AA, _SHIFT)
    coverage = cv2.GaussianBlur(coverage, (0, 0), feather / q, borderType=cv2.BORDER_REPLICATE)
    if fade is not None:
        (ax, ay), (bx, by) = fade
        dx, dy = (bx - ax) / q, (by - ay) / q
        gx = (np.arange(lw, dtype=np.float32) * q + cx0 - ax) / q
        gy = (np.arange(lh, dtype=np.float32) * q + cy0 - ay) / q
        along = (gx[None, :] * dx + gy[:, None] * dy) / max(dx * dx + dy * dy, 1e-9)
        # 1 - u^2: bright for most of the way, flat at ``a``, gone at ``b``.
        coverage *= (1.0 - np.clip(along, 0.0, 1.0) ** 2).astype(np.float32)
    level = np.clip(np.rint(coverage * (255.0 * alpha)), 0, 255).astype(np.uint8)
    full = level
    while full.shape[0] < cy1 - cy0 or full.shape[1] < cx1 - cx0:
        full = cv2.pyrUp(full)
    # Blend band by band, each over only the rows it covers: a beam or a wedge fills about
    # half of its box, and the blend is the costly part.
    band = 32 * q
    shade = (*color, 0)
    for bx0 in range(x0, x1, band):
        bx1 = min(x1, bx0 + band)
        lo0, lo1 = (bx0 - cx0) // q, -(-(bx1 - cx0) // q)
        rows = np.flatnonzero(level[:, max(0, lo0 - 2) : lo1 + 2].any(axis=1))
        if rows.size == 0:
            continue
        by0 = max(y0, cy0 + int(rows[0]) * q - 2 * q)
        by1 = min(y1, cy0 + int(rows[-1]) * q + 3 * q)
        if by1 <= by0:
            continue
        a = full[by0 - cy0 : by1 - cy0, bx0 - cx0 : bx1 - cx0]
        a3 = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_GRAY2RGB)
        roi = frame[by0:by1, bx0:bx1]
        cv2.multiply(roi, cv2.bitwise_not(a3), dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, cv2.multiply(a3, shade, scale=1.0 / 255.0), dst=roi)


@dataclass(frozen=True, slots=True)
class Sprite:
    """A premultiplied RGBA image that can be blitted or added onto frames cheaply.

    Attributes:
        premultiplied: Colour times alpha, (h, w, 3) uint8.
        inverse_alpha: 255 minus alpha on every channel, (h, w, 3) uint8; ``None`` for a
            purely additive sprite (glows, light).
    """

    premultiplied: npt.NDArray[np.uint8]
    inverse_alpha: npt.NDArray[np.uint8] | None

    ALPHA_EPSILON: ClassVar[float] = 0.5 / 255
    """Alpha below this rounds to a sprite pixel that leaves the frame exactly as it was."""

    @classmethod
    def from_rgba(cls, color: npt.NDArray[np.float32], alpha: npt.NDArray[np.float32]) -> Sprite:
        """Builds a sprite from float colour (h, w, 3) in 0..255 and alpha (h, w) in 0..1.

        Both planes are rounded, not truncated: truncation turned every faint pixel at a soft
        edge into at least one level of darkening, so a sprite's rectangle showed as a line.
        """
        a = np.clip(alpha, 0.0, 1.0)[..., None]
        pre = np.clip(np.rint(color * a), 0, 255).astype(np.uint8)
        inv = np.repeat(np.clip(np.rint(255.0 * (1.0 - a)), 0, 255).astype(np.uint8), 3, axis=2)
        return cls(np.ascontiguousarray(pre), np.ascontiguousarray(inv))

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.premultiplied.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.premultiplied.shape[0])

    def blit(self, frame: npt.NDArray[np.uint8], cx: float, cy: float) -> None:
        """Composites the sprite centred on (cx, cy), clipped to the frame."""
        fh, fw = frame.shape[:2]
        x0 = round(cx - self.width / 2)
        y0 = round(cy - self.height / 2)
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(fw, x0 + self.width), min(fh, y0 + self.height)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        sx0, sy0 = fx0 - x0, fy0 - y0
        sx1, sy1 = sx0 + (fx1 - fx0), sy0 + (fy1 - fy0)
        roi = frame[fy0:fy1, fx0:fx1]
        if self.inverse_alpha is not None:
            cv2.multiply(roi, self.inverse_alpha[sy0:sy1, sx0:sx1], dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, self.premultiplied[sy0:sy1, sx0:sx1], dst=roi)


@functools.lru_cache(maxsize=128)
def radial_sprite(
    radius: int, color: tuple[int, int, int], strength: float, falloff: float = 2.2
) -> Sprite:
    """An additive round glow (sun, moon, lamps), brightest in the centre.

    Cached: lamps and headlights ask for the same glow every frame, and building one costs
    more than drawing it. Callers round ``radius`` (see :func:`glow_radius`) so a slowly
    zooming camera still hits the cache. Sprites are never modified after creation.
    """
    size = 2 * radius + 1
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float32)
    r = np.sqrt(xx * xx + yy * yy) / max(radius, 1)
    intensity = np.clip(1.0 - r, 0.0, 1.0) ** falloff * strength
    rgb = np.empty((size, size, 3), np.float32)
    for c in range(3):
        rgb[..., c] = color[c] * intensity
    return Sprite(np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8)), None)


def glow_radius(pixels: float, step: int = 4) -> int:
    """Rounds a glow radius to a multiple of ``step`` pixels (at least ``step``)."""
    return max(step, step * round(pixels / step))


@dataclass(frozen=True, slots=True)
class CameraState:
    """Where the camera is at one frame; maps world coordinates to screen pixels per layer.

    World coordinates are in units of the frame height, centred on the frame: x grows to the
    right, y grows downward, so (0, 0) is the centre of the frame at the start of the clip.
    A layer's ``depth`` (0 = at infinity, 1 = nearest) scales how much camera motion moves it,
    which gives parallax.

    Attributes:
        width: Frame width in pixels.
        height: Frame height in pixels.
        x: Camera position to the right, in world units at depth 1.
        y: Camera position downward, in world units at depth 1 (negative = risen).
        zoom: Magnification at depth 1 (push-in > 1).
        tilt: Uniform vertical shift of everything, in world units (tilt up > 0 moves
            content down).
    """

    width: int
    height: int
    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0
    tilt: float = 0.0

    def scale(self, depth: float) -> float:
        """Pixels per world unit for a layer at ``depth``.

        Near layers grow faster than far ones (a dolly, not a zoom lens), but far layers still
        grow a little so a push-in reads as one even over open sky.
        """
        return float(self.height * self.zoom ** (0.35 + 0.65 * depth))

    def to_screen(
        self, xs: Points | float, ys: Points | float, depth: float
    ) -> tuple[Points, Points]:
        """Maps world (x, y) on a layer at ``depth`` to screen pixels."""
        s = self.scale(depth)
        sx = self.width / 2 + (np.asarray(xs) - self.x * depth) * s
        sy = self.height / 2 + (np.asarray(ys) - self.y * depth + self.tilt) * s
        return sx, sy

    def world_x(self, screen_x: Points, depth: float) -> Points:
        """The world x on a layer at ``depth`` that lands on screen column ``screen_x``."""
        return (screen_x - self.width / 2) / self.scale(depth) + self.x * depth

    def points(self, xy: Points, depth: float) -> Points:
        """Maps an (N, 2) array of world points to an (N, 2) array of screen points."""
        sx, sy = self.to_screen(xy[:, 0], xy[:, 1], depth)
        return np.stack([sx, sy], axis=1)
