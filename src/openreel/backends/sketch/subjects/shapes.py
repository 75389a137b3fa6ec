"""Shapes in a subject's local coordinates, and placing them in the world.

Every drawer describes its parts in units of its own size, origin at its base and y pointing
down, so a shape is written once and drawn at any size, position, angle and facing.
"""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import Points

__all__ = ["ellipse", "place", "vertices"]


def vertices(points: list[tuple[float, float]]) -> Points:
    """A polygon, polyline or single point from ``(x, y)`` pairs."""
    return np.array(points, dtype=np.float64)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 28) -> Points:
    """``n`` points around an ellipse centred on ``(cx, cy)`` with radii ``rx`` and ``ry``."""
    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def place(
    local: Points, x: float, y: float, size: float, angle: float = 0.0, flip: bool = False
) -> Points:
    """Puts a local shape in the world: mirrored if ``flip``, turned by ``angle``, scaled, moved."""
    pts = local.copy()
    if flip:
        pts[:, 0] = -pts[:, 0]
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        pts = pts @ np.array([[c, s], [-s, c]])
    placed: Points = pts * size + np.array([x, y])
    return placed
