"""Which drawer draws each subject kind, and the order they are drawn in.

Adding a subject kind means a drawer in the module of its kind and one line in each table here;
the renderer only ever calls :func:`make_subjects`.
"""

from __future__ import annotations

import numpy as np

from openreel.backends.sketch.plan import Subject, SubjectKind
from openreel.backends.sketch.subjects.animals import Birds, Fish, Whale
from openreel.backends.sketch.subjects.buildings import Castle, House, Lighthouse, Windmill
from openreel.backends.sketch.subjects.celestial import Moon, Planet
from openreel.backends.sketch.subjects.people import Person
from openreel.backends.sketch.subjects.plants import Tree
from openreel.backends.sketch.subjects.stage import Stage, SubjectDrawer
from openreel.backends.sketch.subjects.vehicles import (
    Airplane,
    Balloon,
    Car,
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
    """Builds the drawers for a plan's subjects, far to near, each with its own random stream.

    A kind's stream is keyed by the kind, not by its place among the others, so adding or
    removing a subject (an edit: "without the birds") leaves every other one where it was.
    """
    drawers: list[SubjectDrawer] = []
    base = int(rng.integers(0, 2**63))
    for subject in sorted(subjects, key=lambda s: _ORDER.index(s.kind)):
        child = np.random.default_rng([base, _ORDER.index(subject.kind)])
        drawer = _DRAWERS[subject.kind](
            stage=stage, rng=child, count=max(1, min(subject.count, 12))
        )
        drawer.setup()
        drawers.append(drawer)
    return drawers
