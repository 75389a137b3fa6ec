"""Plants: trees and fields of flowers that sway in the breeze."""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import CameraState, Points, fill_poly, stroke
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Flowers", "Tree"]


class Tree(SubjectDrawer):
    """Round-crowned trees swaying in the breeze."""

    def setup(self) -> None:
        n = max(self.count, 1)
        for x in self._spread(n, 0.9 * self.stage.aspect):
            self.slots.append(
                (x, float(self.rng.uniform(0, 6.28)), float(self.rng.uniform(0.16, 0.24)))
            )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        crown_color = pal.lit((56, 120, 60) if pal.foliage is None else pal.foliage, 0.0)
        dark = (
            pal.lit((36, 84, 44), 0.0)
            if pal.foliage is None
            else mix(crown_color, (30, 20, 20), 0.3)
        )
        for x, phase, size in self.slots:
            gy, depth = self.stage.ground_y(x)
            gy += 0.01
            sway = math.sin(t * 1.2 * self.stage.speed + phase) * 0.03
            trunk = vertices(
                [(-0.05, 0.0), (0.05, 0.0), (0.03 + sway, -0.55), (-0.03 + sway, -0.55)]
            )
            fill_poly(
                frame, [cam.points(place(trunk, x, gy, size), depth)], pal.lit((90, 62, 40), 0.0)
            )
            blobs = [(-0.18, -0.62, 0.26), (0.18, -0.66, 0.25), (0.0, -0.86, 0.3)]
            fill_poly(
                frame,
                [
                    cam.points(
                        place(ellipse(bx + sway * 1.5, by, r, r * 0.9, 22), x, gy, size), depth
                    )
                    for bx, by, r in blobs
                ],
                dark,
            )
            fill_poly(
                frame,
                [
                    cam.points(
                        place(
                            ellipse(bx + sway * 1.6 - 0.03, by - 0.03, r * 0.8, r * 0.7, 22),
                            x,
                            gy,
                            size,
                        ),
                        depth,
                    )
                    for bx, by, r in blobs
                ],
                crown_color,
            )


_BLOSSOMS = [(226, 60, 70), (250, 204, 60), (150, 100, 210), (245, 245, 240), (240, 130, 40)]


class Flowers(SubjectDrawer):
    """A drift of flowers across the near ground, each nodding on its stem in the wind."""

    def setup(self) -> None:
        n = 60 + 20 * min(self.count, 6)
        width = 1.3 * self.stage.aspect
        xs = self.rng.uniform(-width / 2, width / 2, n) + self.stage.lead
        # Two or three colours per field, as in a real meadow, not a rainbow.
        palette_ids = self.rng.choice(
            len(_BLOSSOMS), size=int(self.rng.integers(2, 4)), replace=False
        )
        self.flowers = [
            (
                float(x),
                float(self.rng.uniform(0.0, 0.08)),
                float(self.rng.uniform(0.022, 0.04)),
                int(self.rng.choice(palette_ids)),
                float(self.rng.uniform(0, 6.28)),
            )
            for x in np.sort(xs)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        stem = pal.lit((60, 120, 50), 0.0)
        stems = []
        heads: dict[int, list[Points]] = {}
        depth = self.stage.ground_y(self.stage.lead)[1]
        for x, below, size, color, phase in self.flowers:
            gy, _ = self.stage.ground_y(x)
            y = gy + below
            nod = 0.25 * math.sin(t * 1.6 * self.stage.speed + phase + x * 3.0)
            tip = (nod * 0.6, -1.0)
            stems.append(cam.points(place(vertices([(0.0, 0.0), tip]), x, y, size), depth))
            head = ellipse(tip[0], tip[1], 0.35, 0.3, 8)
            heads.setdefault(color, []).append(cam.points(place(head, x, y, size), depth))
        stroke(frame, stems, stem, max(1, round(cam.height / 700)))
        for color, polys in heads.items():
            fill_poly(frame, polys, pal.lit(_BLOSSOMS[color], 0.0))
