"""Land animals: dogs, cats, horses, deer, foxes, rabbits, bears and the farm, savanna and
storybook animals people ask for (sheep, cows, pigs, lions, tigers, zebras, giraffes, elephants,
pandas, squirrels, unicorns) on the nearest ground.

They share one body plan (subjects/quadruped.py: a four-legged animal seen from the side), so
each species is a :class:`Build` of proportions and features rather than a drawer of its own: one gait model then
makes all of them walk, run, leap or play as the prompt's verb says. The horse also carries
riders: it says where a rider sits (:meth:`Horse.seat`) and asks any drawer that can sit
(:class:`Rider`) to draw itself there, so a person, or any other figure that learns to sit,
rides it.
"""

from __future__ import annotations

import math
from dataclasses import replace as dataclass_replace

from openreel.backends.sketch.draw import CameraState, fill_each, fill_poly, stroke
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.subjects.acting import Rider, Seat
from openreel.backends.sketch.subjects.quadruped import Build, Quadruped
from openreel.backends.sketch.subjects.shapes import ellipse, place, vertices
from openreel.backends.sketch.subjects.stage import Frame

__all__ = [
    "Bear",
    "Cat",
    "Cow",
    "Deer",
    "Dog",
    "Elephant",
    "Fox",
    "Giraffe",
    "Horse",
    "Lion",
    "Panda",
    "Pig",
    "Rabbit",
    "Sheep",
    "Squirrel",
    "Tiger",
    "Unicorn",
    "Zebra",
]


class Dog(Quadruped):
    """A dog that trots; playing, it runs after a bouncing ball."""

    build = Build(
        size=0.17,
        body=(0.42, 0.17),
        leg=0.42,
        leg_width=0.1,
        neck=(0.1, -0.22),
        head=(0.14, 0.12),
        snout=(0.13, 0.07),
        ears="flop",
        ear=0.15,
        tail="up",
        tail_length=0.3,
        color=(168, 112, 62),
        accent=(236, 226, 206),
    )

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        if self.action is not Action.PLAYING or i != 0:
            return
        x, gy, size, depth = at
        ahead = (0.9 + 0.25 * math.sin(t * 0.8 * self.stage.speed)) * self.direction
        bounce = abs(math.sin(t * 4.0 * self.stage.speed)) * 0.35
        ball = ellipse(x + ahead * size, gy - (0.06 + bounce) * size, 0.07 * size, 0.07 * size, 14)
        color = self.stage.palette.lit((228, 70, 50), 0.0)
        fill_poly(frame, [cam.points(ball, depth)], color)


class Cat(Quadruped):
    """A cat that prowls; playing or leaping, it pounces."""

    build = Build(
        size=0.12,
        body=(0.4, 0.15),
        leg=0.36,
        leg_width=0.09,
        neck=(0.06, -0.12),
        head=(0.13, 0.12),
        snout=(0.04, 0.05),
        ears="point",
        ear=0.14,
        tail="up",
        tail_length=0.55,
        color=(92, 88, 96),
        accent=(230, 226, 220),
        walk=0.7,
    )


class Fox(Quadruped):
    """A red fox, low and quick, its bushy tail white at the tip."""

    build = Build(
        size=0.15,
        body=(0.42, 0.14),
        leg=0.36,
        leg_width=0.08,
        neck=(0.1, -0.13),
        head=(0.13, 0.1),
        snout=(0.16, 0.05),
        ears="point",
        ear=0.16,
        tail="bush",
        tail_length=0.55,
        color=(214, 104, 38),
        accent=(246, 240, 228),
        walk=1.0,
        run=3.6,
    )


class Bear(Quadruped):
    """A heavy bear that lumbers; even running it is slow for its size."""

    build = Build(
        size=0.24,
        body=(0.5, 0.25),
        leg=0.36,
        leg_width=0.16,
        neck=(0.08, -0.02),
        head=(0.16, 0.14),
        snout=(0.1, 0.08),
        ears="round",
        ear=0.1,
        tail="stub",
        tail_length=0.1,
        color=(96, 64, 40),
        accent=(84, 56, 36),
        walk=0.5,
        run=2.0,
    )


