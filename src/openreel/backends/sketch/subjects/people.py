"""People: figures on the nearest ground that walk, run, dance or stand, and astronauts.

A figure is a small skeleton (hip, knees, feet, shoulders, elbows, hands) whose joint angles are
functions of time, so a gait is a cycle and a dance a loop; the same skeleton seated is a rider
(:func:`draw_rider`), which is how bicycles, motorcycles and other mounts carry a person or an
astronaut. A plain person, when the prompt says nothing of what they do, keeps the engine's
original walk, so scenes made before these actions look as they did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from openreel.backends.sketch.draw import CameraState, Points, fill_poly, stroke
from openreel.backends.sketch.palette import RGB, Palette, mix
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

if TYPE_CHECKING:
    from openreel.backends.sketch.subjects.acting import Seat

__all__ = ["Astronaut", "Person", "Robot", "draw_rider", "stride_speed"]

_THIGH, _SHIN = 0.23, 0.22
_UPPER_ARM, _FOREARM = 0.16, 0.15
_HIP_Y, _SHOULDER_Y = -0.44, -0.75

# World units per second at normal pace, and gait cycles per second.
_SPEED = {Action.STANDING: 0.0, Action.WALKING: 0.02, Action.RUNNING: 0.075, Action.DANCING: 0.0}
_CADENCE = {Action.STANDING: 0.3, Action.WALKING: 0.75, Action.RUNNING: 1.5, Action.DANCING: 0.9}


def stride_speed(action: Action | None) -> float:
    """How far a figure doing ``action`` travels per second at normal pace (world units)."""
    if action is None:
        return 0.015
    return _SPEED.get(action, _SPEED[Action.WALKING])


@dataclass(frozen=True, slots=True)
class _Look:
    """How a figure is coloured and built: a silhouette, or a white suit with a helmet."""

    body: RGB
    limb: float  # line thickness as a fraction of the figure's size
    suit: bool = False
    visor: RGB = (0, 0, 0)
    trim: RGB = (0, 0, 0)
    robot: bool = False


def _look(palette: Palette, depth: float, suit: bool, robot: bool = False) -> _Look:
    if robot:
        return _Look(
            palette.lit((150, 158, 172), 0.0),
            0.08,
            suit=True,
            visor=palette.graded((90, 230, 255)),
            trim=palette.lit((84, 90, 104), 0.0),
            robot=True,
        )
    if not suit:
        return _Look(mix(palette.silhouette, (8, 8, 12), 0.3), 0.06)
    return _Look(
        palette.lit((234, 236, 240), 0.0),
        0.095,
        suit=True,
        visor=palette.lit((196, 150, 60), 0.0),
        trim=palette.lit((150, 156, 168), 0.0),
    )


def _limb(root: tuple[float, float], a: float, bend: float, l1: float, l2: float) -> Points:
    """A two-bone limb from ``root``: ``a`` from straight down (forward positive), then bent."""
    x0, y0 = root
    x1, y1 = x0 + l1 * math.sin(a), y0 + l1 * math.cos(a)
    x2, y2 = x1 + l2 * math.sin(a + bend), y1 + l2 * math.cos(a + bend)
    return vertices([(x0, y0), (x1, y1), (x2, y2)])


def _reach(
    root: tuple[float, float], target: tuple[float, float], l1: float, l2: float, *, down: bool
) -> Points:
    """A two-bone limb from ``root`` to ``target``, its joint ahead (a knee) or below (an elbow)."""
    x0, y0 = root
    dx, dy = target[0] - x0, target[1] - y0
    d = max(1e-6, math.hypot(dx, dy))
    reach = min(d, l1 + l2 - 1e-6)
    a = math.acos(max(-1.0, min(1.0, (l1 * l1 + reach * reach - l2 * l2) / (2 * l1 * reach))))
    base = math.atan2(dy, dx)
    joints = [
        (x0 + l1 * math.cos(base + sg * a), y0 + l1 * math.sin(base + sg * a)) for sg in (1, -1)
    ]
    joint = max(joints, key=lambda j: j[1] if down else j[0])
    end = (x0 + dx * reach / d, y0 + dy * reach / d)
    return vertices([root, joint, end])


def _pose(action: Action, phase: float, i: int) -> tuple[list[Points], float, float, float]:
    """Limbs of a standing figure doing ``action`` at gait ``phase`` (radians).

    Returns the four limbs (two legs, two arms), the bob (how far the hip rises), the lean
    (forward tilt of the torso, radians) and the sway (hip offset sideways).
    """
    s = math.sin(phase)
    if action is Action.RUNNING:
        lean, bob = 0.22, 0.03 * abs(math.cos(phase))
        legs = [
            _limb(
                (0.0, _HIP_Y),
                0.75 * sg * s,
                -0.3 - 1.1 * max(0.0, -sg * math.cos(phase)),
                _THIGH,
                _SHIN,
            )
            for sg in (1.0, -1.0)
        ]
        arms = [(-0.9 * sg * s, 1.6) for sg in (1.0, -1.0)]
        sway = 0.0
    elif action is Action.DANCING:
        lean, bob = 0.08 * s, 0.025 * abs(s)
        step = 0.25 * math.sin(phase + i)
        legs = [
            _limb((0.0, _HIP_Y), step * sg, -0.25 * max(0.0, sg * s), _THIGH, _SHIN)
            for sg in (1.0, -1.0)
        ]
        # One arm rises as the other falls, the hands high on the beat.
        arms = [
            (math.pi / 2 + 1.1 * sg * math.sin(phase) + 0.3, 0.6 * math.cos(phase * 2))
            for sg in (1.0, -1.0)
        ]
        sway = 0.05 * math.sin(phase)
    elif action is Action.STANDING:
        lean, bob, sway = 0.0, 0.0, 0.0
        legs = [_limb((0.0, _HIP_Y), 0.08 * sg, 0.0, _THIGH, _SHIN) for sg in (1.0, -1.0)]
        arms = [(0.12 * sg + 0.04 * s, 0.15) for sg in (1.0, -1.0)]
    else:  # a walk: heel strike, a soft knee on the swing, arms against the legs
        lean, bob = 0.04, 0.012 * abs(math.cos(phase))
        legs = [
            _limb(
                (0.0, _HIP_Y), 0.4 * sg * s, -0.55 * max(0.0, -sg * math.cos(phase)), _THIGH, _SHIN
            )
            for sg in (1.0, -1.0)
        ]
        arms = [(-0.45 * sg * s, 0.35) for sg in (1.0, -1.0)]
        sway = 0.0
    shoulder = (math.sin(lean) * (_HIP_Y - _SHOULDER_Y), _SHOULDER_Y + 0.02)
    limbs = legs + [_limb(shoulder, a, b, _UPPER_ARM, _FOREARM) for a, b in arms]
    return limbs, bob, lean, sway


def _torso(lean: float, suit: bool) -> tuple[Points, Points, tuple[float, float]]:
    """Torso polygon and head outline for a torso tilted forward by ``lean``."""
    half = 0.12 if suit else 0.1
    hip_half = 0.1 if suit else 0.08
    top = _SHOULDER_Y - 0.03
    dx = math.sin(lean) * (_HIP_Y - top)
    torso = vertices(
        [(-half + dx, top), (half + dx, top), (hip_half, _HIP_Y + 0.02), (-hip_half, _HIP_Y + 0.02)]
    )
    head_c = (dx * 1.15, top - (0.13 if suit else 0.1))
    r = 0.11 if suit else 0.075
    head = ellipse(head_c[0], head_c[1], r, r * (1.0 if suit else 1.1), 20)
    return torso, head, head_c


def _draw_figure(
    frame: Frame,
    cam: CameraState,
    parts: tuple[Points, Points, list[Points], tuple[float, float]],
    at: tuple[float, float, float, float],
    look: _Look,
    flip: bool,
    offset: Points | None = None,
) -> None:
    """Draws a torso, head and limbs (local shapes) at world ``(x, y)``, ``size``, ``depth``.

    ``offset`` moves the suit's fixed details (backpack, belt, chest plate) with the body when
    it bobs, sways or sits.
    """
    torso, head, limbs, head_c = parts
    shift = np.zeros(2) if offset is None else offset
    x, y, size, depth = at
    thick = max(1, round(cam.scale(depth) * size * look.limb))
    to_screen = [cam.points(place(p, x, y, size, flip=flip), depth) for p in limbs]
    if look.suit and not look.robot:
        pack = vertices([(-0.2, -0.72), (-0.1, -0.72), (-0.1, -0.46), (-0.2, -0.46)])
        fill_poly(frame, [cam.points(place(pack + shift, x, y, size, flip=flip), depth)], look.trim)
    stroke(frame, to_screen, look.body, thick)
    fill_poly(
        frame,
        [cam.points(place(p, x, y, size, flip=flip), depth) for p in (torso, head)],
        look.body,
    )
    if look.robot:
        hx, hy = head_c
        box = vertices(
            [
                (hx - 0.1, hy - 0.1),
                (hx + 0.1, hy - 0.1),
                (hx + 0.1, hy + 0.09),
                (hx - 0.1, hy + 0.09),
            ]
        )
        fill_poly(frame, [cam.points(place(box, x, y, size, flip=flip), depth)], look.body)
        eye = vertices(
            [(hx, hy - 0.03), (hx + 0.1, hy - 0.03), (hx + 0.1, hy + 0.02), (hx, hy + 0.02)]
        )
        antenna = vertices([(hx, hy - 0.1), (hx, hy - 0.2)])
        fill_poly(frame, [cam.points(place(eye, x, y, size, flip=flip), depth)], look.visor)
        stroke(frame, [cam.points(place(antenna, x, y, size, flip=flip), depth)], look.trim, thick)
        chest = vertices([(-0.06, -0.7), (0.06, -0.7), (0.06, -0.6), (-0.06, -0.6)])
        fill_poly(
            frame, [cam.points(place(chest + shift, x, y, size, flip=flip), depth)], look.trim
        )
    elif look.suit:
        visor = ellipse(head_c[0] + 0.035, head_c[1] + 0.005, 0.065, 0.05, 16)
        fill_poly(frame, [cam.points(place(visor, x, y, size, flip=flip), depth)], look.visor)
        belt = vertices([(-0.1, -0.5), (0.1, -0.5), (0.1, -0.47), (-0.1, -0.47)])
        fill_poly(frame, [cam.points(place(belt + shift, x, y, size, flip=flip), depth)], look.trim)


def draw_rider(
    frame: Frame,
    cam: CameraState,
    palette: Palette,
    seat: tuple[float, float],
    size: float,
    depth: float,
    *,
    flip: bool = False,
    suit: bool = False,
    feet: tuple[tuple[float, float], tuple[float, float]] | None = None,
    hands: tuple[float, float] | None = None,
) -> None:
    """Draws a person (or an astronaut, ``suit``) seated with the hip at world ``seat``.

    ``size`` is the height of a standing figure in world units, as for :class:`Person`;
    ``feet`` (two points, the pedals of a bicycle) and ``hands`` (the handlebar, the reins) are
    in the same local units, relative to the seat, x forward, y down; without them the legs
    hang forward and the hands rest ahead of the body, which suits a horse.
    """
    look = _look(palette, depth, suit)
    hip = (0.0, _HIP_Y)
    shift = np.array([0.0, -_HIP_Y])  # local hip at the seat
    lean = 0.25
    torso, head, head_c = _torso(lean, suit)
    if feet is None:
        feet = ((0.12, 0.12), (0.1, 0.14))
    if hands is None:
        hands = (0.28, -0.2)
    legs = [_reach(hip, (fx, fy + _HIP_Y), _THIGH, _SHIN, down=False) for fx, fy in feet]
    shoulder = ((torso[0][0] + torso[1][0]) / 2, _SHOULDER_Y + 0.02)
    arm = _reach(shoulder, (hands[0], hands[1] + _HIP_Y), _UPPER_ARM, _FOREARM, down=True)
    limbs = [leg + shift for leg in legs] + [arm + shift]
    parts = (torso + shift, head + shift, limbs, (head_c[0], head_c[1] - _HIP_Y))
    _draw_figure(frame, cam, parts, (seat[0], seat[1], size, depth), look, flip, shift)


class Person(SubjectDrawer):
    """Figures on the nearest ground doing what the prompt says: walk, run, dance or stand."""

    suit = False
    robot = False

    def setup(self) -> None:
        for x in self._spread(self.count, 0.5 * self.stage.aspect):
            self.slots.append((x, 0.0, float(self.rng.uniform(0.11, 0.13))))
        self.direction = 1.0 if self.rng.random() < 0.5 else -1.0
        self.action: Action | None = None

    def act(self, action: Action | None) -> None:
        """Takes this subject's verb: a gait for walking, running, dancing or standing.

        ``None`` keeps the engine's first walk; any other verb (riding with nothing to ride,
        playing) is a walk in the skeleton's gait.
        """
        if action is not None and action not in _SPEED:
            action = Action.WALKING
        self.action = action
        if action is Action.RUNNING:
            # Runners start behind and cross the frame; walkers and dancers stay about put.
            self.slots = [
                (x - self.direction * 0.35 * self.stage.aspect, y, s) for x, y, s in self.slots
            ]

    def draw(self, frame: Frame, cam: CameraState, t: float) -> None:
        if self.action is None and not self.suit and not self.robot:
            self._draw_plain_walk(frame, cam, t)
            return
        action = self.action or Action.WALKING
        pal = self.stage.palette
        speed = self.stage.speed
        for i, (x0, _, size) in enumerate(self.slots):
            flip = self.direction < 0
            x = x0 + self.direction * t * stride_speed(action) * speed
            phase = 2 * math.pi * _CADENCE[action] * speed * t + i * 1.7
            limbs, bob, lean, sway = _pose(action, phase, i)
            if action is Action.DANCING:
                x += 0.03 * math.sin(phase * 0.5 + i)
                # A turn every other beat: the dancer faces the other way.
                flip = (math.sin(phase * 0.5 + i) < 0) != (self.direction < 0)
            gy, depth = self.stage.ground_y(x)
            torso, head, head_c = _torso(lean, self.suit)
            offset = np.array([sway, -bob])
            parts = (torso + offset, head + offset, [p + offset for p in limbs], head_c)
            look = _look(pal, depth, self.suit, self.robot)
            _draw_figure(frame, cam, parts, (x, gy, size, depth), look, flip, offset)

    def _draw_plain_walk(self, frame: Frame, cam: CameraState, t: float) -> None:
        """The engine's first walking figure, for prompts that say nothing of a gait."""
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
        """Draws figure ``index`` riding a mount at ``seat``, bobbing with the mount's stride:
        the same seated skeleton that rides bicycles and motorcycles, hands forward to the reins.
        """
        if index >= self.count:
            return
        y = seat.y - 0.02 * seat.size * abs(math.sin(seat.stride))
        draw_rider(
            frame,
            cam,
            self.stage.palette,
            (seat.x, y),
            seat.size,
            seat.depth,
            flip=seat.flip,
            suit=self.suit,
        )


class Astronaut(Person):
    """A person in a white suit, helmet and backpack, with a gold visor; walks unless told."""

    suit = True


class Robot(Person):
    """A metal humanoid with a boxy head and a glowing eye slit; walks (or runs, dances)."""

    robot = True
