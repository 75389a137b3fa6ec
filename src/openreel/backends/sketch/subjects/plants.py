"""Plants: trees and fields of flowers that sway in the breeze."""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import CameraState, fill_poly, stroke
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
    """A drift of flowers across the near ground, each nodding on its stem in the wind.

    A field holds a hundred or more flowers, so they are placed once (the ground does not move)
    and drawn as arrays: one stroke call for every stem and one fill per colour.
    """

    def setup(self) -> None:
        n = 60 + 20 * min(self.count, 6)
        width = 1.3 * self.stage.aspect
        xs = np.sort(self.rng.uniform(-width / 2, width / 2, n) + self.stage.lead)
        # Two or three colours per field, as in a real meadow, not a rainbow.
        kinds = self.rng.choice(len(_BLOSSOMS), size=int(self.rng.integers(2, 4)), replace=False)
        below = self.rng.uniform(0.0, 0.08, n)
        ground = np.array([self.stage.ground_y(float(x))[0] for x in xs])
        self.base = np.stack([xs, ground + below], axis=1)
        self.size = self.rng.uniform(0.022, 0.04, n)
        self.color = self.rng.choice(kinds, size=n)
        self.phase = self.rng.uniform(0, 6.28, n) + xs * 3.0
        self.depth = self.stage.ground_y(self.stage.lead)[1]
        a = np.linspace(0, 2 * math.pi, 8, endpoint=False)
        self.outline = np.stack([0.35 * np.cos(a), 0.3 * np.sin(a)], axis=1)

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        nod = 0.15 * np.sin(t * 1.6 * self.stage.speed + self.phase)
        tips = self.base + np.stack([nod, -np.ones_like(nod)], axis=1) * self.size[:, None]
        stems = np.stack([self.base, tips], axis=1)  # (n, 2, 2)
        n = len(self.base)
        screen = cam.points(stems.reshape(-1, 2), self.depth).reshape(n, 2, 2)
        stroke(frame, screen, pal.lit((60, 120, 50), 0.0), max(1, round(cam.height / 700)))
        heads = tips[:, None, :] + self.outline[None, :, :] * self.size[:, None, None]
        drawn = cam.points(heads.reshape(-1, 2), self.depth).reshape(n, -1, 2)
        for color in np.unique(self.color):
            fill_poly(frame, drawn[self.color == color], pal.lit(_BLOSSOMS[int(color)], 0.0))
