"""Which drawer draws each subject kind, and the order they are drawn in.

Adding a subject kind means a drawer in the module of its kind and one line in each table here;
the renderer only ever calls :func:`make_subjects`.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np

from openreel.backends.sketch.plan import Action, Subject, SubjectKind
from openreel.backends.sketch.subjects.acting import Animal, Rider
from openreel.backends.sketch.subjects.animals import Birds, Dolphin, Fish, Whale
from openreel.backends.sketch.subjects.buildings import Castle, House, Lighthouse, Windmill
from openreel.backends.sketch.subjects.camp import Campfire, Fireworks, Kite, Tent
from openreel.backends.sketch.subjects.celestial import Moon, Planet
from openreel.backends.sketch.subjects.fliers import Butterfly, Dragon
from openreel.backends.sketch.subjects.fowl import Chicken, Flamingo, Penguin
from openreel.backends.sketch.subjects.mammals import (
    Bear,
    Cat,
    Cow,
    Deer,
    Dog,
    Elephant,
    Fox,
    Giraffe,
    Horse,
    Lion,
    Panda,
    Pig,
    Rabbit,
    Sheep,
    Squirrel,
    Tiger,
    Unicorn,
    Zebra,
)
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

# --- Animals (issue 25) --------------------------------------------------------------------------
_DRAWERS |= {
    SubjectKind.DOG: Dog,
    SubjectKind.CAT: Cat,
    SubjectKind.HORSE: Horse,
    SubjectKind.DEER: Deer,
    SubjectKind.FOX: Fox,
    SubjectKind.RABBIT: Rabbit,
    SubjectKind.BEAR: Bear,
    SubjectKind.DOLPHIN: Dolphin,
    SubjectKind.BUTTERFLY: Butterfly,
    SubjectKind.DRAGON: Dragon,
    SubjectKind.SHEEP: Sheep,
    SubjectKind.COW: Cow,
    SubjectKind.PIG: Pig,
    SubjectKind.LION: Lion,
    SubjectKind.TIGER: Tiger,
    SubjectKind.ELEPHANT: Elephant,
    SubjectKind.GIRAFFE: Giraffe,
    SubjectKind.ZEBRA: Zebra,
    SubjectKind.PANDA: Panda,
    SubjectKind.SQUIRREL: Squirrel,
    SubjectKind.UNICORN: Unicorn,
    SubjectKind.PENGUIN: Penguin,
    SubjectKind.CHICKEN: Chicken,
    SubjectKind.FLAMINGO: Flamingo,
}
# Where each is drawn among the others: just after the kind named (drawn over it). Their
# random streams are keyed apart from _ORDER (see _stream), so the kinds already there keep
# their streams and their pixels.
_ANIMALS_AFTER = {
    SubjectKind.DRAGON: SubjectKind.CASTLE,
    SubjectKind.DOLPHIN: SubjectKind.WHALE,
    SubjectKind.DEER: SubjectKind.TREE,
    SubjectKind.BEAR: SubjectKind.TREE,
    SubjectKind.HORSE: SubjectKind.CAR,
    SubjectKind.FOX: SubjectKind.PERSON,
    SubjectKind.DOG: SubjectKind.PERSON,
    SubjectKind.CAT: SubjectKind.PERSON,
    SubjectKind.RABBIT: SubjectKind.PERSON,
    SubjectKind.BUTTERFLY: SubjectKind.PERSON,
    # Appended, never inserted: a kind's place here is its random stream.
    SubjectKind.SHEEP: SubjectKind.PERSON,
    SubjectKind.COW: SubjectKind.PERSON,
    SubjectKind.PIG: SubjectKind.PERSON,
    SubjectKind.LION: SubjectKind.TREE,
    SubjectKind.TIGER: SubjectKind.TREE,
    SubjectKind.ELEPHANT: SubjectKind.TREE,
    SubjectKind.GIRAFFE: SubjectKind.TREE,
    SubjectKind.ZEBRA: SubjectKind.TREE,
    SubjectKind.PANDA: SubjectKind.TREE,
    SubjectKind.SQUIRREL: SubjectKind.PERSON,
    SubjectKind.UNICORN: SubjectKind.CAR,
    SubjectKind.PENGUIN: SubjectKind.PERSON,
    SubjectKind.CHICKEN: SubjectKind.PERSON,
    SubjectKind.FLAMINGO: SubjectKind.PERSON,
}
_ANIMALS = list(_ANIMALS_AFTER)

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
# animals by their place in _ANIMALS_AFTER, later kinds by their name, so adding a kind (or
# drawing it at another depth) never moves the subjects of scenes made before.
_FIRST_ORDER = [
    SubjectKind.PLANET, SubjectKind.MOON, SubjectKind.AIRPLANE, SubjectKind.BIRDS, SubjectKind.BALLOON,
    SubjectKind.CASTLE, SubjectKind.TRAIN, SubjectKind.SHIP, SubjectKind.WHALE, SubjectKind.FISH,
    SubjectKind.SAILBOAT, SubjectKind.WINDMILL, SubjectKind.HOUSE, SubjectKind.TREE, SubjectKind.LIGHTHOUSE,
    SubjectKind.ROCKET, SubjectKind.CAR, SubjectKind.PERSON,
]  # fmt: skip

# Subjects that carry a rider of their own: a person the prompt names rides one of them
# ("a man riding a bicycle" is one man, on the bicycle), rather than walking beside it. Horses
# are mounted instead (_mount_riders): their rider is any drawer that can sit (a Rider), so an
# astronaut or a person keeps their own look in the saddle.
_CARRIES_RIDER = (SubjectKind.BICYCLE, SubjectKind.MOTORCYCLE)


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
            out.append(replace(subject, count=subject.count - seats))
    return tuple(out), suited


def make_subjects(
    subjects: tuple[Subject, ...], stage: Stage, rng: np.random.Generator
) -> list[SubjectDrawer]:
    """Builds the drawers for a plan's subjects, far to near, each with its own random stream.

    A kind's stream is keyed by the kind, not by its place among the others, so adding or
    removing a subject (an edit: "without the birds") leaves every other one where it was.
    """
    drawers: list[SubjectDrawer] = []
    doing: list[Action | None] = []
    base = int(rng.integers(0, 2**63))
    drawn, suited = _riders_on_board(subjects)
    for subject in sorted(drawn, key=lambda s: _rank(s.kind)):
        child = np.random.default_rng([base, _stream(subject.kind)])
        drawer = _DRAWERS[subject.kind](
            stage=stage, rng=child, count=max(1, min(subject.count, 12))
        )
        if isinstance(drawer, Ridden):
            drawer.rider_suit = suited
        drawer.setup()
        if isinstance(drawer, (Animal, Person)):
            drawer.act(subject.action)
        drawers.append(drawer)
        doing.append(subject.action)
    _mount_riders(drawers, doing, stage, base)
    return drawers


def _rank(kind: SubjectKind) -> float:
    """Drawing order: far kinds first; an animal just after the kind it is drawn over."""
    after = _ANIMALS_AFTER.get(kind)
    if after is None:
        return float(_ORDER.index(kind))
    return _ORDER.index(after) + 0.5 + 0.01 * _ANIMALS.index(kind)


def _stream(kind: SubjectKind) -> int:
    """A kind's random stream key: its place in the order the engine first drew kinds in;
    animals numbered after them, and the later kinds keyed by their name."""
    if kind in _FIRST_ORDER:
        return _FIRST_ORDER.index(kind)
    if kind in _ANIMALS_AFTER:
        return 1000 + _ANIMALS.index(kind)
    return zlib.crc32(kind.value.encode())


def _mount_riders(
    drawers: list[SubjectDrawer], doing: list[Action | None], stage: Stage, base: int
) -> None:
    """Seats a rider on the horses: the first subject "riding" that can sit; or, when the
    horse itself is ridden ("on horseback"), the first idle one that can, or a new person.

    A mounted rider is drawn by the horse, right over it, instead of walking on its own.
    """
    horse = next((d for d in drawers if isinstance(d, Horse)), None)
    if horse is None:
        return
    sitters = [(d, a) for d, a in zip(drawers, doing, strict=True) if isinstance(d, Rider)]
    rider: Rider | None = next((d for d, a in sitters if a is Action.RIDING), None)
    if rider is None and horse.asked is Action.RIDING:
        rider = next((d for d, a in sitters if a is None), None)
        if rider is None:
            person = Person(
                stage=stage, rng=np.random.default_rng([base, _stream(SubjectKind.PERSON)])
            )
            person.setup()
            rider = person
    if rider is None:
        return
    horse.mount(rider)
    if isinstance(rider, SubjectDrawer) and rider in drawers:
        drawers.remove(rider)
