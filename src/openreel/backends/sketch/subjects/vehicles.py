"""Vehicles: boats on the water, cars and trains on land, balloons, jets and rockets above.

Grouped because they share one habit: they travel, so each drawer's motion is a crossing, a
drift or a climb (with a bob or a roll) computed from time alone.
"""

from __future__ import annotations

import math

import numpy as np

from openreel.backends.sketch.draw import (
    CameraState,
    Points,
    blend_poly,
    fill_poly,
    glow_radius,
    radial_sprite,
    soft_poly,
    stroke,
)
from openreel.backends.sketch.palette import mix
from openreel.backends.sketch.plan import Setting
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Airplane", "Balloon", "Car", "Helicopter", "Rocket", "Sailboat", "Ship", "Train"]


class Sailboat(SubjectDrawer):
    """Sailboats that bob on the swell and drift."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.9 * self.stage.aspect):
            v = float(self.rng.uniform(0.0, 1.0))
            y = HORIZON + 0.03 + 0.22 * v**1.4
            self.slots.append((x, y, 0.05 + 0.09 * v))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for i, (x, y, size) in enumerate(self.slots):
            depth = 0.25 + 0.6 * (y - HORIZON) / 0.25
            sp = self.stage.speed
            bob = math.sin(t * 1.7 * sp + i * 1.9) * 0.08
            roll = math.sin(t * 1.3 * sp + i) * 0.06
            drift = t * 0.012 * sp * (1 if i % 2 else -1)
            hull = vertices([(-0.55, -0.12), (0.6, -0.12), (0.42, 0.08), (-0.4, 0.08)])
            mast = vertices([(-0.015, -0.12), (0.015, -0.12), (0.015, -1.25), (-0.015, -1.25)])
            main = vertices([(0.03, -0.18), (0.03, -1.2), (0.5, -0.2)])
            jib = vertices([(-0.03, -0.2), (-0.03, -1.05), (-0.45, -0.16)])
            ax, ay = x + drift, y + bob * size
            hull_color = pal.lit((120, 60, 40), depth * 0.5)
            sail = pal.lit((245, 242, 230), depth * 0.5)
            fill_poly(frame, [cam.points(place(hull, ax, ay, size, roll), depth)], hull_color)
            fill_poly(frame, [cam.points(place(mast, ax, ay, size, roll), depth)], pal.silhouette)
            fill_poly(
                frame,
                [
                    cam.points(place(main, ax, ay, size, roll), depth),
                    cam.points(place(jib, ax, ay, size, roll), depth),
                ],
                sail,
            )


class Ship(SubjectDrawer):
    """A steamer crossing slowly with a trail of smoke."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.8 * self.stage.aspect):
            v = float(self.rng.uniform(0.1, 0.6))
            self.slots.append((x, HORIZON + 0.02 + 0.12 * v, 0.14 + 0.1 * v))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        for i, (x, y, size) in enumerate(self.slots):
            depth = 0.2 + 0.5 * (y - HORIZON) / 0.14
            ax = x + t * 0.01 * self.stage.speed * (1 if i % 2 == 0 else -1)
            ay = y + math.sin(t * 1.1 + i) * 0.004
            hull = vertices([(-1.0, -0.18), (1.1, -0.22), (0.85, 0.06), (-0.9, 0.06)])
            deck = vertices([(-0.6, -0.18), (0.5, -0.2), (0.5, -0.42), (-0.5, -0.42)])
            bridge = vertices([(-0.3, -0.42), (0.2, -0.42), (0.2, -0.58), (-0.3, -0.58)])
            funnel = vertices([(0.25, -0.42), (0.42, -0.42), (0.45, -0.78), (0.28, -0.78)])
            fill_poly(
                frame,
                [cam.points(place(hull, ax, ay, size), depth)],
                pal.lit((40, 44, 60), depth * 0.5),
            )
            fill_poly(
                frame,
                [cam.points(place(p, ax, ay, size), depth) for p in (deck, bridge)],
                pal.lit((236, 232, 222), depth * 0.5),
            )
            fill_poly(
                frame,
                [cam.points(place(funnel, ax, ay, size), depth)],
                pal.lit((180, 40, 36), depth * 0.5),
            )
            smoke = mix(pal.silhouette, (200, 200, 205), 0.6)
            for k in range(6):
                age = (t * 0.5 + k / 6) % 1.0
                puff = ellipse(
                    0.36 - age * 1.6, -0.85 - age * 0.7, 0.08 + 0.2 * age, 0.06 + 0.14 * age, 16
                )
                soft_poly(
                    frame,
                    [cam.points(place(puff, ax, ay, size), depth)],
                    smoke,
                    0.35 * (1 - age),
                    cam.scale(depth) * size * (0.03 + 0.06 * age),
                )
            if pal.windows > 0.3:
                for k in range(5):
                    win = ellipse(-0.5 + 0.22 * k, -0.1, 0.03, 0.03, 8)
                    fill_poly(frame, [cam.points(place(win, ax, ay, size), depth)], pal.accent)


