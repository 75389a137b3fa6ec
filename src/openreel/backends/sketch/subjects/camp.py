"""Outdoor leisure: tents, a campfire with its glow and smoke, kites on the wind, fireworks.

A campfire is the one subject that lights its surroundings: its flames flicker on a few
incommensurate sines (never a visible loop), its glow breathes with them, and its smoke rises
as soft puffs that fade as they climb (soft edges, so no puff shows an outline).
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
    soft_poly,
    stroke,
)
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Campfire", "Fireworks", "Kite", "Tent"]

_TENT_COLORS = [(214, 120, 40), (60, 128, 86), (46, 98, 170), (190, 52, 48), (226, 196, 70)]


class Tent(SubjectDrawer):
    """A-frame tents pitched on the nearest ground, their fly sheets stirring in the wind."""

    def setup(self) -> None:
        xs = self._spread(self.count, 0.6 * self.stage.aspect)
        for x in xs:
            self.slots.append(
                (x - 0.12 * self.stage.aspect, float(self.rng.uniform(0, 6.28)), 0.16)
            )
        self.colors = [int(c) for c in self.rng.integers(0, len(_TENT_COLORS), self.count)]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for i, (x, phase, size) in enumerate(self.slots):
            gy, depth = self.stage.ground_y(x)
            gy += 0.005
            flutter = 0.05 * math.sin(t * 2.3 * self.stage.speed + phase)
            color = pal.lit(_TENT_COLORS[self.colors[i]], 0.0)
            shade = mix(color, (10, 10, 16), 0.35)
            side = vertices([(-0.55, 0.0), (0.05 + flutter, -0.62), (0.62, 0.0)])
            front = vertices([(-0.55, 0.0), (-0.25, -0.62), (0.05 + flutter, -0.62), (-0.2, 0.0)])
            swing = 0.08 * math.sin(t * 1.7 * self.stage.speed + 2 * phase)
            door = vertices([(-0.42, 0.0), (-0.25, -0.4), (-0.12 + swing, 0.0)])
            fill_poly(frame, [cam.points(place(side, x, gy, size), depth)], color)
            fill_poly(frame, [cam.points(place(front, x, gy, size), depth)], shade)
            inside = pal.accent if pal.windows > 0.3 else mix(shade, (0, 0, 0), 0.5)
            fill_poly(frame, [cam.points(place(door, x, gy, size), depth)], inside)
            thick = max(1, round(cam.scale(depth) * size * 0.02))
            ropes = [
                vertices([(0.05, -0.62), (0.85, 0.0)]),
                vertices([(-0.25, -0.62), (-0.8, 0.0)]),
            ]
            # A pennant on the ridge pole, streaming and flapping in the wind.
            wave = math.sin(t * 6.0 * self.stage.speed + phase)
            pole = vertices([(0.05 + flutter, -0.62), (0.05 + flutter, -0.95)])
            tip = (0.45 + 0.06 * wave, -0.86 + 0.1 * wave)
            pennant = vertices(
                [(0.05 + flutter, -0.95), (0.25, -0.92 + 0.05 * wave), tip, (0.05 + flutter, -0.8)]
            )
            stroke(
                frame,
                [cam.points(place(r, x, gy, size), depth) for r in [*ropes, pole]],
                shade,
                thick,
            )
            fill_poly(
                frame, [cam.points(place(pennant, x, gy, size), depth)], pal.lit((230, 60, 50), 0.0)
            )


class Campfire(SubjectDrawer):
    """A crackling fire on crossed logs: flickering flames, a warm glow and rising smoke."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.05, 0.1) * self.stage.aspect) + self.stage.lead
        self.slots = [
            (x + i * 0.3, float(self.rng.uniform(0, 6.28)), 0.07) for i in range(self.count)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for x, phase, size in self.slots:
            gy, depth = self.stage.ground_y(x)
            gy += 0.004
            scale = cam.scale(depth) * size
            # Several incommensurate sines: a flicker that never visibly repeats.
            f = 0.5 + 0.25 * math.sin(t * 9.1 + phase) + 0.15 * math.sin(t * 14.3 + 2 * phase)
            f += 0.1 * math.sin(t * 23.7 + 3 * phase)
            # A steady halo and a flickering core: the halo's sprite is large but its cache
            # entry lasts (it changes only as a push-in zooms); the core is small, so the few
            # strengths it flickers through are cheap to build once each.
            centre = cam.points(place(vertices([(0.0, -0.35)]), x, gy, size), depth)[0]
            halo = glow_radius(scale * 3.2, 16)
            core = glow_radius(scale * 1.3, 8)
            warmth = 0.6 + 0.4 * pal.windows
            radial_sprite(halo, (255, 140, 50), round(0.5 * warmth, 2), 1.8).blit(
                frame, float(centre[0]), float(centre[1])
            )
            flicker = round((0.25 + 0.45 * f) * warmth * 6) / 6
            radial_sprite(core, (255, 170, 70), flicker, 1.4).blit(
                frame, float(centre[0]), float(centre[1])
            )
            self._smoke(frame, cam, x, gy, size, depth, t, phase)
            logs = [
                vertices([(-0.5, -0.02), (0.45, -0.16), (0.5, -0.08), (-0.45, 0.06)]),
                vertices([(0.5, -0.02), (-0.45, -0.16), (-0.5, -0.08), (0.45, 0.06)]),
            ]
            fill_poly(
                frame,
                [cam.points(place(p, x, gy, size), depth) for p in logs],
                pal.lit((96, 60, 36), 0.0),
            )
            flames = []
            for k, (dx, w, h0) in enumerate(
                ((-0.18, 0.2, 0.8), (0.16, 0.18, 0.7), (0.0, 0.26, 1.1))
            ):
                lick = math.sin(t * (8.0 + 2.3 * k) + phase + k)
                h = h0 * (0.75 + 0.3 * f + 0.12 * lick)
                tip = dx + 0.08 * math.sin(t * (5.1 + k) + phase)
                flames.append(
                    vertices(
                        [
                            (dx - w, -0.08),
                            (dx - w * 0.6, -0.08 - h * 0.45),
                            (tip, -0.08 - h),
                            (dx + w * 0.6, -0.08 - h * 0.45),
                            (dx + w, -0.08),
                        ]
                    )
                )
            outer = [cam.points(place(p, x, gy, size), depth) for p in flames]
            inner = [cam.points(place(_shrunk(p, 0.55), x, gy, size), depth) for p in flames]
            fill_poly(frame, outer, (246, 112, 28))
            fill_poly(frame, inner, (255, 214, 90))

    def _smoke(
        self,
        frame: Frame,
        cam: CameraState,
        x: float,
        gy: float,
        size: float,
        depth: float,
        t: float,
        phase: float,
    ) -> None:
        """Puffs that rise, widen and drift with the wind, fading as they climb; soft-edged.

        All puffs go in one soft fill whose opacity fades along the column (the blur is the
        costly part of a soft fill, so one per fire rather than one per puff).
        """
        pal = self.stage.palette
        grey = mix(pal.silhouette, (190, 190, 196), 0.55)
        feather = max(2.0, cam.scale(depth) * size * 0.35)
        puffs = []
        for k in range(5):
            age = (t * 0.35 * self.stage.speed + k / 5 + phase) % 1.0
            rise = 1.2 + age * 7.0
            drift = age * age * 1.8 + 0.15 * math.sin(t * 0.8 + k)
            r = 0.22 + 0.6 * age
            puffs.append(
                cam.points(place(ellipse(drift, -rise, r, r * 0.8, 18), x, gy, size), depth)
            )
        bottom = cam.points(place(vertices([(0.0, -1.0), (1.0, -8.8)]), x, gy, size), depth)
        soft_poly(
            frame,
            puffs,
            grey,
            0.3,
            feather,
            fade=(
                (float(bottom[0][0]), float(bottom[0][1])),
                (float(bottom[1][0]), float(bottom[1][1])),
            ),
        )


def _shrunk(poly: Points, k: float) -> Points:
    """A flame's hot core: the polygon shrunk toward its base centre."""
    base = np.array([float(poly[:, 0].mean()), float(poly[:, 1].max())])
    out: Points = base + (poly - base) * k
    return out


class Kite(SubjectDrawer):
    """Kites dancing on the wind at the end of a long line, their tails waving."""

    def setup(self) -> None:
        for i in range(self.count):
            self.slots.append(
                (
                    float(self.rng.uniform(-0.25, 0.25) * self.stage.aspect + i * 0.25)
                    + self.stage.lead,
                    float(self.rng.uniform(-0.34, -0.2)),
                    float(self.rng.uniform(0, 6.28)),
                )
            )
        self.colors = [
            [(220, 50, 60), (250, 200, 50), (50, 120, 210), (60, 170, 90)][int(c)]
            for c in self.rng.integers(0, 4, self.count)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        depth = 0.4
        size = 0.07
        line = mix(pal.silhouette, (230, 230, 230), 0.4)
        for i, (x0, y0, phase) in enumerate(self.slots):
            speed = self.stage.speed
            x = x0 + 0.05 * math.sin(t * 0.7 * speed + phase) + 0.012 * math.sin(t * 3.1 + phase)
            y = y0 + 0.03 * math.sin(t * 0.9 * speed + 2 * phase)
            angle = 0.25 * math.sin(t * 1.4 * speed + phase)
            body = vertices([(0.0, -0.6), (0.42, 0.0), (0.0, 0.9), (-0.42, 0.0)])
            color = pal.lit(self.colors[i], 0.3)
            fill_poly(frame, [cam.points(place(body, x, y, size, angle), depth)], color)
            spars = [vertices([(0.0, -0.6), (0.0, 0.9)]), vertices([(-0.42, 0.0), (0.42, 0.0)])]
            thick = max(1, round(cam.height / 540))
            dark = mix(color, (20, 20, 20), 0.5)
            stroke(
                frame, [cam.points(place(p, x, y, size, angle), depth) for p in spars], dark, thick
            )
            # The tail: a wave travelling down a line, with bows along it.
            s = np.linspace(0, 1, 14)
            tail = np.stack(
                [0.25 * np.sin(s * 7.0 - t * 6.0 * speed + phase) * s, 0.9 + s * 2.6], axis=1
            )
            stroke(frame, [cam.points(place(tail, x, y, size, angle), depth)], dark, thick)
            bows = [ellipse(float(px), float(py), 0.1, 0.06, 8) for px, py in tail[3::3]]
            fill_poly(frame, [cam.points(place(b, x, y, size, angle), depth) for b in bows], color)
            # The line, sagging down to whoever holds it below the frame.
            anchor_x = x0 - 0.25 * self.stage.aspect
            u = np.linspace(0, 1, 16)
            lx = x + (anchor_x - x) * u
            ly = y + size * 0.9 + (0.7 - y) * u - 0.06 * np.sin(math.pi * u)
            stroke(frame, [cam.points(np.stack([lx, ly], axis=1), depth)], line, 1)


_SPARKS = [(255, 90, 90), (255, 210, 90), (120, 200, 255), (190, 120, 255), (140, 255, 150)]


class Fireworks(SubjectDrawer):
    """Shells that climb, burst into rings of sparks that fall and fade, one after another."""

    period = 2.4  # seconds from one launch to the shell's sparks gone

    def setup(self) -> None:
        n = 3 + min(self.count, 6)
        self.shells = [
            (
                float(self.rng.uniform(-0.45, 0.45) * self.stage.aspect) + self.stage.lead,
                float(self.rng.uniform(-0.38, -0.18)),
                float(self.rng.uniform(0, self.period)),
                int(self.rng.integers(0, len(_SPARKS))),
                float(self.rng.uniform(0.1, 0.2)),
            )
            for _ in range(n)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        depth = 0.1
        thick = max(1, round(cam.height / 270))
        for k, (x, y, offset, color, radius) in enumerate(self.shells):
            age = ((t * self.stage.speed + offset) % self.period) / self.period
            row = pal.sky[min(pal.sky.shape[0] - 1, max(0, int((y + 0.5) * pal.sky.shape[0])))]
            sky = (int(row[0]), int(row[1]), int(row[2]))
            spark = _SPARKS[color]
            if age < 0.25:  # the shell climbing, a short fading trail
                u = age / 0.25
                head = y + (1.0 - u) * 0.35
                trail = vertices([(x, head), (x, head + 0.05)])
                stroke(frame, [cam.points(trail, depth)], mix(sky, (255, 230, 190), 0.8), thick)
                continue
            u = (age - 0.25) / 0.75
            spread = radius * (1.0 - (1.0 - u) ** 3)
            fall = 0.06 * u * u
            fade = (1.0 - u) ** 1.5
            n = 22
            a = np.linspace(0, 2 * math.pi, n, endpoint=False) + k
            inner = spread * 0.75
            lines = np.stack(
                [
                    np.stack([x + inner * np.cos(a), y + fall + inner * np.sin(a)], axis=1),
                    np.stack([x + spread * np.cos(a), y + fall + spread * np.sin(a)], axis=1),
                ],
                axis=1,
            )
            stroke(
                frame,
                cam.points(lines.reshape(-1, 2), depth).reshape(n, 2, 2),
                mix(sky, spark, fade),
                thick,
            )
            if u < 0.3:
                sx, sy = cam.to_screen(x, y, depth)
                flash = radial_sprite(
                    glow_radius(cam.height * radius * 0.8, 8), spark, 0.5 * (1 - u / 0.3)
                )
                flash.blit(frame, float(sx), float(sy))
