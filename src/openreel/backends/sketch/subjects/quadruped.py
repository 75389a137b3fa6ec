"""The four-legged body plan every land animal of the sketch engine is drawn with: a
:class:`Build` of proportions and features, and :class:`Quadruped`, which draws any build
seen from the side and makes it walk, run, leap or play as the prompt's verb says.

Apart from the species (subjects/mammals.py) so a new animal is a build there, and the gait
and drawing are read and changed in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openreel.backends.sketch.draw import CameraState, Points, fill_each, fill_poly, stroke
from openreel.backends.sketch.palette import RGB, mix
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.subjects.acting import Animal, wrap
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame

__all__ = ["Build", "Quadruped"]


@dataclass(frozen=True, slots=True)
class Build:
    """One species' proportions, in units of its size, origin on the ground under its middle.

    Attributes:
        size: World height of one unit (the animal's scale in the frame).
        body: Half length and half depth of the body.
        leg: Leg length, hip to ground.
        leg_width: Leg thickness.
        neck: Where the head's centre is, from the body's front top.
        head: Half length and half depth of the head.
        snout: Length and half depth of the snout (0 for none).
        ears: "point", "flop", "round" or "long".
        ear: Ear length.
        tail: "up", "bush", "plume" (bushy, rising over the back), "stub" or "hang".
        tail_length: Tail length.
        color: Coat colour; ``accent`` marks a tail tip, a belly or a muzzle.
        accent: Second colour.
        droop: How far the snout's tip hangs below the head's middle (a horse's long face).
        walk: Walking speed in body lengths a second; running is ``run``.
        run: Running speed in body lengths a second.
        legs: Leg colour where it is not the coat's (a sheep's dark legs).
        face: Head colour where it is not the coat's (a sheep's dark face).
        marks: "stripes" or "patches" over the body, in ``mark`` colour; "" for none.
        mark: Colour of the marks.
        mane: Colour of a mane round the head (a lion's), or None.
    """

    size: float
    body: tuple[float, float]
    leg: float
    leg_width: float
    neck: tuple[float, float]
    head: tuple[float, float]
    snout: tuple[float, float]
    ears: str
    ear: float
    tail: str
    tail_length: float
    color: RGB
    accent: RGB
    droop: float = 0.0
    walk: float = 0.9
    run: float = 3.2
    legs: RGB | None = None
    face: RGB | None = None
    marks: str = ""
    mark: RGB = (0, 0, 0)
    mane: RGB | None = None


class Quadruped(Animal):
    """A four-legged animal whose legs cycle as it walks, gallop when it runs, tuck in a leap."""

    build: Build
    actions = frozenset({Action.WALKING, Action.RUNNING, Action.JUMPING, Action.PLAYING})

    def setup(self) -> None:
        super().setup()
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        width = min(0.85 * self.stage.aspect, 0.25 + 0.22 * self.count)
        # Each kind somewhere of its own across the view, so a dog and a horse do not overlap.
        shift = float(self.rng.uniform(-0.5, 0.5)) * (0.85 * self.stage.aspect - width)
        for x in self._spread(self.count, width):
            near = float(self.rng.uniform(0.0, 1.0)) if self.count > 1 else 0.6
            scale = self.build.size * (0.82 + 0.3 * near)
            self.slots.append((x + shift, 0.03 * near, scale))
        self.phases = [float(self.rng.uniform(0, 2 * math.pi)) for _ in self.slots]
        self.slots.sort(key=lambda s: s[1])  # far ones first, so near ones cover them

    def _speed(self) -> float:
        """Body lengths a second for the current action."""
        b = self.build
        if self.action is Action.WALKING:
            return b.walk
        if self.action is Action.JUMPING:
            return 0.5 * (b.walk + b.run)
        return b.run

    def pose(self, i: int, cam: CameraState, t: float) -> tuple[float, float, float, float, float]:
        """Instance ``i`` at time ``t``: world x and ground y, size, depth and gait phase."""
        x0, dy, size = self.slots[i]
        b = self.build
        sp = self.stage.speed
        gait = 1.6 if self.action is Action.WALKING else 2.6
        phase = t * 2 * math.pi * gait * sp * (1.0 + 0.15 * (b.size < 0.07)) + self.phases[i]
        travel = self._speed() * 2 * b.body[0] * size * sp * t
        _, depth = self.stage.ground_y(x0)
        half = 0.5 * self.stage.aspect / cam.zoom + 2.5 * b.body[0] * size + 0.1
        x = wrap(x0 + self.direction * travel, cam.x * depth, half)
        gy, depth = self.stage.ground_y(x)
        return x, min(gy + dy, 0.49), size, depth, phase

    def _lift(self, phase: float) -> float:
        """How high the body rises off its legs (a leap, or the gallop's bound)."""
        if self.action in (Action.JUMPING, Action.PLAYING):
            return 0.9 * self.build.leg * max(0.0, math.sin(phase * 0.5)) ** 2
        if self.action is Action.RUNNING:
            return 0.08 * self.build.leg * (1 + math.sin(phase))
        return 0.02 * self.build.leg * math.sin(2 * phase)

    def _legs(self, phase: float, lift: float) -> tuple[list[Points], list[Points]]:
        """Far legs and near legs as three-point polylines (hip, knee, foot)."""
        b = self.build
        rx, ry = b.body
        hip_y = -b.leg - lift
        airborne = lift > 0.3 * b.leg
        if self.action is Action.WALKING:
            swing, offsets = 0.38, (0.0, math.pi, 0.5 * math.pi, 1.5 * math.pi)
        else:
            swing, offsets = 0.7, (0.0, 0.35, math.pi, math.pi + 0.35)
        far: list[Points] = []
        near: list[Points] = []
        for k, (hx, off) in enumerate(
            zip((-0.72 * rx, -0.72 * rx, 0.7 * rx, 0.7 * rx), offsets, strict=True)
        ):
            front = hx > 0
            if airborne:
                angle = 0.9 if front else -0.9
                bend = 0.6
            else:
                p = phase + off
                angle = swing * math.sin(p)
                bend = 0.9 * max(0.0, math.cos(p))
            knee_dir = -1.0 if front else 1.0
            upper, lower = 0.5 * b.leg, 0.55 * b.leg
            kx = hx + upper * math.sin(angle)
            ky = hip_y + 0.1 * ry + upper * math.cos(angle)
            fx = kx + lower * math.sin(angle + knee_dir * bend)
            fy = min(ky + lower * math.cos(angle + knee_dir * bend), 0.0)
            leg = vertices([(hx, hip_y + 0.1 * ry), (kx, ky), (fx, fy)])
            (far if k % 2 == 0 else near).append(leg)
        return far, near

    def _body(self, phase: float, lift: float) -> tuple[list[Points], list[Points], Points]:
        """Body parts in the coat colour, parts in the accent colour, and the eye."""
        b = self.build
        rx, ry = b.body
        cy = -b.leg - ry * 0.6 - lift
        nod = 0.04 * math.sin(phase) if self.action is Action.WALKING else 0.06 * math.sin(phase)
        body = ellipse(0.0, cy, rx, ry, 24)
        hx, hy = rx + b.neck[0], cy - ry + b.neck[1] + nod
        neck = vertices(
            [
                (rx * 0.55, cy - ry * 0.9),
                (hx - b.head[0] * 0.5, hy - b.head[1] * 0.6),
                (hx + b.head[0] * 0.2, hy + b.head[1] * 0.6),
                (rx * 0.95, cy + ry * 0.2),
            ]
        )
        head = ellipse(hx, hy, b.head[0], b.head[1], 18)
        parts = [body, neck, head]
        accents: list[Points] = []
        if b.snout[0] > 0:
            sl, sr = b.snout
            snout = vertices(
                [
                    (hx + b.head[0] * 0.3, hy - sr),
                    (hx + b.head[0] * 0.6 + sl, hy - sr * 0.4 + b.droop),
                    (hx + b.head[0] * 0.6 + sl, hy + sr * 0.9 + b.droop),
                    (hx + b.head[0] * 0.2, hy + b.head[1] * 0.9),
                ]
            )
            parts.append(snout)
        e = b.ear
        ex = hx - b.head[0] * 0.35
        ey = hy - b.head[1] * 0.7
        if b.ears == "point":
            parts.append(vertices([(ex - 0.3 * e, ey), (ex + 0.1 * e, ey - e), (ex + 0.4 * e, ey)]))
        elif b.ears == "flop":
            parts.append(
                vertices([(ex - 0.3 * e, ey), (ex + 0.3 * e, ey), (ex - 0.2 * e, ey + 0.9 * e)])
            )
        elif b.ears == "round":
            parts.append(ellipse(ex, ey - 0.2 * e, 0.45 * e, 0.4 * e, 12))
        elif b.ears == "long":
            flop = 0.25 * math.sin(phase)
            for dx in (-0.25 * e, 0.15 * e):
                parts.append(
                    vertices(
                        [
                            (ex + dx - 0.12 * e, ey + 0.1 * e),
                            (ex + dx - 0.35 * e - flop * e, ey - e),
                            (ex + dx - 0.05 * e - flop * e, ey - 1.05 * e),
                            (ex + dx + 0.15 * e, ey),
                        ]
                    )
                )
        tl = b.tail_length
        wag = math.sin(phase * (2.0 if self.action is Action.PLAYING else 1.0)) * 0.2
        tx, ty = -rx * 0.92, cy - ry * 0.4
        if b.tail == "up":
            tail = vertices(
                [
                    (tx + 0.05, ty - 0.03),
                    (tx - 0.5 * tl, ty - 0.5 * tl + wag * tl),
                    (tx - 0.8 * tl, ty - 0.9 * tl + wag * tl),
                    (tx - 0.6 * tl, ty - 0.45 * tl + wag * tl),
                    (tx + 0.05, ty + 0.05),
                ]
            )
            parts.append(tail)
        elif b.tail == "bush":
            tip = (tx - tl, ty + 0.25 * tl + wag * 0.5 * tl)
            tail = vertices(
                [
                    (tx + 0.05, ty - 0.04),
                    (tx - 0.55 * tl, ty - 0.12 * tl + wag * 0.3 * tl),
                    tip,
                    (tx - 0.5 * tl, ty + 0.28 * tl + wag * 0.3 * tl),
                    (tx + 0.05, ty + 0.1),
                ]
            )
            parts.append(tail)
            accents.append(ellipse(tip[0] + 0.08 * tl, tip[1] - 0.04 * tl, 0.14 * tl, 0.1 * tl))
        elif b.tail == "plume":
            sway = wag * 0.2 * tl
            tail = vertices(
                [
                    (tx + 0.06, ty - 0.02),
                    (tx - 0.3 * tl, ty - 0.35 * tl + sway),
                    (tx - 0.28 * tl, ty - 0.85 * tl + sway),
                    (tx + 0.02 * tl, ty - 1.05 * tl + sway),
                    (tx + 0.12 * tl, ty - 0.8 * tl + sway),
                    (tx - 0.06 * tl, ty - 0.55 * tl + sway),
                    (tx + 0.02 * tl, ty - 0.25 * tl),
                    (tx + 0.08, ty + 0.06),
                ]
            )
            parts.append(tail)
        elif b.tail == "stub":
            accents.append(ellipse(tx - 0.03, ty, 0.5 * tl, 0.45 * tl, 12))
        elif b.tail == "hang":
            tail = vertices(
                [
                    (tx + 0.04, ty - 0.06),
                    (tx - 0.16, ty - 0.04),
                    (tx - 0.26 + wag * 0.3, ty + 0.3 * tl),
                    (tx - 0.24 + wag * 0.5, ty + tl),
                    (tx - 0.12 + wag * 0.5, ty + 0.92 * tl),
                    (tx - 0.08, ty + 0.3 * tl),
                    (tx + 0.03, ty + 0.08),
                ]
            )
            parts.append(tail)
        eye = ellipse(hx + b.head[0] * 0.35, hy - b.head[1] * 0.2, 0.018, 0.018, 8)
        return parts, accents, eye

    def _head_centre(self, phase: float, lift: float) -> tuple[float, float]:
        """The head's centre in local units, as :meth:`_body` places it."""
        b = self.build
        rx, ry = b.body
        cy = -b.leg - ry * 0.6 - lift
        nod = 0.04 * math.sin(phase) if self.action is Action.WALKING else 0.06 * math.sin(phase)
        return rx + b.neck[0], cy - ry + b.neck[1] + nod

    def _marks(self, lift: float) -> tuple[list[Points], list[Points]]:
        """Stripes (polylines) and patches (polygons) on the body, in local units."""
        b = self.build
        rx, ry = b.body
        cy = -b.leg - ry * 0.6 - lift
        lines: list[Points] = []
        blots: list[Points] = []
        if b.marks == "stripes":
            for k in range(7):
                u = -0.78 + k * 0.26
                half = ry * math.sqrt(max(0.0, 1.0 - u * u))
                lines.append(
                    vertices(
                        [(u * rx, cy - 0.92 * half), (u * rx - 0.04, cy), (u * rx, cy + 0.5 * half)]
                    )
                )
        elif b.marks == "patches":
            for u, v, a, c in (
                (-0.45, -0.2, 0.24, 0.5),
                (0.2, 0.2, 0.2, 0.4),
                (0.5, -0.4, 0.14, 0.3),
            ):
                blots.append(ellipse(u * rx, cy + v * ry, a * rx, c * ry, 14))
        return lines, blots

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        """Species details drawn over the body (antlers, a mane, a rider); none by default."""

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        b = self.build
        coat = pal.lit(b.color, 0.0)
        shade = mix(coat, pal.silhouette, 0.45)
        accent = pal.lit(b.accent, 0.0)
        eye_color = mix(pal.silhouette, (10, 10, 12), 0.6)
        flip = self.direction < 0
        for i in range(len(self.slots)):
            x, gy, size, depth, phase = self.pose(i, cam, t)
            lift = self._lift(phase)
            far, near = self._legs(phase, lift)
            parts, accents, eye = self._body(phase, lift)
            thick = max(1, round(cam.scale(depth) * size * b.leg_width))

            def put(
                p: Points, x: float = x, gy: float = gy, size: float = size, depth: float = depth
            ) -> Points:
                return cam.points(place(p, x, gy, size, flip=flip), depth)

            if b.legs is None:
                stroke(frame, [put(p) for p in far], shade, thick)
            else:
                legs = pal.lit(b.legs, 0.0)
                stroke(frame, [put(p) for p in far], mix(legs, pal.silhouette, 0.45), thick)
            if b.mane is not None:
                hx, hy = self._head_centre(phase, lift)
                ruff = ellipse(hx - 0.05, hy + 0.02, 1.9 * b.head[0], 2.1 * b.head[1], 18)
                fill_poly(frame, [put(ruff)], pal.lit(b.mane, 0.0))
            fill_each(frame, [put(p) for p in parts], coat)
            if b.marks:
                lines, blots = self._marks(lift)
                mark = pal.lit(b.mark, 0.0)
                stroke(frame, [put(p) for p in lines], mark, max(1, thick // 2))
                fill_each(frame, [put(p) for p in blots], mark)
            if b.face is not None:
                face = parts[2:4] if b.snout[0] > 0 else parts[2:3]
                fill_each(frame, [put(p) for p in face], pal.lit(b.face, 0.0))
            fill_each(frame, [put(p) for p in accents], accent)
            stroke(frame, [put(p) for p in near], coat if b.legs is None else legs, thick)
            if cam.scale(depth) * size > 60:
                fill_poly(frame, [put(eye)], eye_color)
            self.extras(frame, cam, i, (x, gy, size, depth), t)