class Car(SubjectDrawer):
    """Cars driving along the nearest road, headlights on after dark."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        for i in range(self.count):
            self.slots.append(
                (float(i * 0.45 + self.rng.uniform(0, 0.2)), 0.0, float(self.rng.uniform(0.8, 1.1)))
            )

    def position(self, i: int, t: float) -> tuple[float, float, float]:
        """World x and ground y of car ``i`` at time ``t``, and its layer's depth.

        The soundscape places each car's engine here too, so it pans with the picture.
        """
        off, _, speed = self.slots[i]
        span = 2.4 * self.stage.aspect
        x = (off + t * 0.12 * speed * self.stage.speed + span / 2) % span - span / 2
        x = self.direction * x + self.stage.lead
        gy, depth = self.stage.ground_y(x)
        return x, gy, depth

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        colors = [(200, 40, 40), (40, 90, 180), (230, 200, 60), (230, 230, 230), (40, 150, 90)]
        for i in range(len(self.slots)):
            x, gy, depth = self.position(i, t)
            size = 0.12
            body = vertices(
                [
                    (-0.5, -0.08),
                    (0.5, -0.08),
                    (0.52, -0.2),
                    (0.25, -0.22),
                    (0.12, -0.36),
                    (-0.22, -0.36),
                    (-0.35, -0.22),
                    (-0.52, -0.2),
                ]
            )
            fill_poly(
                frame,
                [cam.points(place(body, x, gy, size, flip=self.direction < 0), depth)],
                pal.lit(colors[i % len(colors)], 0.0),
            )
            wheels = [ellipse(wx, -0.08, 0.09, 0.09, 14) for wx in (-0.3, 0.3)]
            fill_poly(
                frame, [cam.points(place(w, x, gy, size), depth) for w in wheels], (18, 18, 20)
            )
            if pal.windows > 0.3:
                lamp = cam.points(
                    place(vertices([(0.5, -0.15)]), x, gy, size, flip=self.direction < 0), depth
                )[0]
                radial_sprite(glow_radius(cam.scale(depth) * size * 0.5), pal.accent, 0.9).blit(
                    frame, float(lamp[0]), float(lamp[1])
                )


class Train(SubjectDrawer):
    """A locomotive and its carriages running along a track."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [(0.0, HORIZON + 0.1, 0.07)]

    track_depth = 0.5
    """Layer depth of the track."""
    carriages = 5
    """Carriages behind the locomotive, each 2.25 sizes long."""

    def head(self, t: float) -> float:
        """World x of the locomotive at time ``t`` (the soundscape's train follows it)."""
        return (
            self.stage.lead
            - self.direction * 0.7 * self.stage.aspect
            + self.direction * t * 0.12 * self.stage.speed
        )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        _, y, size = self.slots[0]
        depth = self.track_depth
        track = cam.points(vertices([(-10.0, y + 0.002), (10.0, y + 0.002)]), depth)
        stroke(frame, [track], pal.silhouette, max(1, cam.height // 360))
        head = self.head(t)
        body_color = pal.lit((150, 40, 36), depth * 0.4)
        car_color = pal.lit((40, 70, 110), depth * 0.4)
        polys, cars, windows = [], [], []
        loco = vertices(
            [
                (-1.0, -0.1),
                (0.9, -0.1),
                (1.1, -0.35),
                (0.6, -0.45),
                (0.6, -0.8),
                (-0.2, -0.8),
                (-0.2, -0.6),
                (-1.0, -0.6),
            ]
        )
        polys.append(cam.points(place(loco, head, y, size, flip=self.direction < 0), depth))
        for k in range(1, self.carriages + 1):
            cx = head - self.direction * (2.25 * k) * size / size * size
            wagon = vertices([(-1.0, -0.1), (1.0, -0.1), (1.0, -0.75), (-1.0, -0.75)])
            cars.append(cam.points(place(wagon, cx, y, size), depth))
            for wx in (-0.6, 0.0, 0.6):
                windows.append(
                    cam.points(
                        place(
                            vertices(
                                [
                                    (wx - 0.2, -0.35),
                                    (wx + 0.2, -0.35),
                                    (wx + 0.2, -0.6),
                                    (wx - 0.2, -0.6),
                                ]
                            ),
                            cx,
                            y,
                            size,
                        ),
                        depth,
                    )
                )
        fill_poly(frame, polys, body_color)
        fill_poly(frame, cars, car_color)
        fill_poly(frame, windows, mix(pal.accent, (200, 220, 240), 1 - pal.windows))


class Balloon(SubjectDrawer):
    """Hot-air balloons drifting up and across."""

    def setup(self) -> None:
        for x in self._spread(self.count, 0.8 * self.stage.aspect):
            self.slots.append(
                (x, float(self.rng.uniform(-0.15, 0.05)), float(self.rng.uniform(0.1, 0.16)))
            )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        palettes = [
            ((214, 60, 50), (250, 200, 60)),
            ((60, 110, 200), (245, 245, 240)),
            ((120, 60, 160), (250, 150, 60)),
        ]
        for i, (x, y, size) in enumerate(self.slots):
            depth = 0.2 + 0.1 * i
            ax = x + t * 0.012 * self.stage.speed + 0.005 * math.sin(t * 0.7 + i)
            ay = y - t * 0.008 * self.stage.speed
            a, b = palettes[i % len(palettes)]
            env = np.concatenate(
                [
                    ellipse(0.0, -0.75, 0.42, 0.45, 30)[15:],
                    vertices([(0.42, -0.75), (0.12, -0.12), (-0.12, -0.12), (-0.42, -0.75)]),
                ]
            )
            a_pts = np.linspace(0, math.pi, 24)
            stripe = np.concatenate(
                [
                    np.stack([0.16 * np.cos(a_pts), -0.75 - 0.45 * np.sin(a_pts)], axis=1),
                    vertices([(-0.16, -0.75), (-0.05, -0.12), (0.05, -0.12), (0.16, -0.75)]),
                ]
            )
            fill_poly(frame, [cam.points(place(env, ax, ay, size), depth)], pal.lit(a, depth * 0.5))
            fill_poly(
                frame, [cam.points(place(stripe, ax, ay, size), depth)], pal.lit(b, depth * 0.5)
            )
            basket = vertices([(-0.08, 0.02), (0.08, 0.02), (0.07, 0.12), (-0.07, 0.12)])
            fill_poly(
                frame,
                [cam.points(place(basket, ax, ay, size), depth)],
                pal.lit((110, 70, 40), depth * 0.5),
            )
            ropes = [
                cam.points(place(vertices([(sx, -0.12), (sx * 0.6, 0.02)]), ax, ay, size), depth)
                for sx in (-0.12, 0.12)
            ]
            stroke(frame, ropes, pal.silhouette, 1)


class Airplane(SubjectDrawer):
    """A jet crossing high up, drawing a contrail, blinking at night."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [
            (
                self.stage.lead - self.direction * 0.35 * self.stage.aspect,
                float(self.rng.uniform(-0.38, -0.25)),
                0.07,
            )
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x0, y, size = self.slots[0]
        x = x0 + self.direction * t * 0.1 * self.stage.speed
        depth = 0.15
        trail = mix(pal.sky[int(pal.sky.shape[0] * 0.2)].tolist(), (255, 255, 255), 0.7)
        tail_len = min(0.9, t * 0.1 * self.stage.speed)
        blend_poly(
            frame,
            [
                cam.points(
                    vertices(
                        [
                            (x - self.direction * 0.4 * size, y - 0.002),
                            (x - self.direction * (0.4 * size + tail_len), y - 0.003),
                            (x - self.direction * (0.4 * size + tail_len), y + 0.005),
                            (x - self.direction * 0.4 * size, y + 0.002),
                        ]
                    ),
                    depth,
                )
            ],
            trail,
            0.5,
        )
        body = vertices([(-0.5, -0.03), (0.45, -0.04), (0.55, 0.0), (0.45, 0.04), (-0.5, 0.03)])
        wing = vertices([(0.05, 0.0), (-0.2, 0.42), (-0.3, 0.42), (-0.1, 0.0)])
        wing2 = vertices([(0.05, 0.0), (-0.12, -0.25), (-0.2, -0.25), (-0.1, 0.0)])
        fin = vertices([(-0.4, -0.02), (-0.52, -0.22), (-0.58, -0.22), (-0.5, 0.0)])
        color = mix(pal.silhouette, (200, 205, 215), pal.daylight)
        fill_poly(
            frame,
            [
                cam.points(place(p, x, y, size, flip=self.direction < 0), depth)
                for p in (body, wing, wing2, fin)
            ],
            color,
        )
        if pal.windows > 0.3 and int(t * 2) % 2 == 0:
            lamp = cam.points(
                place(vertices([(-0.25, 0.42)]), x, y, size, flip=self.direction < 0), depth
            )[0]
            radial_sprite(max(3, cam.height // 150), (255, 60, 60), 1.0).blit(
                frame, float(lamp[0]), float(lamp[1])
            )


class Rocket(SubjectDrawer):
    """A rocket climbing on a flickering flame with a smoke trail."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.25, 0.25)) + self.stage.lead
        self.in_space = self.stage.setting is Setting.SPACE
        gy, _ = self.stage.ground_y(x)
        self.slots = [(x, gy if not self.in_space else 0.2, 0.16)]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x0, y0, size = self.slots[0]
        climb = 0.004 * (t * self.stage.speed * 3.0) ** 1.6
        angle = -0.5 if self.in_space else 0.0
        x = x0 + (0.05 * t * self.stage.speed if self.in_space else 0.0)
        y = y0 - climb - (0.02 * t * self.stage.speed if self.in_space else 0.0)
        depth = 0.5
        if not self.in_space:
            trail = [
                ellipse(0.0, k * 0.25 + 0.1, 0.15 + 0.05 * k, 0.12 + 0.03 * k, 14) for k in range(8)
            ]
            for k, p in enumerate(trail):
                wy = p.copy()
                wy[:, 1] = np.minimum(wy[:, 1] * size + y, y0 + 0.02) - y
                soft_poly(
                    frame,
                    [cam.points(place(wy, x, y, size), depth)],
                    (225, 222, 215),
                    0.28 - 0.025 * k,
                    cam.scale(depth) * size * (0.03 + 0.01 * k),
                )
        flick = 0.8 + 0.2 * math.sin(t * 40.0) + 0.1 * math.sin(t * 23.0)
        flame = vertices([(-0.07, 0.0), (0.07, 0.0), (0.0, 0.45 * flick)])
        core = vertices([(-0.04, 0.0), (0.04, 0.0), (0.0, 0.25 * flick)])
        body = vertices(
            [
                (-0.08, 0.0),
                (0.08, 0.0),
                (0.08, -0.7),
                (0.05, -0.86),
                (0.0, -0.95),
                (-0.05, -0.86),
                (-0.08, -0.7),
            ]
        )
        fins = [
            vertices([(-0.08, 0.0), (-0.2, 0.06), (-0.08, -0.22)]),
            vertices([(0.08, 0.0), (0.2, 0.06), (0.08, -0.22)]),
        ]
        fill_poly(
            frame, [cam.points(place(flame, x, y, size, angle), depth)], pal.graded((255, 150, 40))
        )
        fill_poly(
            frame, [cam.points(place(core, x, y, size, angle), depth)], pal.graded((255, 240, 180))
        )
        fill_poly(
            frame,
            [cam.points(place(body, x, y, size, angle), depth)],
            pal.lit((232, 232, 236), 0.0),
        )
        fill_poly(
            frame,
            [cam.points(place(f, x, y, size, angle), depth) for f in fins],
            pal.lit((200, 50, 40), 0.0),
        )
        window = ellipse(0.0, -0.55, 0.035, 0.035, 12)
        fill_poly(
            frame,
            [cam.points(place(window, x, y, size, angle), depth)],
            pal.lit((60, 120, 200), 0.0),
        )


class Helicopter(SubjectDrawer):
    """A helicopter flying slowly across, nose down, its rotor a blur that flickers."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [
            (
                self.stage.lead - self.direction * 0.3 * self.stage.aspect,
                float(self.rng.uniform(-0.3, -0.18)),
                0.11,
            )
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x0, y0, size = self.slots[0]
        speed = self.stage.speed
        x = x0 + self.direction * t * 0.05 * speed
        y = y0 + 0.008 * math.sin(t * 1.3)
        depth = 0.35
        flip = self.direction < 0
        tilt = 0.08 + 0.02 * math.sin(t * 0.9)  # nose down as it flies
        angle = tilt if not flip else -tilt
        body_color = pal.lit((200, 54, 44), 0.3)
        dark = mix(pal.silhouette, (14, 14, 18), 0.4)

        def put(local: Points) -> Points:
            return cam.points(place(local, x, y, size, angle, flip), depth)

        cabin = ellipse(0.12, 0.0, 0.3, 0.16, 28)
        boom = vertices(
            [(-0.15, -0.06), (-0.75, -0.04), (-0.78, -0.1), (-0.75, 0.02), (-0.15, 0.06)]
        )
        window = vertices([(0.22, -0.12), (0.38, -0.04), (0.3, 0.02), (0.18, 0.0)])
        skids = [vertices([(-0.15, 0.26), (0.38, 0.26), (0.44, 0.22)]),
                 vertices([(-0.02, 0.16), (-0.05, 0.26)]),
                 vertices([(0.25, 0.15), (0.28, 0.26)])]  # fmt: skip
        thick = max(1, round(cam.scale(depth) * size * 0.03))
        stroke(frame, [put(p) for p in skids], dark, thick)
        fill_poly(frame, [put(boom), put(cabin)], body_color)
        fill_poly(frame, [put(window)], pal.lit((150, 196, 226), 0.3))
        # Main rotor seen side-on: a bar whose length beats with the blades' turn.
        spin = t * 38.0
        half = 0.55 * (0.65 + 0.35 * abs(math.cos(spin)))
        mast = vertices([(0.1, -0.16), (0.1, -0.22)])
        stroke(frame, [put(mast)], dark, thick)
        blade = vertices([(0.1 - half, -0.23), (0.1 + half, -0.23)])
        blend_poly(frame, [put(blade + np.array([[0, -0.01], [0, 0.01]]))], dark, 0.85)
        stroke(frame, [put(blade)], dark, thick)
        # Tail rotor: a small spinning cross.
        tail = [
            vertices(
                [
                    (
                        -0.77 + 0.09 * math.cos(spin * 1.3 + k * math.pi / 2),
                        -0.07 + 0.09 * math.sin(spin * 1.3 + k * math.pi / 2),
                    ),
                    (
                        -0.77 - 0.09 * math.cos(spin * 1.3 + k * math.pi / 2),
                        -0.07 - 0.09 * math.sin(spin * 1.3 + k * math.pi / 2),
                    ),
                ]
            )
            for k in (0, 1)
        ]
        stroke(frame, [put(p) for p in tail], dark, max(1, thick - 1))
        if pal.windows > 0.3 and int(t * 2.0) % 2 == 0:
            lamp = put(vertices([(-0.78, -0.1)]))[0]
            radial_sprite(glow_radius(cam.scale(depth) * size * 0.3), (255, 60, 60), 0.9).blit(
                frame, float(lamp[0]), float(lamp[1])
            )
