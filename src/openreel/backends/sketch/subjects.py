"""The things in a scene, drawn as clean vector silhouettes that move plausibly.

Each subject is defined in its own local coordinates (units of its size, origin at its base,
y pointing down), placed in the world on a layer with a depth, and redrawn every frame as a few
anti-aliased polygons. Motion is a pure function of time, so frames are repeatable.

Imports: draw, palette, plan, scenery, numpy, OpenCV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import (
    CameraState,
    Points,
    blend_poly,
    fill_poly,
    glow_radius,
    radial_sprite,
    stroke,
)
from openreel.backends.sketch.palette import Palette, mix
from openreel.backends.sketch.plan import Setting, Subject, SubjectKind
from openreel.backends.sketch.scenery import HORIZON, Ridge

__all__ = ["Stage", "SubjectDrawer", "make_subjects"]

Frame = npt.NDArray[np.uint8]


def _arr(points: list[tuple[float, float]]) -> Points:
    return np.array(points, dtype=np.float64)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 28) -> Points:
    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _place(
    local: Points, x: float, y: float, size: float, angle: float = 0.0, flip: bool = False
) -> Points:
    pts = local.copy()
    if flip:
        pts[:, 0] = -pts[:, 0]
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        pts = pts @ np.array([[c, s], [-s, c]])
    placed: Points = pts * size + np.array([x, y])
    return placed


@dataclass(frozen=True, slots=True)
class Stage:
    """Where subjects can stand and float, and how fast the world moves.

    Attributes:
        palette: Scene colours.
        setting: The scene's setting.
        ground: The nearest land layer (subjects on land stand on it), if any.
        has_water: Whether there is an open water surface below the horizon.
        aspect: Width over height of the frame.
        speed: Pace multiplier for all motion.
        lead: World x offset that keeps subjects in view while the camera pans.
    """

    palette: Palette
    setting: Setting
    ground: Ridge | None
    has_water: bool
    aspect: float
    speed: float
    lead: float

    def ground_y(self, x: float) -> tuple[float, float]:
        """World y of the ground at x and that ground's depth."""
        if self.ground is None:
            return HORIZON + 0.3, 0.9
        return float(self.ground.height(np.array([x]))[0]), self.ground.depth


