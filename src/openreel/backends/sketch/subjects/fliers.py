"""Winged creatures: butterflies fluttering over flowers, and a dragon that breathes fire.

Both fly whatever the prompt says: a butterfly's wings beat and its path wanders about the
flowers it came for; the dragon rows across the sky on slow wing beats, its tail waving, and
now and then a tongue of flame flickers from its jaws.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from openreel.backends.sketch.draw import (
    CameraState,
    Points,
    blend_poly,
    fill_each,
    fill_poly,
    stroke,
)
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects.acting import Animal, wrap
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame

__all__ = ["Butterfly", "Dragon"]

_WING_COLORS = [(242, 138, 32), (74, 132, 232), (246, 214, 60), (236, 96, 150), (250, 250, 246)]


class Butterfly(Animal):
    """Butterflies over a few flowers near the camera, wings beating fast."""

    default_action = Action.FLYING
    actions = frozenset({Action.FLYING})
    depth = 0.95

    def setup(self) -> None:
        super().setup()
        width = min(0.7 * self.stage.aspect, 0.3 + 0.2 * self.count)
        for x in self._spread(self.count, width):
            self.slots.append(
                (x, float(self.rng.uniform(0.14, 0.26)), float(self.rng.uniform(0.032, 0.042)))
            )
        self.phases = [float(self.rng.uniform(0, 2 * math.pi)) for _ in self.slots]
        self.colors = [int(self.rng.integers(0, len(_WING_COLORS) - 1)) for _ in self.slots]
        n = 3 + self.count
        self.flowers = [
            (x, float(self.rng.uniform(0.0, 1.0)), int(self.rng.integers(0, len(_WING_COLORS))))
            for x in self._spread(n, width * 1.2)
        ]

    def _draw_flowers(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        stem = pal.lit((60, 120, 56), 0.0)
        for x, v, c in self.flowers:
            gy, _ = self.stage.ground_y(x)
            base = min(gy + 0.02 + 0.02 * v, 0.5)
            h = 0.05 + 0.03 * v
            sway = 0.006 * math.sin(t * 1.5 * self.stage.speed + x * 9)
            top = (x + sway, base - h)
            thick = max(1, round(cam.scale(self.depth) * 0.004))
            stroke(frame, [cam.points(vertices([(x, base), top]), self.depth)], stem, thick)
            r = 0.008 + 0.003 * v
            petals = [
                ellipse(top[0] + r * math.cos(a), top[1] + r * math.sin(a), r * 0.8, r * 0.8, 10)
                for a in np.linspace(0, 2 * math.pi, 5, endpoint=False)
            ]
            color = pal.lit(mix(_WING_COLORS[c], (255, 255, 255), 0.3), 0.0)
            fill_each(frame, [cam.points(p, self.depth) for p in petals], color)
            centre = ellipse(top[0], top[1], r * 0.6, r * 0.6, 10)
            fill_poly(frame, [cam.points(centre, self.depth)], pal.lit((250, 200, 60), 0.0))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        self._draw_flowers(frame, cam, t)
        pal = self.stage.palette
        dark = mix(pal.silhouette, (16, 12, 10), 0.5)
        sp = self.stage.speed
        for i, (x0, y0, size) in enumerate(self.slots):
            ph = self.phases[i]
            x = x0 + 0.08 * math.sin(0.45 * t * sp + ph) + 0.03 * math.sin(1.7 * t * sp + 2 * ph)
            y = y0 + 0.04 * math.sin(0.8 * t * sp + ph) + 0.015 * math.sin(3.1 * t * sp + ph)
            gy, _ = self.stage.ground_y(x)
            y = min(y + HORIZON, gy - 0.03) if y + HORIZON > gy - 0.03 else y + HORIZON
            beat = abs(math.cos(t * 2 * math.pi * 5.0 * sp + ph))  # wings open to closed
            spread = 0.2 + 0.8 * beat
            upper = vertices(
                [(0.05, -0.05), (0.3, -0.55), (0.75, -0.8), (1.0, -0.6), (0.9, -0.25), (0.5, -0.02)]
            )
            lower = vertices([(0.05, 0.02), (0.55, 0.05), (0.75, 0.3), (0.55, 0.6), (0.25, 0.55)])
            wings: list[Points] = []
            for side in (1.0, -1.0):
                for w in (upper, lower):
                    pts = w.copy()
                    pts[:, 0] *= side * spread
                    wings.append(pts)
            tilt = 0.25 * math.sin(1.1 * t * sp + ph)
            color = pal.lit(_WING_COLORS[self.colors[i]], 0.0)
            fill_each(
                frame,
                [cam.points(place(w * 1.15, x, y, size, tilt), self.depth) for w in wings],
                dark,
            )
            fill_each(
                frame, [cam.points(place(w, x, y, size, tilt), self.depth) for w in wings], color
            )
            body = ellipse(0.0, 0.0, 0.07, 0.45, 10)
            fill_poly(frame, [cam.points(place(body, x, y, size, tilt), self.depth)], dark)


class Dragon(Animal):
    """A dragon crossing the sky on slow wing beats, breathing fire now and then."""

    default_action = Action.FLYING
    actions = frozenset({Action.FLYING})
    depth = 0.5
    _FIRE_EVERY = 4.0  # seconds between breaths
    _FIRE_FOR = 1.6  # seconds a breath lasts

    def setup(self) -> None:
        super().setup()
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        for k, x in enumerate(self._spread(self.count, 0.7 * self.stage.aspect)):
            y = float(self.rng.uniform(-0.3, -0.14)) + 0.06 * (k % 2)
            self.slots.append((x, y, float(self.rng.uniform(0.17, 0.21)) / (1 + 0.25 * k)))
        self.phases = [float(self.rng.uniform(0, 2 * math.pi)) for _ in self.slots]

    @staticmethod
    def _wing(beat: float, scale: float, shift: float) -> Points:
        """A bat wing: fingers spread from the wrist, the membrane scalloped between them;
        ``beat`` +1 is raised, -1 lowered (the wing is squashed through the shoulder)."""
        up = vertices(
            [
                (0.12, -0.04),
                (0.02, -0.5),
                (-0.2, -0.8),
                (-0.2, -0.46),
                (-0.44, -0.64),
                (-0.34, -0.3),
                (-0.54, -0.3),
                (-0.36, -0.1),
                (-0.24, -0.02),
            ]
        )
        shoulder = up[0].copy()
        rel = (up - shoulder) * scale
        rel[:, 1] *= beat if abs(beat) > 0.08 else 0.08
        rel[:, 0] *= 0.8 + 0.2 * abs(beat)
        wing: Points = rel + shoulder + np.array([shift, 0.0])
        return wing

    def _tail(self, t: float, ph: float) -> Points:
        """The tail as a tapering polygon that waves behind the body."""
        s = np.linspace(0.0, 1.0, 14)
        wave = 0.07 * np.sin(2 * math.pi * (s * 1.2 - 0.7 * t) + ph) * s
        xs = -0.32 - 0.9 * s
        ys = 0.02 + 0.12 * s + wave
        width = 0.06 * (1 - s) + 0.008
        top = np.stack([xs, ys - width], axis=1)
        bottom = np.stack([xs, ys + width], axis=1)[::-1]
        spike = np.array([[xs[-1] - 0.08, ys[-1] - 0.05], [xs[-1] - 0.1, ys[-1] + 0.04]])
        return np.concatenate([top, spike, bottom])

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        sp = self.stage.speed
        skin = pal.lit((152, 44, 38), 0.3)
        wing_far = mix(pal.lit((96, 30, 34), 0.3), pal.silhouette, 0.3)
        wing_near = pal.lit((124, 38, 40), 0.3)
        belly = pal.lit((220, 160, 80), 0.3)
        flip = self.direction < 0
        for i, (x0, y0, size) in enumerate(self.slots):
            ph = self.phases[i]
            beat = math.sin(t * 2 * math.pi * 0.7 * sp + ph)
            half = 0.5 * self.stage.aspect / cam.zoom + 1.3 * size
            x = wrap(x0 + self.direction * 0.06 * t * sp, cam.x * self.depth, half)
            y = y0 - 0.015 * beat  # rises on the down-stroke

            def put(p: Points, x: float = x, y: float = y, size: float = size) -> Points:
                return cam.points(place(p, x, y, size, flip=flip), self.depth)

            far = self._wing(beat, 0.85, 0.08)
            near = self._wing(beat, 1.0, 0.0)
            fill_poly(frame, [put(far)], wing_far)
            body = vertices(
                [
                    (0.34, -0.08),
                    (0.1, -0.1),
                    (-0.3, -0.04),
                    (-0.36, 0.06),
                    (-0.1, 0.1),
                    (0.26, 0.06),
                    (0.38, 0.0),
                ]
            )
            nod = 0.02 * math.sin(t * 1.3 * sp + ph)
            neck = vertices(
                [(0.3, -0.08), (0.52, -0.2 + nod), (0.6, -0.14 + nod), (0.42, 0.02), (0.3, 0.04)]
            )
            head = vertices(
                [
                    (0.5, -0.2 + nod),
                    (0.6, -0.25 + nod),
                    (0.72, -0.2 + nod),
                    (0.8, -0.17 + nod),
                    (0.79, -0.13 + nod),
                    (0.62, -0.11 + nod),
                    (0.55, -0.12 + nod),
                ]
            )
            horns = vertices([(0.56, -0.22 + nod), (0.49, -0.3 + nod), (0.6, -0.24 + nod)])
            legs = [
                vertices([(0.2, 0.04), (0.24, 0.14), (0.3, 0.15), (0.26, 0.03)]),
                vertices([(-0.22, 0.05), (-0.2, 0.16), (-0.13, 0.17), (-0.14, 0.05)]),
            ]
            fill_each(
                frame,
                [put(p) for p in (self._tail(t * sp, ph), body, neck, head, horns, *legs)],
                skin,
            )
            stripe = vertices([(0.3, 0.03), (-0.1, 0.08), (-0.3, 0.04), (-0.1, 0.05), (0.26, 0.0)])
            fill_poly(frame, [put(stripe)], belly)
            fill_poly(frame, [put(near)], wing_near)
            cycle = (t * sp + ph) % self._FIRE_EVERY
            if cycle < self._FIRE_FOR:
                self._fire(frame, put, cycle / self._FIRE_FOR, t, nod)

    def _fire(
        self, frame: Frame, put: Callable[[Points], Points], u: float, t: float, nod: float
    ) -> None:
        """A tongue of flame from the jaws: grows, flickers, dies away over one breath."""
        pal = self.stage.palette
        strength = math.sin(math.pi * u)
        length = 0.2 + 0.75 * strength
        mouth = (0.76, -0.15 + nod)
        s = np.linspace(0.0, 1.0, 9)
        flicker = 0.03 * np.sin(40 * t + s * 9) * s
        spread = 0.03 + 0.2 * s * strength
        xs = mouth[0] + length * s
        ys = mouth[1] + 0.12 * s * s + flicker
        outer = np.concatenate(
            [np.stack([xs, ys - spread], axis=1), np.stack([xs, ys + spread], axis=1)[::-1]]
        )
        inner = np.concatenate(
            [
                np.stack([xs[:6], ys[:6] - 0.45 * spread[:6]], axis=1),
                np.stack([xs[:6], ys[:6] + 0.45 * spread[:6]], axis=1)[::-1],
            ]
        )
        glow = mix(pal.graded((255, 140, 40)), pal.sun, 0.2)
        blend_poly(frame, [put(outer)], glow, 0.55 + 0.3 * strength)
        fill_poly(frame, [put(inner)], pal.graded((255, 226, 110)))
