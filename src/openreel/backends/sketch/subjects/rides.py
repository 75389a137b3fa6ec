"""Things people ride on the ground: bicycles and motorcycles, each with its rider.

A bicycle in a prompt is nearly always ridden ("a cyclist", "riding a bike"), so each one
carries a rider drawn by :func:`~openreel.backends.sketch.subjects.people.draw_rider`; the
registry lets that rider stand for one of the prompt's people. Wheels turn with the distance
covered and pedals drive the rider's feet, so the motion reads at any pace.
"""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import (
    CameraState,
    Points,
    fill_poly,
    glow_radius,
    radial_sprite,
    stroke,
)
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.people import draw_rider
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Bicycle", "Motorcycle", "Ridden"]

_COLORS = [(196, 40, 44), (36, 96, 188), (236, 190, 40), (40, 150, 96), (230, 230, 230)]


def _wheel(cx: float, cy: float, r: float, turn: float, spokes: int) -> list[Points]:
    """A rim and its spokes, turned by ``turn`` radians, in local units."""
    rim = ellipse(cx, cy, r, r, 24)
    lines = [np.concatenate([rim, rim[:1]])]
    for k in range(spokes):
        a = turn + k * math.pi / spokes
        lines.append(
            vertices(
                [
                    (cx - r * math.cos(a), cy - r * math.sin(a)),
                    (cx + r * math.cos(a), cy + r * math.sin(a)),
                ]
            )
        )
    return lines


class Ridden(SubjectDrawer):
    """Shared motion: riders cross the frame along the nearest ground, wrapping around."""

    speed = 0.1  # world units per second at normal pace
    size = 0.2  # height of the rider standing, world units
    rider_suit = False  # the riders are astronauts

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        for i in range(self.count):
            self.slots.append(
                (
                    float(i * 0.32 + self.rng.uniform(0, 0.12)),
                    0.0,
                    float(self.rng.uniform(0.9, 1.1)),
                )
            )
        self.colors = [int(c) for c in self.rng.integers(0, len(_COLORS), self.count)]

    def _where(self, off: float, pace: float, t: float) -> tuple[float, float]:
        """World x of one rider at ``t`` and the distance covered (turns the wheels)."""
        span = 2.4 * self.stage.aspect
        start = -0.45 * self.stage.aspect
        covered = t * self.speed * pace * self.stage.speed
        x = (start + off + covered + span / 2) % span - span / 2
        return self.direction * x + self.stage.lead, covered


class Bicycle(Ridden):
    """Cyclists pedalling along the nearest ground."""

    speed = 0.09

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        flip = self.direction < 0
        for i, (off, _, pace) in enumerate(self.slots):
            x, covered = self._where(off, pace, t)
            gy, depth = self.stage.ground_y(x)
            size = self.size
            r = 0.17
            turn = covered / (r * size)
            crank = turn * 0.5  # the gear: a pedal turn moves the wheel twice as far
            back, front, bb = (-0.27, -r), (0.27, -r), (0.0, -r)
            seat, bar = (-0.06, -0.5), (0.2, -0.53)
            frame_color = pal.lit(_COLORS[self.colors[i]], 0.0)
            dark = mix(pal.silhouette, (12, 12, 16), 0.4)
            thick = max(1, round(cam.scale(depth) * size * 0.035))
            wheels = _wheel(*back, r, turn, 3) + _wheel(*front, r, turn, 3)
            stroke(
                frame,
                [cam.points(place(w, x, gy, size, flip=flip), depth) for w in wheels],
                dark,
                thick,
            )
            tubes = [
                vertices([back, bb, seat, back]),
                vertices([bb, (0.17, -0.44), seat]),
                vertices([front, bar, (0.14, -0.55)]),
            ]
            stroke(
                frame,
                [cam.points(place(p, x, gy, size, flip=flip), depth) for p in tubes],
                frame_color,
                max(1, thick + 1),
            )
            pedals = tuple(
                (
                    bb[0] + 0.08 * math.cos(crank + k * math.pi),
                    bb[1] + 0.08 * math.sin(crank + k * math.pi),
                )
                for k in (0, 1)
            )
            # The rider's hip on the saddle; feet and hands relative to it.
            hip = (seat[0] - 0.02, seat[1] - 0.02)
            feet = tuple((px - hip[0], py - hip[1]) for px, py in pedals)
            hands = (bar[0] - hip[0], bar[1] - hip[1])
            wx = x + (hip[0] if not flip else -hip[0]) * size
            draw_rider(
                frame,
                cam,
                pal,
                (wx, gy + hip[1] * size),
                size * 0.82,
                depth,
                flip=flip,
                suit=self.rider_suit,
                feet=(
                    (feet[0][0] / 0.82, feet[0][1] / 0.82),
                    (feet[1][0] / 0.82, feet[1][1] / 0.82),
                ),
                hands=(hands[0] / 0.82, hands[1] / 0.82),
            )