class Deer(Quadruped):
    """Deer on long slim legs, stags with antlers, a white flash of tail."""

    build = Build(
        size=0.19,
        body=(0.4, 0.15),
        leg=0.62,
        leg_width=0.06,
        neck=(0.16, -0.36),
        head=(0.13, 0.08),
        snout=(0.1, 0.05),
        ears="point",
        ear=0.14,
        tail="stub",
        tail_length=0.1,
        color=(170, 112, 66),
        accent=(244, 236, 222),
    )

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        if i % 2:
            return  # every other one a doe
        x, gy, size, depth = at
        phase = self.pose(i, cam, t)[4]
        b = self.build
        lift = self._lift(phase)
        nod = 0.04 * math.sin(phase) if self.action is Action.WALKING else 0.06 * math.sin(phase)
        cy = -b.leg - b.body[1] * 0.6 - lift
        hx = b.body[0] + b.neck[0] - 0.04
        hy = cy - b.body[1] + b.neck[1] + nod - b.head[1] * 0.8
        antler = [
            vertices([(hx, hy), (hx - 0.06, hy - 0.2), (hx - 0.16, hy - 0.34)]),
            vertices([(hx - 0.05, hy - 0.16), (hx + 0.06, hy - 0.28)]),
            vertices([(hx - 0.1, hy - 0.26), (hx - 0.04, hy - 0.38)]),
        ]
        color = self.stage.palette.lit((120, 92, 62), 0.0)
        thick = max(1, round(cam.scale(depth) * size * 0.03))
        stroke(
            frame,
            [cam.points(place(a, x, gy, size, flip=self.direction < 0), depth) for a in antler],
            color,
            thick,
        )


class Rabbit(Quadruped):
    """A rabbit that hops, long ears bobbing."""

    default_action = Action.JUMPING
    build = Build(
        size=0.09,
        body=(0.34, 0.2),
        leg=0.2,
        leg_width=0.12,
        neck=(0.0, -0.04),
        head=(0.15, 0.13),
        snout=(0.04, 0.06),
        ears="long",
        ear=0.32,
        tail="stub",
        tail_length=0.16,
        color=(150, 126, 104),
        accent=(246, 244, 240),
        walk=1.2,
        run=4.0,
    )

    def act(self, action: Action | None) -> None:
        """A rabbit always hops; running makes the hops quicker and longer."""
        super().act(action)
        self.action = Action.PLAYING if action is Action.RUNNING else Action.JUMPING


class Horse(Quadruped):
    """A horse that walks or gallops, with a mane and a rider when one rides it."""

    build = Build(
        size=0.22,
        body=(0.5, 0.2),
        leg=0.62,
        leg_width=0.08,
        neck=(0.3, -0.3),
        head=(0.16, 0.085),
        snout=(0.15, 0.065),
        ears="point",
        ear=0.1,
        tail="hang",
        tail_length=0.6,
        color=(128, 78, 46),
        accent=(58, 38, 28),
        droop=0.07,
        walk=0.8,
        run=3.0,
    )

    def setup(self) -> None:
        super().setup()
        self.riders: list[Rider] = []

    def mount(self, rider: Rider) -> None:
        """Puts ``rider`` on the horses; it draws its ``i``-th figure on horse ``i``."""
        self.riders.append(rider)

    def seat(self, i: int, cam: CameraState, t: float) -> Seat:
        """Where a rider of horse ``i`` sits at time ``t``: the saddle, above the back."""
        x, gy, size, depth, phase = self.pose(i, cam, t)
        b = self.build
        lift = self._lift(phase)
        flip = self.direction < 0
        back = -b.leg - b.body[1] * 1.5 - lift
        sx = -0.05 if not flip else 0.05
        return Seat(x + sx * size, gy + back * size, 0.95 * size, depth, flip, phase)

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        x, gy, size, depth = at
        b = self.build
        phase = self.pose(i, cam, t)[4]
        lift = self._lift(phase)
        nod = 0.04 * math.sin(phase) if self.action is Action.WALKING else 0.06 * math.sin(phase)
        cy = -b.leg - b.body[1] * 0.6 - lift
        hx, hy = b.body[0] + b.neck[0], cy - b.body[1] + b.neck[1] + nod
        flow = 0.03 * math.sin(phase * 1.3)
        ax, ay = hx - b.head[0] * 0.5, hy - b.head[1] * 0.6  # where the neck meets the head
        bx, by = b.body[0] * 0.5, cy - b.body[1] * 0.95  # the withers
        length = math.hypot(ax - bx, ay - by)
        nx, ny = (ay - by) / length * 0.07, -(ax - bx) / length * 0.07  # up the neck's back
        mane = vertices(
            [
                (ax + 0.5 * nx, ay + 0.5 * ny),
                (bx + 0.5 * nx, by + 0.5 * ny),
                (bx - 0.6 * nx - 0.03, by - 0.6 * ny + flow),
                (ax - 0.6 * nx - flow, ay - 0.6 * ny),
            ]
        )
        color = self.stage.palette.lit(b.accent, 0.0)
        fill_poly(
            frame, [cam.points(place(mane, x, gy, size, flip=self.direction < 0), depth)], color
        )
        if self.riders:
            self.riders[0].draw_seated(frame, cam, self.seat(i, cam, t), i)


