"""Celestial bodies: the moon and a ringed planet, far away and nearly still."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import CameraState, Points, blend_poly, fill_poly, radial_sprite
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.shapes import ellipse
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Moon", "Planet"]


class Moon(SubjectDrawer):
    """A large moon, pale by day and glowing by night."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.35, 0.35)) * self.stage.aspect
        self.slots = [(x, float(self.rng.uniform(-0.3, -0.18)), 0.1)]
        self.glow = radial_sprite(
            int(self.stage.palette.sky.shape[0] * 0.3),
            (230, 230, 215),
            0.25 + 0.4 * (1 - self.stage.palette.daylight),
        )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, r = self.slots[0]
        sx, sy = cam.to_screen(x, y, 0.05)
        self.glow.blit(frame, float(sx), float(sy))
        disc = mix(pal.sky[0].tolist(), (238, 236, 222), 0.35 + 0.65 * (1 - pal.daylight * 0.5))
        fill_poly(frame, [cam.points(ellipse(x, y, r, r, 48), 0.05)], disc)
        crater = mix(disc, (150, 150, 160), 0.35)
        craters = [
            ellipse(x + dx * r, y + dy * r, rr * r, rr * r, 16)
            for dx, dy, rr in (
                (-0.35, -0.2, 0.2),
                (0.3, 0.25, 0.15),
                (0.05, -0.45, 0.1),
                (-0.1, 0.45, 0.12),
            )
        ]
        fill_poly(frame, [cam.points(c, 0.05) for c in craters], crater)


class Planet(SubjectDrawer):
    """A ringed planet hanging in the sky."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.3, 0.3)) * self.stage.aspect
        self.slots = [
            (x, float(self.rng.uniform(-0.22, -0.1)), float(self.rng.uniform(0.12, 0.17)))
        ]
        self.tilt = float(self.rng.uniform(-0.35, -0.15))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, r = self.slots[0]
        depth = 0.06
        base = pal.graded((214, 170, 120))
        shade = mix(base, (20, 16, 30), 0.55)
        ring = pal.graded((230, 210, 170))
        a = np.linspace(0, 2 * math.pi, 64, endpoint=False)
        c, s = math.cos(self.tilt), math.sin(self.tilt)

        def ring_pts(rx: float, ry: float, sel: npt.NDArray[np.bool_]) -> Points:
            xs, ys = rx * np.cos(a[sel]), ry * np.sin(a[sel])
            return np.stack([x + xs * c - ys * s, y + xs * s + ys * c], axis=1)

        back = np.sin(a) < 0
        outer, inner = ring_pts(2.1 * r, 0.5 * r, back), ring_pts(1.5 * r, 0.34 * r, back)
        blend_poly(frame, [cam.points(np.concatenate([outer, inner[::-1]]), depth)], ring, 0.8)
        fill_poly(frame, [cam.points(ellipse(x, y, r, r, 56), depth)], base)
        crescent = np.concatenate(
            [ellipse(x, y, r, r, 56)[14:43], ellipse(x + 0.35 * r, y, r * 0.8, r, 56)[42:13:-1]]
        )
        blend_poly(frame, [cam.points(crescent, depth)], shade, 0.7)
        band = ellipse(x, y - 0.25 * r, r * 0.97, r * 0.08, 40)
        blend_poly(frame, [cam.points(band, depth)], mix(base, (160, 100, 70), 0.5), 0.5)
        front = ~back
        outer, inner = ring_pts(2.1 * r, 0.5 * r, front), ring_pts(1.5 * r, 0.34 * r, front)
        blend_poly(frame, [cam.points(np.concatenate([outer, inner[::-1]]), depth)], ring, 0.85)
