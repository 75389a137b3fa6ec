"""PLACEHOLDER for the sketch engine's soundscape: replaced by the real one at merge.

The real module synthesises the scene's sound from its plan (wind, rain, surf, thunder after
each flash, birds, traffic...). This stand-in keeps only its contract, so the muxing, the
API and the tests around it can be built first: :func:`soundscape`'s signature, the length
(``round(frames * sample_rate / fps)`` samples), float32 stereo, the same samples for the
same seed and start, a level near -16 LUFS and never full scale. Its sound is quiet seeded
filtered noise.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.plan import ScenePlan

__all__ = ["SAMPLE_RATE", "soundscape"]

SAMPLE_RATE: Final = 48_000
"""The soundscape's rate: the rate of every soundtrack OpenReel writes."""

_BLOCK: Final = 4_800
"""Noise is drawn in seeded blocks of 0.1 s, so any span can be made on its own."""

_RMS: Final = 0.16
"""Low-passed noise at this RMS measures about -16 LUFS (its K-weighted level is near its RMS)."""

_TAPS: Final = 8
"""Length of the placeholder's smoothing filter, in samples."""


def soundscape(
    plan: ScenePlan,
    *,
    width: int,
    height: int,
    fps: float,
    start_frame: int,
    frames: int,
    seed: int,
    sample_rate: int = SAMPLE_RATE,
) -> npt.NDArray[np.float32]:
    """The sound of ``frames`` frames from ``start_frame``: float32 ``(samples, 2)``.

    ``samples == round(frames * sample_rate / fps)``; the same arguments give the same
    samples. ``plan``, ``width`` and ``height`` shape the real soundscape; the placeholder
    ignores them.
    """
    del plan, width, height
    start = round(start_frame * sample_rate / fps)
    samples = round(frames * sample_rate / fps)
    first, last = start // _BLOCK, (start + samples) // _BLOCK + 1
    noise = np.concatenate(
        [
            np.random.default_rng([seed, block]).standard_normal((_BLOCK, 2))
            for block in range(first, last + 1)
        ]
    )
    # A moving average of _TAPS samples: a gentle low-pass, at a fixed gain (white noise of
    # unit variance averaged over _TAPS samples keeps 1/sqrt(_TAPS) of its RMS).
    kernel = np.full(_TAPS, _RMS * np.sqrt(_TAPS) / _TAPS)
    smooth = np.stack([np.convolve(noise[:, ch], kernel, mode="same") for ch in (0, 1)], 1)
    offset = start - first * _BLOCK
    out = np.clip(smooth[offset : offset + samples], -0.9, 0.9)
    return np.ascontiguousarray(out, dtype=np.float32)
