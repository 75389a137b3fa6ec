"""What drawers that act on the prompt's verb share: the verb, wrapping round, and riding.

An animal keeps a habit (a dog trots, a dragon flies) and takes the prompt's verb when its body
can do it. A mount says where its rider sits (:class:`Seat`); anything that can sit
(:class:`Rider`) draws itself there, so a person, or any figure that learns to sit, can ride.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.plan import Action
from openreel.backends.sketch.subjects.stage import Frame, SubjectDrawer

__all__ = ["Animal", "Rider", "Seat", "wrap"]


class Animal(SubjectDrawer):
    """A drawer whose motion follows a verb.

    Attributes:
        default_action: What it does when the prompt does not say.
        actions: The verbs its body can do; others leave it to its habit.
    """

    default_action: Action = Action.WALKING
    actions: frozenset[Action] = frozenset()
    asked: Action | None = None  # the verb the prompt gave, even one it cannot do

    def act(self, action: Action | None) -> None:
        """Takes the prompt's verb for this subject (``None`` when it named none)."""
        self.asked = action
        self.action = action if action in self.actions else self.default_action

    def setup(self) -> None:
        self.asked = None
        self.action = self.default_action


@dataclass(frozen=True, slots=True)
class Seat:
    """Where a rider sits on a mount at one moment, in world units.

    Attributes:
        x: World x of the saddle.
        y: World y of the saddle (the rider's hips).
        size: The size a standing person drawn there has (in proportion to the mount).
        depth: The mount's layer depth.
        flip: Whether the mount faces left.
        stride: The mount's gait phase, for the rider's bounce.
    """

    x: float
    y: float
    size: float
    depth: float
    flip: bool
    stride: float


@runtime_checkable
class Rider(Protocol):
    """A drawer that can sit on a mount."""

    def draw_seated(self, frame: Frame, cam: CameraState, seat: Seat, index: int) -> None:
        """Draws figure ``index`` sitting at ``seat`` (nothing if it has no such figure)."""


def wrap(x: float, center: float, half: float) -> float:
    """``x`` brought within ``half`` of ``center``: one that leaves the view comes back round."""
    return center + ((x - center + half) % (2 * half)) - half
