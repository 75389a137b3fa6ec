"""Buildings: things that stand on the ground and stay put.

The lighthouse, houses, castle and windmills never move; only their beam, smoke, flags and sails
do.
"""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import (
    CameraState,
    fill_poly,
    glow_radius,
    radial_sprite,
    soft_poly,
)
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Castle", "House", "Lighthouse", "Windmill"]


class Lighthouse(SubjectDrawer):
    """A striped tower on the shore with a rotating beam."""

    def setup(self) -> None:
        span = self.stage.ground.span if self.stage.ground is not None else None
        inset = 0.08 + 0.06 * self.stage.aspect
        if span is not None:
            x = span[0] + inset if span[0] > -2 else span[1] - inset
        else:
            x = -0.25 * self.stage.aspect + self.stage.lead
        y, self.depth = self.stage.ground_y(x)
        self.slots = [(x, y + 0.01, 0.34)]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, size = self.slots[0]
        white, red = pal.lit((238, 236, 228), 0.0), pal.lit((196, 44, 40), 0.0)
        bands = 5
        for i in range(bands):
            y0, y1 = -i / bands * 0.78, -(i + 1) / bands * 0.78
            w0, w1 = 0.09 - 0.035 * (i / bands), 0.09 - 0.035 * ((i + 1) / bands)
            quad = vertices([(-w0, y0), (w0, y0), (w1, y1), (-w1, y1)])
            fill_poly(
                frame, [cam.points(place(quad, x, y, size), self.depth)], red if i % 2 else white
            )
        dark = pal.silhouette
        fill_poly(
            frame,
            [
                cam.points(
                    place(
                        vertices([(-0.08, -0.78), (0.08, -0.78), (0.08, -0.8), (-0.08, -0.8)]),
                        x,
                        y,
                        size,
                    ),
                    self.depth,
                )
            ],
            dark,
        )
        lamp = vertices([(-0.045, -0.8), (0.045, -0.8), (0.045, -0.9), (-0.045, -0.9)])
        fill_poly(frame, [cam.points(place(lamp, x, y, size), self.depth)], pal.accent)
        roof = vertices([(-0.06, -0.9), (0.06, -0.9), (0.0, -0.98)])
        fill_poly(frame, [cam.points(place(roof, x, y, size), self.depth)], red)
        lamp_xy = cam.points(place(vertices([(0.0, -0.85)]), x, y, size), self.depth)[0]
        beam_strength = 0.12 + 0.3 * (1 - pal.daylight)
        angle = t * 1.4 * self.stage.speed
        reach = cam.width * 0.6
        spread = 0.09
        direction = math.cos(angle)
        if abs(direction) > 0.05:
            tip = lamp_xy[0] + direction * reach
            beam = vertices(
                [
                    (lamp_xy[0], lamp_xy[1]),
                    (tip, lamp_xy[1] - reach * spread),
                    (tip, lamp_xy[1] + reach * spread),
                ]
            )
            # The beam dies out along its length and has soft sides: light, not a wedge.
            soft_poly(
                frame,
                [beam],
                pal.accent,
                beam_strength * abs(direction),
                cam.height * 0.012,
                fade=((lamp_xy[0], lamp_xy[1]), (tip, lamp_xy[1])),
            )
        radial_sprite(
            glow_radius(cam.scale(self.depth) * size * 0.12), pal.accent, 0.8 * (1.2 - pal.daylight)
        ).blit(frame, float(lamp_xy[0]), float(lamp_xy[1]))