# --- Farm, savanna and storybook animals: the same body plan, other builds ----------------------


class Sheep(Quadruped):
    """A woolly cream sheep with a dark face and dark legs, grazing its way along."""

    build = Build(
        size=0.13,
        body=(0.4, 0.23),
        leg=0.28,
        leg_width=0.07,
        neck=(0.04, -0.04),
        head=(0.11, 0.09),
        snout=(0.07, 0.05),
        ears="flop",
        ear=0.1,
        tail="stub",
        tail_length=0.14,
        color=(238, 232, 216),
        accent=(238, 232, 216),
        walk=0.5,
        run=2.6,
        legs=(44, 40, 38),
        face=(44, 40, 38),
    )


class Cow(Quadruped):
    """A black-and-white cow, heavy and slow."""

    build = Build(
        size=0.21,
        body=(0.5, 0.22),
        leg=0.42,
        leg_width=0.11,
        neck=(0.12, -0.06),
        head=(0.13, 0.1),
        snout=(0.1, 0.08),
        ears="flop",
        ear=0.1,
        tail="stub",
        tail_length=0.1,
        color=(240, 238, 230),
        accent=(40, 36, 34),
        droop=0.05,
        walk=0.45,
        run=2.0,
        marks="patches",
        mark=(40, 36, 34),
    )


class Pig(Quadruped):
    """A pink pig on short legs, its flat snout forward."""

    build = Build(
        size=0.12,
        body=(0.4, 0.21),
        leg=0.22,
        leg_width=0.09,
        neck=(0.02, -0.02),
        head=(0.14, 0.12),
        snout=(0.08, 0.07),
        ears="point",
        ear=0.1,
        tail="stub",
        tail_length=0.08,
        color=(236, 168, 166),
        accent=(220, 136, 142),
        walk=0.6,
        run=2.4,
    )


class Lion(Quadruped):
    """A tawny lion with a dark mane round its head."""

    build = Build(
        size=0.2,
        body=(0.48, 0.18),
        leg=0.4,
        leg_width=0.11,
        neck=(0.1, -0.12),
        head=(0.15, 0.13),
        snout=(0.1, 0.07),
        ears="round",
        ear=0.08,
        tail="up",
        tail_length=0.55,
        color=(206, 160, 92),
        accent=(122, 78, 42),
        walk=0.7,
        run=3.4,
        mane=(150, 90, 42),
    )


class Tiger(Quadruped):
    """An orange tiger with dark stripes, prowling."""

    build = Build(
        size=0.2,
        body=(0.5, 0.17),
        leg=0.38,
        leg_width=0.11,
        neck=(0.1, -0.1),
        head=(0.15, 0.12),
        snout=(0.09, 0.07),
        ears="round",
        ear=0.08,
        tail="up",
        tail_length=0.6,
        color=(228, 128, 40),
        accent=(246, 236, 220),
        walk=0.7,
        run=3.4,
        marks="stripes",
        mark=(32, 24, 22),
    )


