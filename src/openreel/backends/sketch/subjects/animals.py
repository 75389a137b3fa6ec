"""Animals of the sea and sky: a flock of birds, a whale, a school of fish and dolphins.

Birds and fish are drawn as one flock or school, larger for a larger count, which is why the
vocabulary lists them as flocks.
"""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import CameraState, blend_poly, fill_poly, stroke
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.plan import Action, Setting
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects.acting import Animal, wrap
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Birds", "Dolphin", "Fish", "Whale"]


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


class Dolphin(Animal):
    """Dolphins that leap out of the sea in arcs and dive back with a splash; underwater they
    swim across with a beating tail."""

    default_action = Action.SWIMMING
    actions = frozenset({Action.SWIMMING, Action.JUMPING, Action.PLAYING})
    _SHAPE = vertices(
        [
            (0.56, 0.03),
            (0.42, -0.06),
            (0.3, -0.11),
            (0.08, -0.15),
            (-0.02, -0.16),
            (-0.12, -0.32),
            (-0.14, -0.14),
            (-0.38, -0.06),
            (-0.5, -0.06),
            (-0.62, -0.16),
            (-0.56, 0.0),
            (-0.62, 0.12),
            (-0.48, 0.04),
            (-0.36, 0.04),
            (-0.1, 0.11),
            (0.02, 0.12),
            (0.08, 0.2),
            (0.14, 0.11),
            (0.36, 0.07),
            (0.5, 0.06),
        ]
    )
    _BELLY = vertices(
        [(0.5, 0.05), (0.3, 0.02), (0.0, 0.05), (-0.3, 0.03), (-0.1, 0.1), (0.36, 0.07)]
    )

    def setup(self) -> None:
        super().setup()
        self.underwater = self.stage.setting is Setting.UNDERWATER
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        width = min(0.8 * self.stage.aspect, 0.3 + 0.25 * self.count)
        for k, x in enumerate(self._spread(self.count, width)):
            v = float(self.rng.uniform(0.0, 1.0))
            y = float(self.rng.uniform(-0.15, 0.2)) if self.underwater else HORIZON + 0.1 + 0.12 * v
            self.slots.append((x, y, (0.12 if self.underwater else 0.09 + 0.06 * v)))
            del k
        self.phases = [float(self.rng.uniform(0, 1)) for _ in self.slots]
        self.slots.sort(key=lambda s: s[1])

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        sp = self.stage.speed
        body_color = pal.lit((104, 128, 150), 0.2)
        belly_color = pal.lit((214, 222, 228), 0.2)
        foam = mix(pal.sun, (255, 255, 255), 0.6)
        flip = self.direction < 0
        period = 1.8 if self.action is Action.PLAYING else 2.6
        for i, (x0, y, size) in enumerate(self.slots):
            depth = 0.7 if self.underwater else 0.3 + 0.6 * (y - HORIZON) / 0.22
            half = 0.5 * self.stage.aspect / cam.zoom + size
            xs = wrap(x0 + self.direction * 0.35 * size * t * sp * 3, cam.x * depth, half)
            if self.underwater:
                beat = math.sin(t * 6.0 * sp + i)
                shape = self._SHAPE.copy()
                shape[:, 1] += np.where(
                    shape[:, 0] < -0.3, beat * 0.12 * (-shape[:, 0] - 0.3) * 3, 0
                )
                yy = y + 0.01 * math.sin(t * 0.9 + i)
                angle = 0.05 * beat * (-1 if flip else 1)
                fill_poly(
                    frame, [cam.points(place(shape, xs, yy, size, angle, flip), depth)], body_color
                )
                continue
            u = ((t * sp / period) + self.phases[i]) % 1.0
            leap = 0.55  # share of the cycle spent in the air
            if u >= leap:
                # Under the surface: only the fin cuts the water, now and then.
                w = (u - leap) / (1 - leap)
                if 0.3 < w < 0.7:
                    fin = vertices([(0.06, 0.0), (-0.05, -0.16), (-0.14, 0.0)])
                    fx = xs + self.direction * (w - 0.5) * 0.3 * size
                    fill_poly(
                        frame, [cam.points(place(fin, fx, y, size, 0.0, flip), depth)], body_color
                    )
                continue
            a = u / leap
            span, height = 2.2 * size, 0.7 * size
            cx = xs + self.direction * (a - 0.5) * span
            cy = y - 4 * a * (1 - a) * height
            vy = -height * (4 - 8 * a)
            angle = math.atan2(vy, span) * (-1.0 if flip else 1.0)
            fill_poly(
                frame,
                [cam.points(place(self._SHAPE, cx, cy, size, angle, flip), depth)],
                body_color,
            )
            fill_poly(
                frame,
                [cam.points(place(self._BELLY, cx, cy, size, angle, flip), depth)],
                belly_color,
            )
            # Splashes where it leaves the water and where it dives back in.
            for edge, k in ((a, -0.5), (1 - a, 0.5)):
                if edge < 0.25:
                    r = (0.25 - edge) * 4
                    sx = xs + self.direction * k * span
                    ring = ellipse(
                        sx, y - 0.004, 0.25 * size * (0.6 + r), 0.05 * size * r + 0.003, 18
                    )
                    drops = [
                        ellipse(
                            sx + d * 0.12 * size,
                            y - r * 0.18 * size * (1 - abs(d)),
                            0.02 * size,
                            0.02 * size,
                            8,
                        )
                        for d in (-0.6, 0.0, 0.6)
                    ]
                    for p in (ring, *drops):
                        blend_poly(frame, [cam.points(p, depth)], foam, 0.6 * r)