@dataclass
class SubjectDrawer:
    """Base class: one subject kind, possibly several instances, drawn each frame."""

    stage: Stage
    rng: np.random.Generator
    count: int = 1
    depth: float = 0.5
    slots: list[tuple[float, float, float]] = field(default_factory=list)

    def setup(self) -> None:
        """Chooses positions; subclasses override."""

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        """Draws the subject at time ``t`` seconds."""
        raise NotImplementedError

    def _spread(self, n: int, width: float) -> list[float]:
        base = np.linspace(-width / 2, width / 2, n) if n > 1 else np.array([0.0])
        jitter = self.rng.uniform(-0.3, 0.3, n) * (width / max(n, 1))
        return [float(v + j + self.stage.lead) for v, j in zip(base, jitter, strict=True)]


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
            quad = _arr([(-w0, y0), (w0, y0), (w1, y1), (-w1, y1)])
            fill_poly(
                frame, [cam.points(_place(quad, x, y, size), self.depth)], red if i % 2 else white
            )
        dark = pal.silhouette
        fill_poly(
            frame,
            [
                cam.points(
                    _place(
                        _arr([(-0.08, -0.78), (0.08, -0.78), (0.08, -0.8), (-0.08, -0.8)]),
                        x,
                        y,
                        size,
                    ),
                    self.depth,
                )
            ],
            dark,
        )
        lamp = _arr([(-0.045, -0.8), (0.045, -0.8), (0.045, -0.9), (-0.045, -0.9)])
        fill_poly(frame, [cam.points(_place(lamp, x, y, size), self.depth)], pal.accent)
        roof = _arr([(-0.06, -0.9), (0.06, -0.9), (0.0, -0.98)])
        fill_poly(frame, [cam.points(_place(roof, x, y, size), self.depth)], red)
        lamp_xy = cam.points(_place(_arr([(0.0, -0.85)]), x, y, size), self.depth)[0]
        beam_strength = 0.12 + 0.3 * (1 - pal.daylight)
        angle = t * 1.4 * self.stage.speed
        reach = cam.width * 0.6
        spread = 0.09
        direction = math.cos(angle)
        if abs(direction) > 0.05:
            tip = lamp_xy[0] + direction * reach
            beam = _arr(
                [
                    (lamp_xy[0], lamp_xy[1]),
                    (tip, lamp_xy[1] - reach * spread),
                    (tip, lamp_xy[1] + reach * spread),
                ]
            )
            blend_poly(frame, [beam], pal.accent, beam_strength * abs(direction))
        radial_sprite(
            glow_radius(cam.scale(self.depth) * size * 0.12), pal.accent, 0.8 * (1.2 - pal.daylight)
        ).blit(frame, float(lamp_xy[0]), float(lamp_xy[1]))


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
            hull = _arr([(-0.55, -0.12), (0.6, -0.12), (0.42, 0.08), (-0.4, 0.08)])
            mast = _arr([(-0.015, -0.12), (0.015, -0.12), (0.015, -1.25), (-0.015, -1.25)])
            main = _arr([(0.03, -0.18), (0.03, -1.2), (0.5, -0.2)])
            jib = _arr([(-0.03, -0.2), (-0.03, -1.05), (-0.45, -0.16)])
            ax, ay = x + drift, y + bob * size
            hull_color = pal.lit((120, 60, 40), depth * 0.5)
            sail = pal.lit((245, 242, 230), depth * 0.5)
            fill_poly(frame, [cam.points(_place(hull, ax, ay, size, roll), depth)], hull_color)
            fill_poly(frame, [cam.points(_place(mast, ax, ay, size, roll), depth)], pal.silhouette)
            fill_poly(
                frame,
                [
                    cam.points(_place(main, ax, ay, size, roll), depth),
                    cam.points(_place(jib, ax, ay, size, roll), depth),
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
            hull = _arr([(-1.0, -0.18), (1.1, -0.22), (0.85, 0.06), (-0.9, 0.06)])
            deck = _arr([(-0.6, -0.18), (0.5, -0.2), (0.5, -0.42), (-0.5, -0.42)])
            bridge = _arr([(-0.3, -0.42), (0.2, -0.42), (0.2, -0.58), (-0.3, -0.58)])
            funnel = _arr([(0.25, -0.42), (0.42, -0.42), (0.45, -0.78), (0.28, -0.78)])
            fill_poly(
                frame,
                [cam.points(_place(hull, ax, ay, size), depth)],
                pal.lit((40, 44, 60), depth * 0.5),
            )
            fill_poly(
                frame,
                [cam.points(_place(p, ax, ay, size), depth) for p in (deck, bridge)],
                pal.lit((236, 232, 222), depth * 0.5),
            )
            fill_poly(
                frame,
                [cam.points(_place(funnel, ax, ay, size), depth)],
                pal.lit((180, 40, 36), depth * 0.5),
            )
            smoke = mix(pal.silhouette, (200, 200, 205), 0.6)
            for k in range(6):
                age = (t * 0.5 + k / 6) % 1.0
                puff = _ellipse(
                    0.36 - age * 1.6, -0.85 - age * 0.7, 0.08 + 0.2 * age, 0.06 + 0.14 * age, 16
                )
                blend_poly(
                    frame, [cam.points(_place(puff, ax, ay, size), depth)], smoke, 0.35 * (1 - age)
                )
            if pal.windows > 0.3:
                for k in range(5):
                    win = _ellipse(-0.5 + 0.22 * k, -0.1, 0.03, 0.03, 8)
                    fill_poly(frame, [cam.points(_place(win, ax, ay, size), depth)], pal.accent)


class Birds(SubjectDrawer):
    """A flock that flaps across the sky."""

    def setup(self) -> None:
        n = 5 + 3 * self.count + int(self.rng.integers(0, 4))
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [
            (
                float(self.rng.uniform(-0.25, 0.25)),
                float(self.rng.uniform(-0.08, 0.08)),
                float(self.rng.uniform(0.018, 0.03)),
            )
            for _ in range(n)
        ]
        self.start = -self.direction * 0.3 * self.stage.aspect + self.stage.lead
        self.height = float(self.rng.uniform(-0.32, -0.15))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        color = mix(pal.silhouette, (20, 20, 26), 0.5)
        lines = []
        thickness = max(1, round(cam.height / 400))
        for i, (dx, dy, size) in enumerate(self.slots):
            phase = t * 7.0 * self.stage.speed + i * 0.9
            flap = math.sin(phase)
            x = (
                self.start
                + self.direction * t * 0.07 * self.stage.speed
                + dx
                + 0.01 * math.sin(t + i)
            )
            y = self.height + dy + 0.006 * math.sin(phase * 0.5 + i)
            wing = _arr(
                [
                    (-1.0, -0.2 + 0.7 * flap),
                    (-0.45, -0.35 + 0.2 * flap),
                    (0.0, 0.0),
                    (0.45, -0.35 + 0.2 * flap),
                    (1.0, -0.2 + 0.7 * flap),
                ]
            )
            lines.append(cam.points(_place(wing, x, y, size), 0.3))
        stroke(frame, lines, color, thickness)


class Whale(SubjectDrawer):
    """A whale: a tail that rises and slaps at sea, a slow swimmer underwater."""

    def setup(self) -> None:
        self.underwater = self.stage.setting is Setting.UNDERWATER
        x = float(self.rng.uniform(-0.3, 0.3)) + self.stage.lead
        self.slots = [
            (x, 0.05 if self.underwater else HORIZON + 0.1, 0.35 if self.underwater else 0.12)
        ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, size = self.slots[0]
        body_color = pal.lit((58, 70, 92), 0.3)
        if self.underwater:
            sway = math.sin(t * 1.6 * self.stage.speed) * 0.12
            ax = x - 0.4 + t * 0.03 * self.stage.speed
            body = _arr(
                [
                    (-1.0, 0.0),
                    (-0.7, -0.22),
                    (0.0, -0.3),
                    (0.7, -0.15),
                    (1.05, -0.02 + sway * 0.3),
                    (0.7, 0.08),
                    (0.0, 0.2),
                    (-0.75, 0.16),
                ]
            )
            tail = _arr(
                [(1.0, -0.02), (1.35, -0.2 + sway), (1.25, 0.0 + sway * 0.5), (1.35, 0.18 + sway)]
            )
            fin = _arr([(-0.3, 0.12), (-0.1, 0.4), (0.0, 0.15)])
            fill_poly(
                frame,
                [cam.points(_place(p, ax, y, size, flip=True), 0.5) for p in (body, tail, fin)],
                body_color,
            )
            return
        cycle = (t * 0.25 * self.stage.speed) % 1.0
        rise = max(0.0, math.sin(cycle * 2 * math.pi))
        depth = 0.5
        if rise > 0.01:
            stock = _arr([(-0.08, 0.0), (0.08, 0.0), (0.05, -0.5), (-0.05, -0.5)])
            flukes = _arr(
                [
                    (0.0, -0.48),
                    (0.55, -0.75),
                    (0.35, -0.5),
                    (0.0, -0.56),
                    (-0.35, -0.5),
                    (-0.55, -0.75),
                ]
            )
            pts = [_place(p, x, y, size) for p in (stock, flukes)]
            for p in pts:
                p[:, 1] = y + (p[:, 1] - y) * rise
            fill_poly(frame, [cam.points(p, depth) for p in pts], body_color)
            foam = mix(pal.sun, (255, 255, 255), 0.5)
            ring = _ellipse(x, y, 0.12 * size * 3 * (0.5 + rise), 0.01, 20)
            blend_poly(frame, [cam.points(ring, depth)], foam, 0.4)


class Fish(SubjectDrawer):
    """A school of small fish weaving together."""

    def setup(self) -> None:
        n = 14 + 6 * self.count
        self.slots = [
            (
                float(self.rng.uniform(-0.3, 0.3)),
                float(self.rng.uniform(-0.12, 0.12)),
                float(self.rng.uniform(0, 6.28)),
            )
            for _ in range(n)
        ]
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.underwater = self.stage.setting is Setting.UNDERWATER
        self.center_y = 0.0 if self.underwater else HORIZON + 0.22

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        color = (
            pal.lit((236, 150, 60), 0.2)
            if self.underwater
            else mix(pal.water[-1].tolist(), (10, 20, 30), 0.4)
        )
        size = 0.03 if self.underwater else 0.02
        cx = (
            self.stage.lead
            - self.direction * 0.35 * self.stage.aspect
            + self.direction * t * 0.05 * self.stage.speed
        )
        polys = []
        for dx, dy, ph in self.slots:
            wig = math.sin(t * 2.0 * self.stage.speed + ph)
            x = cx + dx + 0.02 * wig
            y = self.center_y + dy + 0.015 * math.sin(t * 1.3 + ph)
            tail = 0.25 * math.sin(t * 12 * self.stage.speed + ph)
            body = _arr(
                [
                    (-0.5, 0.0),
                    (-0.1, -0.22),
                    (0.35, -0.1),
                    (0.5, 0.0),
                    (0.35, 0.1),
                    (-0.1, 0.22),
                    (-0.5, 0.0),
                    (-0.8, -0.25 + tail),
                    (-0.8, 0.25 + tail),
                ]
            )
            polys.append(cam.points(_place(body, x, y, size, flip=self.direction < 0), 0.6))
        if self.underwater:
            fill_poly(frame, polys, color)
        else:
            blend_poly(frame, polys, color, 0.6)


class Car(SubjectDrawer):
    """Cars driving along the nearest road, headlights on after dark."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        for i in range(self.count):
            self.slots.append(
                (float(i * 0.45 + self.rng.uniform(0, 0.2)), 0.0, float(self.rng.uniform(0.8, 1.1)))
            )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        span = 2.4 * self.stage.aspect
        colors = [(200, 40, 40), (40, 90, 180), (230, 200, 60), (230, 230, 230), (40, 150, 90)]
        for i, (off, _, speed) in enumerate(self.slots):
            x = (off + t * 0.12 * speed * self.stage.speed + span / 2) % span - span / 2
            x = self.direction * x + self.stage.lead
            gy, depth = self.stage.ground_y(x)
            size = 0.12
            body = _arr(
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
                [cam.points(_place(body, x, gy, size, flip=self.direction < 0), depth)],
                pal.lit(colors[i % len(colors)], 0.0),
            )
            wheels = [_ellipse(wx, -0.08, 0.09, 0.09, 14) for wx in (-0.3, 0.3)]
            fill_poly(
                frame, [cam.points(_place(w, x, gy, size), depth) for w in wheels], (18, 18, 20)
            )
            if pal.windows > 0.3:
                lamp = cam.points(
                    _place(_arr([(0.5, -0.15)]), x, gy, size, flip=self.direction < 0), depth
                )[0]
                radial_sprite(glow_radius(cam.scale(depth) * size * 0.5), pal.accent, 0.9).blit(
                    frame, float(lamp[0]), float(lamp[1])
                )


class Train(SubjectDrawer):
    """A locomotive and its carriages running along a track."""

    def setup(self) -> None:
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.slots = [(0.0, HORIZON + 0.1, 0.07)]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        _, y, size = self.slots[0]
        depth = 0.5
        track = cam.points(_arr([(-10.0, y + 0.002), (10.0, y + 0.002)]), depth)
        stroke(frame, [track], pal.silhouette, max(1, cam.height // 360))
        head = (
            self.stage.lead
            - self.direction * 0.7 * self.stage.aspect
            + self.direction * t * 0.12 * self.stage.speed
        )
        body_color = pal.lit((150, 40, 36), depth * 0.4)
        car_color = pal.lit((40, 70, 110), depth * 0.4)
        polys, cars, windows = [], [], []
        loco = _arr(
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
        polys.append(cam.points(_place(loco, head, y, size, flip=self.direction < 0), depth))
        for k in range(1, 6):
            cx = head - self.direction * (2.25 * k) * size / size * size
            wagon = _arr([(-1.0, -0.1), (1.0, -0.1), (1.0, -0.75), (-1.0, -0.75)])
            cars.append(cam.points(_place(wagon, cx, y, size), depth))
            for wx in (-0.6, 0.0, 0.6):
                windows.append(
                    cam.points(
                        _place(
                            _arr(
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
                    _ellipse(0.0, -0.75, 0.42, 0.45, 30)[15:],
                    _arr([(0.42, -0.75), (0.12, -0.12), (-0.12, -0.12), (-0.42, -0.75)]),
                ]
            )
            a_pts = np.linspace(0, math.pi, 24)
            stripe = np.concatenate(
                [
                    np.stack([0.16 * np.cos(a_pts), -0.75 - 0.45 * np.sin(a_pts)], axis=1),
                    _arr([(-0.16, -0.75), (-0.05, -0.12), (0.05, -0.12), (0.16, -0.75)]),
                ]
            )
            fill_poly(
                frame, [cam.points(_place(env, ax, ay, size), depth)], pal.lit(a, depth * 0.5)
            )
            fill_poly(
                frame, [cam.points(_place(stripe, ax, ay, size), depth)], pal.lit(b, depth * 0.5)
            )
            basket = _arr([(-0.08, 0.02), (0.08, 0.02), (0.07, 0.12), (-0.07, 0.12)])
            fill_poly(
                frame,
                [cam.points(_place(basket, ax, ay, size), depth)],
                pal.lit((110, 70, 40), depth * 0.5),
            )
            ropes = [
                cam.points(_place(_arr([(sx, -0.12), (sx * 0.6, 0.02)]), ax, ay, size), depth)
                for sx in (-0.12, 0.12)
            ]
            stroke(frame, ropes, pal.silhouette, 1)


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
            head = _ellipse(0.0, -0.88, 0.07, 0.08, 16)
            body = _arr([(-0.1, -0.78), (0.1, -0.78), (0.08, -0.42), (-0.08, -0.42)])
            legs = [_arr([(0.0, -0.44), (s, 0.0)]) for s in (stride, -stride)]
            arms = [_arr([(0.0, -0.74), (-s * 0.8, -0.46)]) for s in (stride, -stride)]
            fill_poly(
                frame, [cam.points(_place(p, x, gy, size), depth) for p in (head, body)], color
            )
            thick = max(1, round(cam.scale(depth) * size * 0.06))
            stroke(
                frame,
                [cam.points(_place(p, x, gy, size), depth) for p in legs + arms],
                color,
                thick,
            )


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
            wall = _arr([(-0.5, 0.0), (0.5, 0.0), (0.5, -0.55), (-0.5, -0.55)])
            roof = _arr([(-0.62, -0.5), (0.62, -0.5), (0.0, -0.95)])
            chimney = _arr([(0.22, -0.7), (0.34, -0.7), (0.34, -0.95), (0.22, -0.95)])
            fill_poly(
                frame, [cam.points(_place(wall, x, gy, size), depth)], pal.lit((222, 200, 160), 0.0)
            )
            fill_poly(
                frame,
                [cam.points(_place(p, x, gy, size), depth) for p in (roof, chimney)],
                pal.lit((150, 60, 44), 0.0),
            )
            door = _arr([(-0.08, 0.0), (0.08, 0.0), (0.08, -0.28), (-0.08, -0.28)])
            fill_poly(
                frame, [cam.points(_place(door, x, gy, size), depth)], pal.lit((90, 60, 40), 0.0)
            )
            lit = mix(pal.lit((70, 90, 110), 0.0), pal.accent, pal.windows)
            wins = [
                _arr([(wx - 0.09, -0.3), (wx + 0.09, -0.3), (wx + 0.09, -0.45), (wx - 0.09, -0.45)])
                for wx in (-0.3, 0.3)
            ]
            fill_poly(frame, [cam.points(_place(w, x, gy, size), depth) for w in wins], lit)
            smoke = mix(pal.sky[0].tolist(), (230, 230, 230), 0.5)
            for k in range(5):
                age = (t * 0.3 + k / 5) % 1.0
                puff = _ellipse(
                    0.28 + 0.25 * age + 0.05 * math.sin(age * 9),
                    -1.0 - age * 0.8,
                    0.05 + 0.1 * age,
                    0.05 + 0.08 * age,
                    14,
                )
                blend_poly(
                    frame, [cam.points(_place(puff, x, gy, size), depth)], smoke, 0.3 * (1 - age)
                )


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
        crown_color = pal.lit((56, 120, 60), 0.0)
        dark = pal.lit((36, 84, 44), 0.0)
        for x, phase, size in self.slots:
            gy, depth = self.stage.ground_y(x)
            gy += 0.01
            sway = math.sin(t * 1.2 * self.stage.speed + phase) * 0.03
            trunk = _arr([(-0.05, 0.0), (0.05, 0.0), (0.03 + sway, -0.55), (-0.03 + sway, -0.55)])
            fill_poly(
                frame, [cam.points(_place(trunk, x, gy, size), depth)], pal.lit((90, 62, 40), 0.0)
            )
            blobs = [(-0.18, -0.62, 0.26), (0.18, -0.66, 0.25), (0.0, -0.86, 0.3)]
            fill_poly(
                frame,
                [
                    cam.points(
                        _place(_ellipse(bx + sway * 1.5, by, r, r * 0.9, 22), x, gy, size), depth
                    )
                    for bx, by, r in blobs
                ],
                dark,
            )
            fill_poly(
                frame,
                [
                    cam.points(
                        _place(
                            _ellipse(bx + sway * 1.6 - 0.03, by - 0.03, r * 0.8, r * 0.7, 22),
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
        hill = _ellipse(0.0, 0.12, 1.4, 0.3, 40)
        fill_poly(
            frame,
            [cam.points(_place(hill, x, y, size), depth)],
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
            polys.append(_arr([(x0, 0.0), (x1, 0.0), (x1, top), (x0, top)]))
            w = x1 - x0
            for k in range(int(w / 0.1)):
                cx = x0 + (k + 0.5) * w / int(w / 0.1)
                if k % 2 == 0:
                    polys.append(
                        _arr(
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
                    _arr([(x0 - 0.03, top - 0.04), (x1 + 0.03, top - 0.04), (mid, top - 0.3)])
                )
                wave = [
                    (mid + 0.02 + 0.04 * k, top - 0.38 + 0.015 * math.sin(t * 6 + k + mid * 9))
                    for k in range(5)
                ]
                flags.append(
                    np.concatenate(
                        [
                            _arr([(mid, top - 0.3), (mid, top - 0.44)]),
                            _arr(wave[::-1]),
                            _arr([(mid, top - 0.34)]),
                        ]
                    )
                )
        fill_poly(frame, [cam.points(_place(p, x, y, size), depth) for p in polys], stone)
        fill_poly(frame, [cam.points(_place(p, x, y, size), depth) for p in roofs], roof)
        fill_poly(
            frame,
            [cam.points(_place(p, x, y, size), depth) for p in flags],
            pal.lit((210, 40, 40), 0.3),
        )
        gate = _arr([(-0.1, 0.0), (0.1, 0.0), (0.1, -0.18), (0.0, -0.24), (-0.1, -0.18)])
        fill_poly(
            frame,
            [cam.points(_place(gate, x, y, size), depth)],
            mix(pal.silhouette, pal.accent, pal.windows * 0.6),
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
                _ellipse(0.0, k * 0.25 + 0.1, 0.15 + 0.05 * k, 0.12 + 0.03 * k, 14)
                for k in range(8)
            ]
            for k, p in enumerate(trail):
                wy = p.copy()
                wy[:, 1] = np.minimum(wy[:, 1] * size + y, y0 + 0.02) - y
                blend_poly(
                    frame,
                    [cam.points(_place(wy, x, y, size), depth)],
                    (225, 222, 215),
                    0.28 - 0.025 * k,
                )
        flick = 0.8 + 0.2 * math.sin(t * 40.0) + 0.1 * math.sin(t * 23.0)
        flame = _arr([(-0.07, 0.0), (0.07, 0.0), (0.0, 0.45 * flick)])
        core = _arr([(-0.04, 0.0), (0.04, 0.0), (0.0, 0.25 * flick)])
        body = _arr(
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
            _arr([(-0.08, 0.0), (-0.2, 0.06), (-0.08, -0.22)]),
            _arr([(0.08, 0.0), (0.2, 0.06), (0.08, -0.22)]),
        ]
        fill_poly(
            frame, [cam.points(_place(flame, x, y, size, angle), depth)], pal.graded((255, 150, 40))
        )
        fill_poly(
            frame, [cam.points(_place(core, x, y, size, angle), depth)], pal.graded((255, 240, 180))
        )
        fill_poly(
            frame,
            [cam.points(_place(body, x, y, size, angle), depth)],
            pal.lit((232, 232, 236), 0.0),
        )
        fill_poly(
            frame,
            [cam.points(_place(f, x, y, size, angle), depth) for f in fins],
            pal.lit((200, 50, 40), 0.0),
        )
        window = _ellipse(0.0, -0.55, 0.035, 0.035, 12)
        fill_poly(
            frame,
            [cam.points(_place(window, x, y, size, angle), depth)],
            pal.lit((60, 120, 200), 0.0),
        )


class Moon(SubjectDrawer):
    """A large moon, pale by day and glowing by night."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.35, 0.35)) * self.stage.aspect
        self.slots = [(x, float(self.rng.uniform(-0.3, -0.18)), 0.1)]
        self.glow = radial_sprite(
            int(self.stage.palette.sky.shape[0] * 0.3),
            (230, 230, 215),
            0.25 + 0.4 * (1 - self.stage.palette.daylight),
        )

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, r = self.slots[0]
        sx, sy = cam.to_screen(x, y, 0.05)
        self.glow.blit(frame, float(sx), float(sy))
        disc = mix(pal.sky[0].tolist(), (238, 236, 222), 0.35 + 0.65 * (1 - pal.daylight * 0.5))
        fill_poly(frame, [cam.points(_ellipse(x, y, r, r, 48), 0.05)], disc)
        crater = mix(disc, (150, 150, 160), 0.35)
        craters = [
            _ellipse(x + dx * r, y + dy * r, rr * r, rr * r, 16)
            for dx, dy, rr in (
                (-0.35, -0.2, 0.2),
                (0.3, 0.25, 0.15),
                (0.05, -0.45, 0.1),
                (-0.1, 0.45, 0.12),
            )
        ]
        fill_poly(frame, [cam.points(c, 0.05) for c in craters], crater)


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
                    _arr(
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
        body = _arr([(-0.5, -0.03), (0.45, -0.04), (0.55, 0.0), (0.45, 0.04), (-0.5, 0.03)])
        wing = _arr([(0.05, 0.0), (-0.2, 0.42), (-0.3, 0.42), (-0.1, 0.0)])
        wing2 = _arr([(0.05, 0.0), (-0.12, -0.25), (-0.2, -0.25), (-0.1, 0.0)])
        fin = _arr([(-0.4, -0.02), (-0.52, -0.22), (-0.58, -0.22), (-0.5, 0.0)])
        color = mix(pal.silhouette, (200, 205, 215), pal.daylight)
        fill_poly(
            frame,
            [
                cam.points(_place(p, x, y, size, flip=self.direction < 0), depth)
                for p in (body, wing, wing2, fin)
            ],
            color,
        )
        if pal.windows > 0.3 and int(t * 2) % 2 == 0:
            lamp = cam.points(
                _place(_arr([(-0.25, 0.42)]), x, y, size, flip=self.direction < 0), depth
            )[0]
            radial_sprite(max(3, cam.height // 150), (255, 60, 60), 1.0).blit(
                frame, float(lamp[0]), float(lamp[1])
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
            tower = _arr([(-0.16, 0.0), (0.16, 0.0), (0.09, -0.62), (-0.09, -0.62)])
            cap = _arr([(-0.11, -0.6), (0.11, -0.6), (0.0, -0.74)])
            fill_poly(
                frame,
                [cam.points(_place(p, x, gy, size), depth) for p in (tower, cap)],
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
                blades.append(_arr(pts))
            fill_poly(
                frame,
                [cam.points(_place(b, x, gy, size), depth) for b in blades],
                pal.lit((240, 236, 226), 0.0),
            )


class Planet(SubjectDrawer):
    """A ringed planet hanging in the sky."""

    def setup(self) -> None:
        x = float(self.rng.uniform(-0.3, 0.3)) * self.stage.aspect
        self.slots = [
            (x, float(self.rng.uniform(-0.22, -0.1)), float(self.rng.uniform(0.12, 0.17)))
        ]
        self.tilt = float(self.rng.uniform(-0.35, -0.15))

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        pal = self.stage.palette
        x, y, r = self.slots[0]
        depth = 0.06
        base = pal.graded((214, 170, 120))
        shade = mix(base, (20, 16, 30), 0.55)
        ring = pal.graded((230, 210, 170))
        a = np.linspace(0, 2 * math.pi, 64, endpoint=False)
        c, s = math.cos(self.tilt), math.sin(self.tilt)

        def ring_pts(rx: float, ry: float, sel: npt.NDArray[np.bool_]) -> Points:
            xs, ys = rx * np.cos(a[sel]), ry * np.sin(a[sel])
            return np.stack([x + xs * c - ys * s, y + xs * s + ys * c], axis=1)

        back = np.sin(a) < 0
        outer, inner = ring_pts(2.1 * r, 0.5 * r, back), ring_pts(1.5 * r, 0.34 * r, back)
        blend_poly(frame, [cam.points(np.concatenate([outer, inner[::-1]]), depth)], ring, 0.8)
        fill_poly(frame, [cam.points(_ellipse(x, y, r, r, 56), depth)], base)
        crescent = np.concatenate(
            [_ellipse(x, y, r, r, 56)[14:43], _ellipse(x + 0.35 * r, y, r * 0.8, r, 56)[42:13:-1]]
        )
        blend_poly(frame, [cam.points(crescent, depth)], shade, 0.7)
        band = _ellipse(x, y - 0.25 * r, r * 0.97, r * 0.08, 40)
        blend_poly(frame, [cam.points(band, depth)], mix(base, (160, 100, 70), 0.5), 0.5)
        front = ~back
        outer, inner = ring_pts(2.1 * r, 0.5 * r, front), ring_pts(1.5 * r, 0.34 * r, front)
        blend_poly(frame, [cam.points(np.concatenate([outer, inner[::-1]]), depth)], ring, 0.85)


_DRAWERS: dict[SubjectKind, type[SubjectDrawer]] = {
    SubjectKind.LIGHTHOUSE: Lighthouse,
    SubjectKind.SAILBOAT: Sailboat,
    SubjectKind.SHIP: Ship,
    SubjectKind.BIRDS: Birds,
    SubjectKind.WHALE: Whale,
    SubjectKind.FISH: Fish,
    SubjectKind.CAR: Car,
    SubjectKind.TRAIN: Train,
    SubjectKind.BALLOON: Balloon,
    SubjectKind.PERSON: Person,
    SubjectKind.HOUSE: House,
    SubjectKind.TREE: Tree,
    SubjectKind.CASTLE: Castle,
    SubjectKind.ROCKET: Rocket,
    SubjectKind.MOON: Moon,
    SubjectKind.AIRPLANE: Airplane,
    SubjectKind.WINDMILL: Windmill,
    SubjectKind.PLANET: Planet,
}

# Far things are drawn first so near ones cover them.
_ORDER = [
    SubjectKind.PLANET, SubjectKind.MOON, SubjectKind.AIRPLANE, SubjectKind.BIRDS, SubjectKind.BALLOON,
    SubjectKind.CASTLE, SubjectKind.TRAIN, SubjectKind.SHIP, SubjectKind.WHALE, SubjectKind.FISH,
    SubjectKind.SAILBOAT, SubjectKind.WINDMILL, SubjectKind.HOUSE, SubjectKind.TREE, SubjectKind.LIGHTHOUSE,
    SubjectKind.ROCKET, SubjectKind.CAR, SubjectKind.PERSON,
]  # fmt: skip


def make_subjects(
    subjects: tuple[Subject, ...], stage: Stage, rng: np.random.Generator
) -> list[SubjectDrawer]:
    """Builds the drawers for a plan's subjects, far to near, each with its own random stream."""
    drawers: list[SubjectDrawer] = []
    for subject in sorted(subjects, key=lambda s: _ORDER.index(s.kind)):
        child = np.random.default_rng(rng.integers(0, 2**63))
        drawer = _DRAWERS[subject.kind](
            stage=stage, rng=child, count=max(1, min(subject.count, 12))
        )
        drawer.setup()
        drawers.append(drawer)
    return drawers
