"""The visible "AI-generated" label burned into every frame OpenReel writes.

A label survives re-encoding, scaling and screenshots, which metadata does not; C2PA says who
made a file, the label tells anyone who merely watches it (an alpha blend, the approach the
hosted generators use; benchmarks/sketch.py weighs its cost). It sits in a corner, small (about
2.5% of the frame's shorter side tall), as white text on a translucent dark plate, so it stays
readable on any scene and off the subject, which scenes frame near the centre.

The patch is drawn once per frame size with OpenCV's anti-aliased text, and blended in place
into the region it covers: a few hundred thousand integer operations per 1080p frame, not a
copy of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from openreel.errors import InvalidRequestError

__all__ = ["Corner", "LabelSpec", "Labeler"]

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
_CORNERS: tuple[Corner, ...] = ("bottom-right", "bottom-left", "top-right", "top-left")


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """What the label says and where it goes.

    Attributes:
        text: ASCII text (OpenCV's built-in fonts draw ASCII only), at most 40 characters.
        corner: Which corner.
        opacity: Opacity of the plate behind the text, 0..1 (the text itself is opaque).
    """

    text: str = "AI-generated"
    corner: Corner = "bottom-right"
    opacity: float = 0.55

    def __post_init__(self) -> None:
        if not self.text or len(self.text) > 40 or not self.text.isascii():
            raise InvalidRequestError.for_value(
                "label.text", self.text, "must be 1 to 40 ASCII characters"
            )
        if self.corner not in _CORNERS:
            raise InvalidRequestError.for_value(
                "label.corner", self.corner, f"must be one of {', '.join(_CORNERS)}"
            )
        if not 0.0 <= self.opacity <= 1.0:
            raise InvalidRequestError.for_value("label.opacity", self.opacity, "must be 0 to 1")

    def as_dict(self) -> dict[str, str | float]:
        """The label as a signed manifest records it, so a server receiving the video can
        tell it carries this very label (``services.relay``)."""
        return {"text": self.text, "corner": self.corner, "opacity": self.opacity}


class Labeler:
    """Blends one label into frames of one size."""

    def __init__(self, spec: LabelSpec, width: int, height: int) -> None:
        self.spec = spec
        side = min(width, height)
        scale = max(0.28, side * 0.025 / 22.0)  # Hershey glyphs are about 22 px at scale 1
        thickness = max(1, round(scale * 1.6))
        font = cv2.FONT_HERSHEY_DUPLEX
        (text_w, text_h), baseline = cv2.getTextSize(spec.text, font, scale, thickness)
        pad = max(2, round(text_h * 0.45))
        plate_w = min(width, text_w + 2 * pad)
        plate_h = min(height, text_h + baseline + 2 * pad)
        margin = max(2, round(side * 0.02))
        x0 = margin if spec.corner.endswith("left") else width - margin - plate_w
        y0 = margin if spec.corner.startswith("top") else height - margin - plate_h
        self.box = (max(0, x0), max(0, y0), plate_w, plate_h)

        # Coverage of the text (anti-aliased), drawn white on black at the plate's size.
        text = np.zeros((plate_h, plate_w), np.uint8)
        cv2.putText(text, spec.text, (pad, pad + text_h), font, scale, 255, thickness, cv2.LINE_AA)
        coverage = text.astype(np.int32)  # 0..255
        plate = round(spec.opacity * 256)
        # Weight of the label over the frame (0..256) and its premultiplied colour: the plate
        # is black at ``opacity``; text pixels become white, fully opaque at full coverage.
        alpha = np.maximum(plate, (coverage * 256 + 127) // 255)
        self._keep = (256 - alpha)[..., None].astype(np.uint16)
        self._add = ((coverage * 255 * 256 + 127) // 255)[..., None].astype(np.uint16)
        self._text = coverage >= 200
        self._plate = coverage == 0

    def apply(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Blends the label into ``frame`` in place (and returns it)."""
        x0, y0, w, h = self.box
        region = frame[y0 : y0 + h, x0 : x0 + w]
        blended = (region.astype(np.uint16) * self._keep + self._add) >> 8
        region[...] = blended.astype(np.uint8)
        return frame

    def shown_in(self, frame: npt.NDArray[np.uint8]) -> bool:
        """Whether ``frame`` (RGB, or one brightness plane such as decoded video's luma)
        visibly carries this label where this labeler puts it.

        Decoded H.264 is never the exact blend, so the test is its shape: in the label's box
        the brightness must follow the text's coverage (correlation at least 0.9) with the
        text well above the plate. Measured over encoded frames from 256x144 to 1280x720 a
        labelled frame scores 0.99; the same corner with other words about 0.4, and plain
        picture near 0. At a size where the text is only a few pixels tall the test may say
        no, which costs a re-render, never an unlabelled video.
        """
        x0, y0, w, h = self.box
        if frame.shape[0] < y0 + h or frame.shape[1] < x0 + w:
            return False
        region = frame[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
        grey = region.mean(axis=2) if region.ndim == 3 else region
        if not self._text.any() or not self._plate.any():
            return False
        contrast = float(grey[self._text].mean() - grey[self._plate].mean())
        spread = float(grey.std())
        if contrast < 100 or spread == 0:
            return False
        coverage = self._add[..., 0].astype(np.float32)
        correlation = float(np.corrcoef(grey.ravel(), coverage.ravel())[0, 1])
        return correlation >= 0.9
