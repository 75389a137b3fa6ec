"""Cutting a character out of a clip: its clearest frame, and the figure in it alone.

A character's clip shows someone or something against a background. The background is
learned over the whole clip with OpenCV's Gaussian-mixture background subtractor (MOG2): what
stays put is background, what moves is the figure. The clearest frame (the sharpest one, by
the variance of its Laplacian, among those where something moved) is then segmented with
GrabCut, seeded from that subtraction: pixels far from any motion are certain background,
moving ones probably foreground, their core certainly. A clip where nothing moves (a still
portrait) seeds GrabCut with the centre of the picture instead. The largest connected region
is kept, cropped to its box, as an RGBA PNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from openreel.errors import InvalidRequestError
from openreel.media.probe import iter_frames

__all__ = ["Cutout", "cut_out"]

WORK_WIDTH: Final = 480
"""Frames are segmented at most this wide: GrabCut's cost grows with the pixel count."""

SAMPLES: Final = 48
"""Frames of the clip the background is learned from (spread evenly over it)."""

_MIN_SHARE: Final = 0.002  # of the frame that must move for a frame to count as "with motion"
_MAX_SHARE: Final = 0.7  # more than this moving is the camera, not the figure


@dataclass(frozen=True, slots=True)
class Cutout:
    """What :func:`cut_out` found.

    Attributes:
        frame_png: The clearest frame, whole, as a PNG.
        cutout_png: The figure alone (RGBA, cropped to its box), as a PNG.
        box: The figure's box in that frame: (x, y, width, height) in pixels.
        seeded_by: ``motion`` or ``centre``: what seeded the segmentation.
    """

    frame_png: bytes
    cutout_png: bytes
    box: tuple[int, int, int, int]
    seeded_by: str


def _sampled(path: Path, frames: int) -> list[npt.NDArray[np.uint8]]:
    step = max(1, frames // SAMPLES)
    return [frame for index, frame in enumerate(iter_frames(path)) if index % step == 0]


def _small(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    height, width = frame.shape[:2]
    if width <= WORK_WIDTH:
        return frame
    size = (WORK_WIDTH, max(2, round(height * WORK_WIDTH / width)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), np.uint8)


def _sharpness(frame: npt.NDArray[np.uint8]) -> float:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def cut_out(path: Path, frames: int, *, param: str = "video") -> Cutout:
    """Finds the clearest frame of the clip at ``path`` and the figure in it.

    Args:
        path: A clip that passed ``media.uploaded.check_video``.
        frames: Its frame count (to spread the samples).
        param: The parameter named in an error.

    Raises:
        InvalidRequestError: No figure could be separated from the background.
    """
    originals = _sampled(path, frames)
    if not originals:
        raise InvalidRequestError(f"{param} has no frames to find a character in", param=param)
    small = [
        np.ascontiguousarray(cv2.cvtColor(_small(f), cv2.COLOR_RGB2BGR), dtype=np.uint8)
        for f in originals
    ]
    subtractor = cv2.createBackgroundSubtractorMOG2(
        history=len(small), varThreshold=24, detectShadows=False
    )
    # A pixel's background is its one most frequent look over the clip: with the default
    # ratio (0.9) a figure that covers a pixel for a fifth of the clip counts as background.
    subtractor.setBackgroundRatio(0.5)
    for _ in range(2):  # twice over, so the model has seen the whole clip before judging
        for frame in small:
            subtractor.apply(frame)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    best: tuple[float, int, npt.NDArray[np.uint8]] | None = None
    for index, frame in enumerate(small):
        moving = subtractor.apply(frame, learningRate=0)
        moving = np.asarray(cv2.morphologyEx(moving, cv2.MORPH_OPEN, kernel), np.uint8)
        share = float(np.count_nonzero(moving)) / moving.size
        if _MIN_SHARE <= share <= _MAX_SHARE:
            score = _sharpness(frame)
            if best is None or score > best[0]:
                best = (score, index, moving.astype(np.uint8))
    height, width = small[0].shape[:2]
    mask = np.full((height, width), cv2.GC_BGD, np.uint8)
    if best is not None:
        _, chosen, moving = best
        near = cv2.dilate(moving, kernel, iterations=6)
        mask[near > 0] = cv2.GC_PR_BGD
        mask[moving > 0] = cv2.GC_PR_FGD
        mask[cv2.erode(moving, kernel, iterations=2) > 0] = cv2.GC_FGD
        seeded_by = "motion"
    else:  # nothing moves: a figure in the middle of a still picture
        chosen = max(range(len(small)), key=lambda i: _sharpness(small[i]))
        mask[height // 10 : height - height // 10, width // 6 : width - width // 6] = cv2.GC_PR_BGD
        mask[height // 4 : height - height // 8, width // 3 : width - width // 3] = cv2.GC_PR_FGD
        seeded_by = "centre"
    background = np.zeros((1, 65), np.float64)
    foreground = np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(
            small[chosen],
            mask,
            None,  # type: ignore[call-overload]  # the rect is unused with a mask
            background,
            foreground,
            5,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error:
        raise InvalidRequestError(
            f"{param} shows no figure that can be told from its background", param=param
        ) from None
    figure = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(figure)
    if count < 2:
        raise InvalidRequestError(
            f"{param} shows no figure that can be told from its background", param=param
        )
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    figure = np.where(labels == largest, 255, 0).astype(np.uint8)
    original = originals[chosen]
    full_h, full_w = original.shape[:2]
    alpha = cv2.resize(figure, (full_w, full_h), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    ys, xs = np.nonzero(alpha > 127)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    bgr = cv2.cvtColor(original, cv2.COLOR_RGB2BGR)
    rgba = np.dstack([bgr[y0:y1, x0:x1], alpha[y0:y1, x0:x1]])
    ok_cut, cut_png = cv2.imencode(".png", rgba)
    ok_frame, frame_png = cv2.imencode(".png", bgr)
    if not (ok_cut and ok_frame):
        raise InvalidRequestError(f"{param}: the cut-out could not be encoded", param=param)
    return Cutout(frame_png.tobytes(), cut_png.tobytes(), (x0, y0, x1 - x0, y1 - y0), seeded_by)
