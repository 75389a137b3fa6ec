"""A character in a sketch scene: the cut-out from its clip, moving through the scene.

The cut-out (an RGBA picture made when the character was created, see
``media.cutout``) is scaled to a third of the frame's height and walks across the lower
part of the scene, left to right over the clip with a gentle bob, in front of the scene's
other subjects. Where it is at each moment is plain data (:meth:`CharacterPath.to_dict`), so
the video's plan says where the character is and tests can look for it there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import Sprite
from openreel.errors import InvalidRequestError

__all__ = ["CharacterPath", "CharacterSprite"]

HEIGHT = 0.34
"""The character's height as a fraction of the frame's."""


@dataclass(frozen=True, slots=True)
class CharacterPath:
    """Where the character's centre goes, in fractions of the frame (0..1, from the top left).

    Attributes:
        start: Centre at the first frame.
        end: Centre at the last frame.
        height: Height as a fraction of the frame's.
    """

    start: tuple[float, float] = (0.22, 0.7)
    end: tuple[float, float] = (0.78, 0.7)
    height: float = HEIGHT

    def centre(self, u: float) -> tuple[float, float]:
        """The centre at ``u`` (0 at the first frame, 1 at the last), bob included."""
        x = self.start[0] + (self.end[0] - self.start[0]) * u
        y = self.start[1] + (self.end[1] - self.start[1]) * u
        return x, y + 0.01 * math.sin(u * math.pi * 8)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for the plan."""
        return {"start": list(self.start), "end": list(self.end), "height": self.height}


class CharacterSprite:
    """The cut-out, scaled for one frame size, drawn along a :class:`CharacterPath`."""

    def __init__(self, cutout: Path, path: CharacterPath, *, width: int, height: int) -> None:
        rgba = cv2.imread(str(cutout), cv2.IMREAD_UNCHANGED)
        if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
            raise InvalidRequestError("the character's cut-out could not be read", param="prompt")
        target_h = max(8, round(height * path.height))
        scale = target_h / rgba.shape[0]
        target_w = max(4, round(rgba.shape[1] * scale))
        resized = cv2.resize(rgba, (target_w, target_h), interpolation=cv2.INTER_AREA)
        color = cv2.cvtColor(resized[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32)
        alpha = resized[..., 3].astype(np.float32) / 255.0
        self.sprite = Sprite.from_rgba(color, alpha)
        self.path = path
        self.width, self.height = width, height

    def draw(self, frame: npt.NDArray[np.uint8], u: float) -> None:
        """Draws the character where the path puts it at ``u`` (0..1 through the clip)."""
        x, y = self.path.centre(u)
        self.sprite.blit(frame, x * self.width, y * self.height)
