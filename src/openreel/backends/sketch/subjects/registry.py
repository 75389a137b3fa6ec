"""Which drawer draws each subject kind, and the order they are drawn in.

Adding a subject kind means a drawer in the module of its kind and one line in each table here;
the renderer only ever calls :func:`make_subjects`.
"""

from __future__ import annotations

import zlib

import numpy as np

from openreel.backends.sketch.plan import Subject, SubjectKind
from openreel.backends.sketch.subjects.animals import Birds, Fish, Whale
from openreel.backends.sketch.subjects.buildings import Castle, House, Lighthouse, Windmill
from openreel.backends.sketch.subjects.camp import Campfire, Fireworks, Kite, Tent
from openreel.backends.sketch.subjects.celestial import Moon, Planet
from openreel.backends.sketch.subjects.people import Astronaut, Person, Robot
from openreel.backends.sketch.subjects.plants import Flowers, Tree
from openreel.backends.sketch.subjects.rides import Bicycle, Motorcycle, Ridden
from openreel.backends.sketch.subjects.stage import Stage, SubjectDrawer
from openreel.backends.sketch.subjects.vehicles import (
    Airplane,
    Balloon,
    Car,
    Helicopter,
    Rocket,
    Sailboat,
    Ship,
    Train,
)

__all__ = ["make_subjects"]

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
    # issue 25: people's things and doings
    SubjectKind.ASTRONAUT: Astronaut,
    SubjectKind.BICYCLE: Bicycle,
    SubjectKind.MOTORCYCLE: Motorcycle,
    SubjectKind.HELICOPTER: Helicopter,
    SubjectKind.KITE: Kite,
    SubjectKind.TENT: Tent,
    SubjectKind.CAMPFIRE: Campfire,
    SubjectKind.ROBOT: Robot,
    SubjectKind.FLOWERS: Flowers,
    SubjectKind.FIREWORKS: Fireworks,
}

# Far things are drawn first so near ones cover them.
_ORDER = [
    SubjectKind.PLANET, SubjectKind.MOON, SubjectKind.FIREWORKS, SubjectKind.AIRPLANE,
    SubjectKind.HELICOPTER, SubjectKind.BIRDS, SubjectKind.KITE, SubjectKind.BALLOON,
    SubjectKind.CASTLE, SubjectKind.TRAIN, SubjectKind.SHIP, SubjectKind.WHALE, SubjectKind.FISH,
    SubjectKind.SAILBOAT, SubjectKind.WINDMILL, SubjectKind.HOUSE, SubjectKind.TENT, SubjectKind.TREE,
    SubjectKind.LIGHTHOUSE, SubjectKind.ROCKET, SubjectKind.CAMPFIRE, SubjectKind.CAR,
    SubjectKind.MOTORCYCLE, SubjectKind.BICYCLE, SubjectKind.PERSON, SubjectKind.ASTRONAUT,
    SubjectKind.ROBOT, SubjectKind.FLOWERS,
]  # fmt: skip

# Each kind's random stream is keyed by its place in the order the engine first drew them in;
# later kinds by their name, so adding a kind (or drawing it at another depth) never moves the
# subjects of scenes made before.
_FIRST_ORDER = [
    SubjectKind.PLANET, SubjectKind.MOON, SubjectKind.AIRPLANE, SubjectKind.BIRDS, SubjectKind.BALLOON,
    SubjectKind.CASTLE, SubjectKind.TRAIN, SubjectKind.SHIP, SubjectKind.WHALE, SubjectKind.FISH,
    SubjectKind.SAILBOAT, SubjectKind.WINDMILL, SubjectKind.HOUSE, SubjectKind.TREE, SubjectKind.LIGHTHOUSE,
    SubjectKind.ROCKET, SubjectKind.CAR, SubjectKind.PERSON,
]  # fmt: skip

# Subjects that carry a rider of their own: a person the prompt names rides one of them
# ("a man riding a bicycle" is one man, on the bicycle), rather than walking beside it.
_CARRIES_RIDER = (SubjectKind.BICYCLE, SubjectKind.MOTORCYCLE)


def _stream_key(kind: SubjectKind) -> int:
    if kind in _FIRST_ORDER:
        return _FIRST_ORDER.index(kind)
    return zlib.crc32(kind.value.encode())


def _riders_on_board(subjects: tuple[Subject, ...]) -> tuple[tuple[Subject, ...], bool]:
    """The subjects with those who ride the plan's bicycles and motorcycles taken out, and
    whether the riders are astronauts ("an astronaut on a bicycle" is one, in a suit)."""
    seats = sum(s.count for s in subjects if s.kind in _CARRIES_RIDER)
    if not seats:
        return subjects, False
    suited = any(s.kind is SubjectKind.ASTRONAUT for s in subjects)
    rider = SubjectKind.ASTRONAUT if suited else SubjectKind.PERSON
    out = []
    for subject in subjects:
        if subject.kind is not rider:
            out.append(subject)
        elif subject.count > seats:
            out.append(Subject(subject.kind, subject.count - seats))
    return tuple(out), suited


def make_subjects(
    subjects: tuple[Subject, ...], stage: Stage, rng: np.random.Generator
) -> list[SubjectDrawer]:
    """Builds the drawers for a plan's subjects, far to near, each with its own random stream.

    A kind's stream is keyed by the kind, not by its place among the others, so adding or
    removing a subject (an edit: "without the birds") leaves every other one where it was.
    """
    drawers: list[SubjectDrawer] = []
    base = int(rng.integers(0, 2**63))
    drawn, suited = _riders_on_board(subjects)
    for subject in sorted(drawn, key=lambda s: _ORDER.index(s.kind)):
        child = np.random.default_rng([base, _stream_key(subject.kind)])
        drawer = _DRAWERS[subject.kind](
            stage=stage, rng=child, count=max(1, min(subject.count, 12))
        )
        if isinstance(drawer, Ridden):
            drawer.rider_suit = suited
        drawer.setup()
        drawers.append(drawer)
    return drawers
