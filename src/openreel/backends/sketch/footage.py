"""Layers the sketch engine lays over footage it did not draw: light, weather and style.

Used by edits of uploaded (or other models') videos, and by the cross-fade that starts an
extension of an uploaded video. The light grade is a per-channel lookup table built from the
engine's own time-of-day light (``palette.light_of``), so a night edit darkens and cools the
footage as the engine darkens its own scenes; weather reuses the engine's rain, snow, storm
and fog; a style is the engine's own colour grade. Nothing moves or removes what is in the
picture: the engine cannot honestly do that to real footage.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.edit import FootageEdit
from openreel.backends.sketch.palette import build_palette, grade, light_of
from openreel.backends.sketch.plan import Setting, Style, TimeOfDay, Weather
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.weather import Fog, Lightning, Precipitation

__all__ = ["FootageLayers", "cross_fade"]

Frame = npt.NDArray[np.uint8]


class FootageLayers:
    """The layers of one :class:`FootageEdit`, precomputed for one size and clip."""

    def __init__(
        self, edit: FootageEdit, *, width: int, height: int, fps: int, frames: int, seed: int
    ) -> None:
        self.fps = fps
        rng = np.random.default_rng(seed)
        time = edit.time_of_day
        self.lut: npt.NDArray[np.uint8] | None = None
        if time is not None and time is not TimeOfDay.DAY:
            light = np.array(light_of(time), np.float32)
            values = np.arange(256, dtype=np.float32)[:, None] * light[None, :]
            self.lut = np.clip(values, 0, 255).astype(np.uint8).reshape(256, 1, 3)
        self.style = edit.style if edit.style is not Style.NATURAL else None
        palette = build_palette(
            Setting.COUNTRYSIDE,
            time or TimeOfDay.DAY,
            edit.style or Style.NATURAL,
            height,
            0.5 + HORIZON,
        )
        weather = edit.weather
        self.precipitation = (
            Precipitation.create(weather, palette, width, height, rng, 1.0)
            if weather in (Weather.RAIN, Weather.SNOW, Weather.STORM)
            else None
        )
        self.fog = (
            Fog.create(palette, width, height, int(height * (0.5 + HORIZON)))
            if weather is Weather.FOG
            else None
        )
        self.lightning = (
            Lightning.create(frames / fps, width, height, rng) if weather is Weather.STORM else None
        )

    def apply(self, frame: Frame, index: int) -> Frame:
        """Lays the layers over ``frame`` (in place where it can) and returns it."""
        t = index / self.fps
        if self.lut is not None:
            frame = np.asarray(cv2.LUT(frame, self.lut), dtype=np.uint8)
        if self.style is not None:
            frame = grade(frame.astype(np.float32), self.style).astype(np.uint8)
        if self.fog is not None:
            self.fog.draw(frame)
        if self.precipitation is not None:
            self.precipitation.draw(frame, t)
        if self.lightning is not None:
            self.lightning.draw(frame, t)
        return np.ascontiguousarray(frame)


def cross_fade(start: Frame, scene: Frame, index: int, frames: int) -> Frame:
    """Frame ``index`` of a ``frames``-long dissolve from ``start`` into ``scene``."""
    if index >= frames:
        return scene
    weight = (index + 1) / (frames + 1)
    return np.asarray(cv2.addWeighted(start, 1.0 - weight, scene, weight, 0.0), dtype=np.uint8)
