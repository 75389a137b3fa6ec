"""People: walking figures on the nearest ground."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from openreel.backends.sketch.draw import CameraState, fill_poly, stroke
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

if TYPE_CHECKING:
    from openreel.backends.sketch.subjects.acting import Seat

__all__ = ["Person"]


class Person(SubjectDrawer):
    """A walking figure on the nearest ground."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.5 * self.stage.aspect):
            self.slots.append((x, 0.0, float(self.rng.uniform(0.11, 0.13))))
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        color = mix(pal.silhouette, (8, 8, 12), 0.3)
        for i, (x0, _, size) in enumerate(self.slots):
            x = x0 + self.direction * t * 0.015 * self.stage.speed
            gy, depth = self.stage.ground_y(x)
            stride = math.sin(t * 4.0 * self.stage.speed + i * 1.7) * 0.22
            head = ellipse(0.0, -0.88, 0.07, 0.08, 16)
            body = vertices([(-0.1, -0.78), (0.1, -0.78), (0.08, -0.42), (-0.08, -0.42)])
            legs = [vertices([(0.0, -0.44), (s, 0.0)]) for s in (stride, -stride)]
            arms = [vertices([(0.0, -0.74), (-s * 0.8, -0.46)]) for s in (stride, -stride)]
            fill_poly(
                frame, [cam.points(place(p, x, gy, size), depth) for p in (head, body)], color
            )
            thick = max(1, round(cam.scale(depth) * size * 0.06))
            stroke(
                frame,
                [cam.points(place(p, x, gy, size), depth) for p in legs + arms],
                color,
                thick,
            )

    def draw_seated(self, frame: Frame, cam: CameraState, seat: Seat, index: int) -> None:
        """Draws figure ``index`` riding: hips on ``seat``, bobbing with the mount's stride.

        The same head and body as the walking figure, raised so the hips sit on the saddle,
        with the near leg down the mount's side and the arms forward to the reins.
        """
        if index >= self.count:
            return
        pal = self.stage.palette
        color = mix(pal.silhouette, (8, 8, 12), 0.3)
        size, depth = seat.size, seat.depth
        y = seat.y - 0.02 * size * abs(math.sin(seat.stride))
        head = ellipse(0.0, -0.88, 0.07, 0.08, 16)
        body = vertices([(-0.1, -0.78), (0.1, -0.78), (0.08, -0.42), (-0.08, -0.42)])
        # Raised by the standing figure's hip height (0.42), so the hips sit at the seat.
        parts = [place(p, 0.0, 0.42, 1.0) for p in (head, body)]
        leg = vertices([(0.0, 0.0), (0.16, 0.1), (0.1, 0.34)])
        arm = vertices([(0.0, -0.32), (0.14, -0.18), (0.26, -0.16)])
        fill_poly(
            frame,
            [cam.points(place(p, seat.x, y, size, flip=seat.flip), depth) for p in parts],
            color,
        )
        thick = max(1, round(cam.scale(depth) * size * 0.06))
        stroke(
            frame,
            [cam.points(place(p, seat.x, y, size, flip=seat.flip), depth) for p in (leg, arm)],
            color,
            thick,
        )
