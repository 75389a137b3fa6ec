"""Fitting a picture to a size: scale to cover it, then crop the centre.

Every backend whose model or provider makes another size than the one asked for (hosted
providers, local models at their native size) fits its frames here, so a picture is never
stretched nor letterboxed.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["cover"]

Frame = npt.NDArray[np.uint8]


def cover(frame: Frame, width: int, height: int, *, upscale: int = cv2.INTER_LANCZOS4) -> Frame:
    """Fills ``width`` x ``height`` from ``frame``, scaled to cover it and centre-cropped.

    Shrinking uses area averaging (no aliasing); enlarging uses ``upscale`` (an OpenCV
    interpolation flag). A frame already that size comes back as a contiguous copy.
    """
    src_h, src_w = frame.shape[:2]
    if (src_w, src_h) == (width, height):
        return np.array(frame, dtype=np.uint8, order="C", copy=True)
    factor = max(width / src_w, height / src_h)
    cover_w = max(width, round(src_w * factor))
    cover_h = max(height, round(src_h * factor))
    interpolation = upscale if factor > 1 else cv2.INTER_AREA
    resized = cv2.resize(frame, (cover_w, cover_h), interpolation=interpolation)
    x0 = (cover_w - width) // 2
    y0 = (cover_h - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
