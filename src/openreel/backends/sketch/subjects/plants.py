"""Plants: trees that sway in the breeze."""

from __future__ import annotations

import math

from openreel.backends.sketch.draw import CameraState, fill_poly
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Tree"]


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
        dark = pal.lit((36, 84, 44), 0.0) if pal.foliage is None else mix(crown_color, (30, 20, 20), 0.3)
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