class Elephant(Quadruped):
    """A grey elephant on thick legs, big ears flat to its head and a trunk hanging down."""

    build = Build(
        size=0.32,
        body=(0.5, 0.3),
        leg=0.45,
        leg_width=0.2,
        neck=(0.04, 0.04),
        head=(0.2, 0.18),
        snout=(0.14, 0.06),
        ears="flop",
        ear=0.32,
        tail="hang",
        tail_length=0.35,
        color=(138, 136, 134),
        accent=(112, 110, 108),
        droop=0.42,
        walk=0.4,
        run=1.6,
    )


class Giraffe(Quadruped):
    """A giraffe on very long legs with a long neck, patched brown on gold."""

    build = Build(
        size=0.3,
        body=(0.32, 0.15),
        leg=0.72,
        leg_width=0.05,
        neck=(0.32, -0.85),
        head=(0.1, 0.06),
        snout=(0.08, 0.04),
        ears="point",
        ear=0.08,
        tail="hang",
        tail_length=0.4,
        color=(226, 176, 84),
        accent=(110, 68, 34),
        walk=0.6,
        run=2.4,
        marks="patches",
        mark=(128, 78, 38),
    )


class Panda(Quadruped):
    """A giant panda: white, with black legs, ears and eye patches; it ambles."""

    build = Build(
        size=0.2,
        body=(0.46, 0.25),
        leg=0.32,
        leg_width=0.16,
        neck=(0.06, -0.02),
        head=(0.16, 0.14),
        snout=(0.07, 0.07),
        ears="round",
        ear=0.1,
        tail="stub",
        tail_length=0.1,
        color=(240, 240, 234),
        accent=(240, 240, 234),
        walk=0.4,
        run=1.8,
        legs=(30, 30, 32),
    )

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        x, gy, size, depth = at
        phase = self.pose(i, cam, t)[4]
        hx, hy = self._head_centre(phase, self._lift(phase))
        b = self.build
        e = b.ear
        ex, ey = hx - b.head[0] * 0.35, hy - b.head[1] * 0.7
        black = [
            ellipse(ex, ey - 0.2 * e, 0.45 * e, 0.4 * e, 12),
            ellipse(hx + b.head[0] * 0.3, hy - b.head[1] * 0.15, 0.05, 0.04, 10),
        ]
        flip = self.direction < 0
        fill_each(
            frame,
            [cam.points(place(p, x, gy, size, flip=flip), depth) for p in black],
            self.stage.palette.lit((30, 30, 32), 0.0),
        )


class Squirrel(Quadruped):
    """A small red-brown squirrel, its big bushy tail behind it; it scampers."""

    default_action = Action.RUNNING
    build = Build(
        size=0.07,
        body=(0.32, 0.14),
        leg=0.22,
        leg_width=0.08,
        neck=(0.02, -0.08),
        head=(0.13, 0.11),
        snout=(0.05, 0.05),
        ears="point",
        ear=0.1,
        tail="plume",
        tail_length=0.55,
        color=(156, 86, 46),
        accent=(236, 220, 200),
        walk=1.0,
        run=3.0,
    )


class Zebra(Horse):
    """A zebra: the horse's body, white with black stripes and a black mane."""

    build = dataclass_replace(
        Horse.build,
        color=(238, 238, 232),
        accent=(30, 30, 30),
        marks="stripes",
        mark=(30, 30, 30),
    )


class Unicorn(Horse):
    """A white horse with a pale mane and a golden horn; it gallops unless told otherwise."""

    default_action = Action.RUNNING
    build = dataclass_replace(Horse.build, color=(246, 244, 248), accent=(214, 186, 236))

    def extras(
        self,
        frame: Frame,
        cam: CameraState,
        i: int,
        at: tuple[float, float, float, float],
        t: float,
    ) -> None:
        x, gy, size, depth = at
        phase = self.pose(i, cam, t)[4]
        hx, hy = self._head_centre(phase, self._lift(phase))
        b = self.build
        base = (hx + 0.02, hy - b.head[1] * 0.8)
        horn = vertices(
            [
                (base[0] - 0.035, base[1] + 0.01),
                (base[0] + 0.1, base[1] - 0.24),
                (base[0] + 0.035, base[1] + 0.02),
            ]
        )
        fill_poly(
            frame,
            [cam.points(place(horn, x, gy, size, flip=self.direction < 0), depth)],
            self.stage.palette.lit((236, 196, 90), 0.0),
        )
        super().extras(frame, cam, i, at, t)