class House(SubjectDrawer):
    """Cottages with lit windows after dark and a curl of smoke."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.7 * self.stage.aspect):
            self.slots.append((x, 0.0, float(self.rng.uniform(0.13, 0.17))))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for x, _, size in self.slots:
            gy, depth = self.stage.ground_y(x)
            gy += 0.01
            wall = vertices([(-0.5, 0.0), (0.5, 0.0), (0.5, -0.55), (-0.5, -0.55)])
            roof = vertices([(-0.62, -0.5), (0.62, -0.5), (0.0, -0.95)])
            chimney = vertices([(0.22, -0.7), (0.34, -0.7), (0.34, -0.95), (0.22, -0.95)])
            fill_poly(
                frame, [cam.points(place(wall, x, gy, size), depth)], pal.lit((222, 200, 160), 0.0)
            )
            fill_poly(
                frame,
                [cam.points(place(p, x, gy, size), depth) for p in (roof, chimney)],
                pal.lit((150, 60, 44), 0.0),
            )
            door = vertices([(-0.08, 0.0), (0.08, 0.0), (0.08, -0.28), (-0.08, -0.28)])
            fill_poly(
                frame, [cam.points(place(door, x, gy, size), depth)], pal.lit((90, 60, 40), 0.0)
            )
            lit = mix(pal.lit((70, 90, 110), 0.0), pal.accent, pal.windows)
            wins = [
                vertices(
                    [(wx - 0.09, -0.3), (wx + 0.09, -0.3), (wx + 0.09, -0.45), (wx - 0.09, -0.45)]
                )
                for wx in (-0.3, 0.3)
            ]
            fill_poly(frame, [cam.points(place(w, x, gy, size), depth) for w in wins], lit)
            smoke = mix(pal.sky[0].tolist(), (230, 230, 230), 0.5)
            for k in range(5):
                age = (t * 0.3 + k / 5) % 1.0
                puff = ellipse(
                    0.28 + 0.25 * age + 0.05 * math.sin(age * 9),
                    -1.0 - age * 0.8,
                    0.05 + 0.1 * age,
                    0.05 + 0.08 * age,
                    14,
                )
                soft_poly(
                    frame,
                    [cam.points(place(puff, x, gy, size), depth)],
                    smoke,
                    0.3 * (1 - age),
                    cam.scale(depth) * size * (0.02 + 0.04 * age),
                )


class Castle(SubjectDrawer):
    """A castle on a rise with towers and waving pennants."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.2, 0.2)) + self.stage.lead
        self.slots = [(x, HORIZON + 0.04, 0.3)]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, size = self.slots[0]
        depth = 0.3
        stone = pal.lit((150, 140, 130), 0.3)
        roof = pal.lit((70, 60, 110), 0.3)
        hill = ellipse(0.0, 0.12, 1.4, 0.3, 40)
        fill_poly(
            frame,
            [cam.points(place(hill, x, y, size), depth)],
            pal.ground[1] if len(pal.ground) > 1 else pal.silhouette,
        )
        blocks = [
            (-0.5, 0.5, -0.45),
            (-0.75, -0.55, -0.75),
            (0.55, 0.75, -0.75),
            (-0.15, 0.15, -0.95),
        ]
        polys, roofs, flags = [], [], []
        for x0, x1, top in blocks:
            polys.append(vertices([(x0, 0.0), (x1, 0.0), (x1, top), (x0, top)]))
            w = x1 - x0
            for k in range(int(w / 0.1)):
                cx = x0 + (k + 0.5) * w / int(w / 0.1)
                if k % 2 == 0:
                    polys.append(
                        vertices(
                            [
                                (cx - 0.03, top),
                                (cx + 0.03, top),
                                (cx + 0.03, top - 0.05),
                                (cx - 0.03, top - 0.05),
                            ]
                        )
                    )
            if top < -0.6:
                mid = (x0 + x1) / 2
                roofs.append(
                    vertices([(x0 - 0.03, top - 0.04), (x1 + 0.03, top - 0.04), (mid, top - 0.3)])
                )
                wave = [
                    (mid + 0.02 + 0.04 * k, top - 0.38 + 0.015 * math.sin(t * 6 + k + mid * 9))
                    for k in range(5)
                ]
                flags.append(
                    np.concatenate(
                        [
                            vertices([(mid, top - 0.3), (mid, top - 0.44)]),
                            vertices(wave[::-1]),
                            vertices([(mid, top - 0.34)]),
                        ]
                    )
                )
        fill_poly(frame, [cam.points(place(p, x, y, size), depth) for p in polys], stone)
        fill_poly(frame, [cam.points(place(p, x, y, size), depth) for p in roofs], roof)
        fill_poly(
            frame,
            [cam.points(place(p, x, y, size), depth) for p in flags],
            pal.lit((210, 40, 40), 0.3),
        )
        gate = vertices([(-0.1, 0.0), (0.1, 0.0), (0.1, -0.18), (0.0, -0.24), (-0.1, -0.18)])
        fill_poly(
            frame,
            [cam.points(place(gate, x, y, size), depth)],
            mix(pal.silhouette, pal.accent, pal.windows * 0.6),
        )


class Windmill(SubjectDrawer):
    """Windmills whose sails turn steadily."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.8 * self.stage.aspect):
            self.slots.append(
                (x, float(self.rng.uniform(0, 6.28)), float(self.rng.uniform(0.2, 0.26)))
            )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for x, phase, size in self.slots:
            gy, depth = self.stage.ground_y(x)
            gy += 0.01
            tower = vertices([(-0.16, 0.0), (0.16, 0.0), (0.09, -0.62), (-0.09, -0.62)])
            cap = vertices([(-0.11, -0.6), (0.11, -0.6), (0.0, -0.74)])
            fill_poly(
                frame,
                [cam.points(place(p, x, gy, size), depth) for p in (tower, cap)],
                pal.lit((190, 170, 140), 0.0),
            )
            hub_y = -0.64
            blades = []
            for k in range(4):
                a = phase + t * 1.3 * self.stage.speed + k * math.pi / 2
                ux, uy = math.cos(a), math.sin(a)
                px, py = -uy, ux
                pts = [
                    (0.04 * ux - 0.02 * px, hub_y + 0.04 * uy - 0.02 * py),
                    (0.5 * ux - 0.02 * px, hub_y + 0.5 * uy - 0.02 * py),
                    (0.5 * ux + 0.1 * px, hub_y + 0.5 * uy + 0.1 * py),
                    (0.12 * ux + 0.1 * px, hub_y + 0.12 * uy + 0.1 * py),
                ]
                blades.append(vertices(pts))
            fill_poly(
                frame,
                [cam.points(place(b, x, gy, size), depth) for b in blades],
                pal.lit((240, 236, 226), 0.0),
            )
