"""Birds on foot: penguins, chickens and flamingos on the nearest ground.

They share one body plan (a body, a neck, a head with a beak, two legs, seen from the side),
so each species is a :class:`Fowl` of proportions and colours, like the four-legged animals'
builds: one gait then makes a penguin waddle, a hen peck and a flamingo wade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openreel.backends.sketch.draw import CameraState, Points, fill_each, stroke
from openreel.backends.sketch.palette import RGB, mix
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.subjects.acting import Animal, wrap
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame

__all__ = ["Chicken", "Flamingo", "Fowl", "GroundBird", "Penguin"]


@dataclass(frozen=True, slots=True)
class Fowl:
    """One species' proportions (in units of its size, origin on the ground) and colours.

    Attributes:
        size: World height of one unit.
        body: Half length and half height of the body.
        tilt: The body's tilt, radians (upright penguin: about pi/2).
        leg: Leg length, hip to ground.
        neck: The head's centre relative to the body's front top.
        head: Head radius.
        beak: Beak length.
        color: Plumage.
        belly: The front or underside.
        beak_color: Beak colour.
        legs: Leg colour.
        comb: A red comb on the head (a hen).
        walk: Walking speed in body lengths a second.
    """

    size: float
    body: tuple[float, float]
    tilt: float
    leg: float
    neck: tuple[float, float]
    head: float
    beak: float
    color: RGB
    belly: RGB
    beak_color: RGB
    legs: RGB
    comb: bool = False
    walk: float = 0.5


class GroundBird(Animal):
    """A bird that walks (or runs) along the nearest ground, bobbing with its steps."""

    fowl: Fowl
    actions = frozenset({Action.WALKING, Action.RUNNING, Action.STANDING})

    def setup(self) -> None:
        super().setup()
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        width = min(0.85 * self.stage.aspect, 0.2 + 0.16 * self.count)
        shift = float(self.rng.uniform(-0.5, 0.5)) * (0.85 * self.stage.aspect - width)
        for x in self._spread(self.count, width):
            near = float(self.rng.uniform(0.0, 1.0)) if self.count > 1 else 0.6
            self.slots.append((x + shift, 0.03 * near, self.fowl.size * (0.85 + 0.3 * near)))
        self.phases = [float(self.rng.uniform(0, 2 * math.pi)) for _ in self.slots]
        self.slots.sort(key=lambda s: s[1])

    def _parts(self, phase: float) -> tuple[list[Points], list[Points], list[Points], Points]:
        """Plumage parts, belly parts, beak and legs (polylines), comb, in local units."""
        f = self.fowl
        still = self.action is Action.STANDING
        step = 0.0 if still else math.sin(phase)
        rx, ry = f.body
        c, s = math.cos(f.tilt), math.sin(f.tilt)
        extent = math.hypot(rx * s, ry * c)  # the tilted body's half height
        cy = -f.leg - 0.9 * extent + (0.0 if still else 0.03 * abs(step))
        turn, lift = np.array([[c, -s], [s, c]]), np.array([0.0, cy])
        body = ellipse(0.0, 0.0, rx, ry, 24) @ turn + lift
        belly = ellipse(0.15 * rx, 0.35 * ry, 0.75 * rx, 0.6 * ry, 20) @ turn + lift
        front = (rx * c * 0.8, cy - rx * s * 0.8)
        # A hen pecks now and then; the others nod with their steps.
        peck = max(0.0, math.sin(phase * 0.5)) ** 6 if f.comb and not still else 0.0
        hx = front[0] + f.neck[0] + 0.2 * peck
        hy = front[1] + f.neck[1] + 0.03 * step + peck * (f.leg + ry - f.neck[1])
        neck = vertices(
            [
                (front[0] - 0.08, front[1]),
                (hx - 0.6 * f.head, hy),
                (hx + 0.3 * f.head, hy + 0.5 * f.head),
                (front[0] + 0.06, front[1] + 0.12),
            ]
        )
        head = ellipse(hx, hy, f.head, f.head, 14)
        down = 0.6 if f.beak > 0.15 else 0.1  # a flamingo's beak bends down
        beak = vertices(
            [
                (hx + 0.7 * f.head, hy - 0.25 * f.head),
                (hx + 0.7 * f.head + f.beak, hy + down * f.beak),
                (hx + 0.7 * f.head, hy + 0.35 * f.head),
            ]
        )
        swing = 0.0 if still else 0.35 * step
        legs = [
            vertices([(sg * 0.05, cy + 0.5 * ry), (sg * 0.05 + swing * sg * f.leg, 0.0)])
            for sg in (1.0, -1.0)
        ]
        comb = ellipse(hx - 0.1 * f.head, hy - 1.05 * f.head, 0.5 * f.head, 0.35 * f.head, 10)
        return [body, neck, head], [belly], [beak, *legs], comb

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        f = self.fowl
        plumage, belly = pal.lit(f.color, 0.0), pal.lit(f.belly, 0.0)
        beak, legs = pal.lit(f.beak_color, 0.0), pal.lit(f.legs, 0.0)
        comb_color = pal.lit((206, 40, 36), 0.0)
        sp = self.stage.speed
        pace = 2.2 if self.action is Action.RUNNING else 1.0
        flip = self.direction < 0
        for i, (x0, dy, size) in enumerate(self.slots):
            phase = t * 2 * math.pi * 1.4 * pace * sp + self.phases[i]
            moving = 0.0 if self.action is Action.STANDING else f.walk * pace
            travel = moving * 2 * f.body[0] * size * sp * t
            _, depth = self.stage.ground_y(x0)
            half = 0.5 * self.stage.aspect / cam.zoom + 2.5 * f.body[0] * size + 0.1
            x = wrap(x0 + self.direction * travel, cam.x * depth, half)
            gy, depth = self.stage.ground_y(x)
            gy = min(gy + dy, 0.49)
            # A waddle: the whole bird rocks from foot to foot.
            rock = 0.08 * math.sin(phase) if f.tilt > 1.0 else 0.0
            parts, bellies, lines, comb = self._parts(phase)

            def put(
                p: Points,
                x: float = x,
                gy: float = gy,
                size: float = size,
                rock: float = rock,
                depth: float = depth,
            ) -> Points:
                return cam.points(place(p, x, gy, size, rock, flip), depth)

            thick = max(1, round(cam.scale(depth) * size * 0.04))
            stroke(frame, [put(p) for p in lines[1:]], mix(legs, pal.silhouette, 0.2), thick)
            fill_each(frame, [put(p) for p in parts], plumage)
            fill_each(frame, [put(p) for p in bellies], belly)
            fill_each(frame, [put(lines[0])], beak)
            if f.comb:
                fill_each(frame, [put(comb)], comb_color)


class Penguin(GroundBird):
    """An upright penguin, black back and white front, waddling."""

    fowl = Fowl(
        size=0.14,
        body=(0.36, 0.2),
        tilt=1.45,
        leg=0.06,
        neck=(0.0, -0.08),
        head=0.13,
        beak=0.1,
        color=(30, 32, 40),
        belly=(240, 240, 236),
        beak_color=(236, 150, 40),
        legs=(236, 150, 40),
        walk=0.35,
    )


class Chicken(GroundBird):
    """A hen with a red comb that pecks at the ground as she goes."""

    fowl = Fowl(
        size=0.1,
        body=(0.32, 0.22),
        tilt=0.25,
        leg=0.24,
        neck=(0.06, -0.22),
        head=0.11,
        beak=0.08,
        color=(186, 112, 58),
        belly=(214, 150, 90),
        beak_color=(236, 184, 60),
        legs=(236, 184, 60),
        comb=True,
        walk=0.45,
    )


class Flamingo(GroundBird):
    """A pink flamingo on long legs, its beak bent down; it wades slowly."""

    fowl = Fowl(
        size=0.2,
        body=(0.26, 0.13),
        tilt=0.15,
        leg=0.62,
        neck=(0.1, -0.42),
        head=0.07,
        beak=0.16,
        color=(240, 130, 150),
        belly=(248, 170, 184),
        beak_color=(40, 34, 36),
        legs=(232, 120, 140),
        walk=0.25,
    )
