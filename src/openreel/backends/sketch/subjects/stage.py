"""What every subject drawer shares: the stage it stands on and the drawer base class.

A drawer chooses its positions once, from its own random stream, when it is set up; after that
each frame is a pure function of time, so frames are repeatable and can be drawn in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.palette import Palette
from openreel.backends.sketch.plan import Action, Setting
from openreel.backends.sketch.scenery import HORIZON, Ridge

__all__ = ["Frame", "Stage", "SubjectDrawer"]

Frame = npt.NDArray[np.uint8]


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
        action: What people do, as the prompt says (None: the plain walk).
    """

    palette: Palette
    setting: Setting
    ground: Ridge | None
    has_water: bool
    aspect: float
    speed: float
    lead: float
    action: Action | None = None

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
