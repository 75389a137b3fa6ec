"""Animals: a flock of birds, a whale and a school of fish.

Birds and fish are drawn as one flock or school, larger for a larger count, which is why the
vocabulary lists them as flocks.
"""

from __future__ import annotations

import math

from openreel.backends.sketch.draw import CameraState, blend_poly, fill_poly, stroke
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.plan import Setting
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Birds", "Fish", "Whale"]


class Birds(SubjectDrawer):
    """A flock that flaps across the sky."""

    def setup(self) -> None:
        n = 5 + 3 * self.count + int(self.rng.integers(0, 4))
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [
            (
                float(self.rng.uniform(-0.25, 0.25)),
                float(self.rng.uniform(-0.08, 0.08)),
                float(self.rng.uniform(0.018, 0.03)),
            )
            for _ in range(n)
        ]
        self.start = -self.direction * 0.3 * self.stage.aspect + self.stage.lead
        self.height = float(self.rng.uniform(-0.32, -0.15))

    flock_depth = 0.3
    """Layer depth the flock flies on."""

    def flock_x(self, t: float) -> float:
        """World x of the flock's centre at time ``t`` (where the soundscape's birdsong is)."""
        return self.start + self.direction * t * 0.07 * self.stage.speed

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        color = mix(pal.silhouette, (20, 20, 26), 0.5)
        lines = []
        thickness = max(1, round(cam.height / 400))
        for i, (dx, dy, size) in enumerate(self.slots):
            phase = t * 7.0 * self.stage.speed + i * 0.9
            flap = math.sin(phase)
            x = self.flock_x(t) + dx + 0.01 * math.sin(t + i)
            y = self.height + dy + 0.006 * math.sin(phase * 0.5 + i)
            wing = vertices(
                [
                    (-1.0, -0.2 + 0.7 * flap),
                    (-0.45, -0.35 + 0.2 * flap),
                    (0.0, 0.0),
                    (0.45, -0.35 + 0.2 * flap),
                    (1.0, -0.2 + 0.7 * flap),
                ]
            )
            lines.append(cam.points(place(wing, x, y, size), self.flock_depth))
        stroke(frame, lines, color, thickness)


class Whale(SubjectDrawer):
    """A whale: a tail that rises and slaps at sea, a slow swimmer underwater."""

    def setup(self) -> None:
        self.underwater = self.stage.setting is Setting.UNDERWATER
        x = float(self.rng.uniform(-0.3, 0.3)) + self.stage.lead
        self.slots = [
            (x, 0.05 if self.underwater else HORIZON + 0.1, 0.35 if self.underwater else 0.12)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, size = self.slots[0]
        body_color = pal.lit((58, 70, 92), 0.3)
        if self.underwater:
            sway = math.sin(t * 1.6 * self.stage.speed) * 0.12
            ax = x - 0.4 + t * 0.03 * self.stage.speed
            body = vertices(
                [
                    (-1.0, 0.0),
                    (-0.7, -0.22),
                    (0.0, -0.3),
                    (0.7, -0.15),
                    (1.05, -0.02 + sway * 0.3),
                    (0.7, 0.08),
                    (0.0, 0.2),
                    (-0.75, 0.16),
                ]
            )
            tail = vertices(
                [(1.0, -0.02), (1.35, -0.2 + sway), (1.25, 0.0 + sway * 0.5), (1.35, 0.18 + sway)]
            )
            fin = vertices([(-0.3, 0.12), (-0.1, 0.4), (0.0, 0.15)])
            fill_poly(
                frame,
                [cam.points(place(p, ax, y, size, flip=True), 0.5) for p in (body, tail, fin)],
                body_color,
            )
            return
        cycle = (t * 0.25 * self.stage.speed) % 1.0
        rise = max(0.0, math.sin(cycle * 2 * math.pi))
        depth = 0.5
        if rise > 0.01:
            stock = vertices([(-0.08, 0.0), (0.08, 0.0), (0.05, -0.5), (-0.05, -0.5)])
            flukes = vertices(
                [
                    (0.0, -0.48),
                    (0.55, -0.75),
                    (0.35, -0.5),
                    (0.0, -0.56),
                    (-0.35, -0.5),
                    (-0.55, -0.75),
                ]
            )
            pts = [place(p, x, y, size) for p in (stock, flukes)]
            for p in pts:
                p[:, 1] = y + (p[:, 1] - y) * rise
            fill_poly(frame, [cam.points(p, depth) for p in pts], body_color)
            foam = mix(pal.sun, (255, 255, 255), 0.5)
            ring = ellipse(x, y, 0.12 * size * 3 * (0.5 + rise), 0.01, 20)
            blend_poly(frame, [cam.points(ring, depth)], foam, 0.4)


class Fish(SubjectDrawer):
    """A school of small fish weaving together."""

    def setup(self) -> None:
        n = 14 + 6 * self.count
        self.slots = [
            (
                float(self.rng.uniform(-0.3, 0.3)),
                float(self.rng.uniform(-0.12, 0.12)),
                float(self.rng.uniform(0, 6.28)),
            )
            for _ in range(n)
        ]
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.underwater = self.stage.setting is Setting.UNDERWATER
        self.center_y = 0.0 if self.underwater else HORIZON + 0.22

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        color = (
            pal.lit((236, 150, 60), 0.2)
            if self.underwater
            else mix(pal.water[-1].tolist(), (10, 20, 30), 0.4)
        )
        size = 0.03 if self.underwater else 0.02
        cx = (
            self.stage.lead
            - self.direction * 0.35 * self.stage.aspect
            + self.direction * t * 0.05 * self.stage.speed
        )
        polys = []
        for dx, dy, ph in self.slots:
            wig = math.sin(t * 2.0 * self.stage.speed + ph)
            x = cx + dx + 0.02 * wig
            y = self.center_y + dy + 0.015 * math.sin(t * 1.3 + ph)
            tail = 0.25 * math.sin(t * 12 * self.stage.speed + ph)
            body = vertices(
                [
                    (-0.5, 0.0),
                    (-0.1, -0.22),
                    (0.35, -0.1),
                    (0.5, 0.0),
                    (0.35, 0.1),
                    (-0.1, 0.22),
                    (-0.5, 0.0),
                    (-0.8, -0.25 + tail),
                    (-0.8, 0.25 + tail),
                ]
            )
            polys.append(cam.points(place(body, x, y, size, flip=self.direction < 0), 0.6))
        if self.underwater:
            fill_poly(frame, polys, color)
        else:
            blend_poly(frame, polys, color, 0.6)