class Motorcycle(Ridden):
    """Motorcycles riding fast along the nearest ground, headlamp on after dark."""

    speed = 0.22
    size = 0.2

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        flip = self.direction < 0
        for i, (off, _, pace) in enumerate(self.slots):
            x, covered = self._where(off, pace, t)
            gy, depth = self.stage.ground_y(x)
            size = self.size
            r = 0.15
            turn = covered / (r * size)
            bounce = 0.006 * math.sin(t * 17.0 + i)
            y = gy + bounce
            dark = mix(pal.silhouette, (12, 12, 16), 0.4)
            body_color = pal.lit(_COLORS[self.colors[i]], 0.0)
            for cx in (-0.3, 0.32):
                fill_poly(
                    frame,
                    [cam.points(place(ellipse(cx, -r, r, r, 20), x, y, size, flip=flip), depth)],
                    dark,
                )
            hub = mix(dark, (200, 200, 210), 0.5)
            thick = max(1, round(cam.scale(depth) * size * 0.03))
            spokes = [w for cx in (-0.3, 0.32) for w in _wheel(cx, -r, r * 0.55, turn, 2)[1:]]
            stroke(
                frame,
                [cam.points(place(w, x, y, size, flip=flip), depth) for w in spokes],
                hub,
                thick,
            )
            body = vertices(
                [
                    (-0.36, -0.26),
                    (-0.1, -0.3),
                    (0.02, -0.42),
                    (0.2, -0.4),
                    (0.3, -0.26),
                    (0.05, -0.2),
                    (-0.25, -0.2),
                ]
            )
            engine = vertices([(-0.08, -0.22), (0.12, -0.22), (0.1, -0.1), (-0.06, -0.1)])
            fork = vertices([(0.32, -r), (0.22, -0.44), (0.16, -0.5)])
            fill_poly(
                frame,
                [cam.points(place(p, x, y, size, flip=flip), depth) for p in (body, engine)],
                body_color,
            )
            stroke(
                frame,
                [cam.points(place(fork, x, y, size, flip=flip), depth)],
                dark,
                max(1, thick + 1),
            )
            hip = (-0.12, -0.38)
            wx = x + (hip[0] if not flip else -hip[0]) * size
            draw_rider(
                frame,
                cam,
                pal,
                (wx, y + hip[1] * size),
                size * 0.85,
                depth,
                flip=flip,
                suit=self.rider_suit,
                feet=((0.12 / 0.85, 0.2 / 0.85), (0.1 / 0.85, 0.22 / 0.85)),
                hands=((0.16 - hip[0]) / 0.85, (-0.5 - hip[1]) / 0.85),
            )
            if pal.windows > 0.3:
                lamp = cam.points(place(vertices([(0.24, -0.42)]), x, y, size, flip=flip), depth)[0]
                radial_sprite(glow_radius(cam.scale(depth) * size * 0.4), pal.accent, 0.9).blit(
                    frame, float(lamp[0]), float(lamp[1])
                )
