"""Seeded noise addressed by absolute sample, filters, envelopes and panning.

Every texture in the soundscape is filtered noise. The noise is cut into fixed blocks, each
drawn from its own generator keyed by the seed, a stream number and the block's index, so the
samples at a given moment do not depend on where a call starts: the sound of frames [0, n) and
of frames [n, 2n) join exactly as if they had been made in one go. Filters start a little
before the requested range (a pre-roll), so their state has settled by the first sample kept.
These generators are keyed apart from the picture's, so drawing sound never moves a pixel.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import signal

__all__ = [
    "Audio",
    "NoiseBank",
    "Sos",
    "Stream",
    "bandpass",
    "highpass",
    "lowpass",
    "oscillator",
    "pan_gains",
    "slow_wave",
]

Audio = npt.NDArray[np.float32]
Sos = npt.NDArray[np.float32]
"""A filter as second-order sections, in single precision: filtering runs in float32."""

_BLOCK = 8192
_PREROLL = 12_000
"""Samples filtered before the first one kept: a quarter second at 48 kHz, far longer than any
filter here takes to forget its start."""
_ORIGIN = 1 << 24
"""Block index of time zero, so a pre-roll before the clip's start still has a block."""
_SALT = 0x534F554E  # "SOUN": keys the sound's generators apart from the picture's


class Stream:
    """Numbers for the independent noise streams (one per texture and channel)."""

    WIND = 1
    RAIN = 3
    SURF = 5
    LAP = 7
    CITY = 9
    DRONE = 11
    DEEP = 13
    AIR = 15
    THUNDER = 21
    ENGINE = 23
    TRAIN = 25
    BIRDS = 27
    EXTRA = 31


class NoiseBank:
    """White noise for any range of absolute samples, the same whichever range is asked."""

    def __init__(self, seed: int) -> None:
        self.seed = seed % (1 << 64)

    def white(self, stream: int, start: int, n: int) -> Audio:
        """``n`` samples of unit-variance white noise from absolute sample ``start``."""
        first = (start + _ORIGIN * _BLOCK) // _BLOCK
        last = (start + n - 1 + _ORIGIN * _BLOCK) // _BLOCK
        joined = np.empty((last + 1 - first) * _BLOCK, np.float32)
        for i, b in enumerate(range(first, last + 1)):
            # Uniform draws are several times cheaper than normal ones, and every texture is
            # filtered, which makes its samples Gaussian anyway.
            rng = np.random.default_rng([self.seed, _SALT, stream, b])
            rng.random(dtype=np.float32, out=joined[i * _BLOCK : (i + 1) * _BLOCK])
        joined -= np.float32(0.5)
        joined *= np.float32(math.sqrt(12.0))
        offset = start + _ORIGIN * _BLOCK - first * _BLOCK
        return joined[offset : offset + n]

    def filtered(self, stream: int, start: int, n: int, *bands: tuple[float, Sos]) -> Audio:
        """White noise through one or more weighted filters, summed, and settled: samples
        depend only on their position. Bands of one stream that do not overlap sound as
        independent as separate streams, at half the cost of drawing them."""
        raw = self.white(stream, start - _PREROLL, n + _PREROLL)
        out = np.zeros(n, np.float32)
        for weight, sos in bands:
            part = np.asarray(signal.sosfilt(sos, raw), np.float32)[_PREROLL:]
            out += np.float32(weight) * part
        return out

    def stereo(self, stream: int, start: int, n: int, *bands: tuple[float, Sos]) -> Audio:
        """Two decorrelated filtered channels (streams ``stream`` and ``stream + 1``)."""
        out = np.empty((n, 2), np.float32)
        out[:, 0] = self.filtered(stream, start, n, *bands)
        out[:, 1] = self.filtered(stream + 1, start, n, *bands)
        return out


@lru_cache(maxsize=64)
def lowpass(cutoff: float, rate: int, order: int = 2) -> Sos:
    """Butterworth low-pass as second-order sections."""
    return np.asarray(signal.butter(order, cutoff, "lowpass", fs=rate, output="sos"), np.float32)


@lru_cache(maxsize=64)
def highpass(cutoff: float, rate: int, order: int = 2) -> Sos:
    """Butterworth high-pass as second-order sections."""
    return np.asarray(signal.butter(order, cutoff, "highpass", fs=rate, output="sos"), np.float32)


@lru_cache(maxsize=64)
def bandpass(low: float, high: float, rate: int, order: int = 2) -> Sos:
    """Butterworth band-pass as second-order sections."""
    return np.asarray(
        signal.butter(order, (low, high), "bandpass", fs=rate, output="sos"), np.float32
    )


def slow_wave(
    t: npt.NDArray[np.float64], seed: int, key: int, periods: tuple[float, ...]
) -> npt.NDArray[np.float32]:
    """A smooth wander around 0 (within -1..1) from sines of the given periods (seconds).

    Phases come from the seed, and the value is a function of absolute time alone, so gusts
    and swells carry on across calls.
    """
    phases = np.random.default_rng([seed, _SALT, key]).uniform(0, 2 * math.pi, len(periods))
    out = np.zeros(t.shape, np.float64)
    for period, phase in zip(periods, phases, strict=True):
        out += np.sin(t * (2 * math.pi / period) + phase)
    return (out / len(periods)).astype(np.float32)


_TABLE = 4096


@lru_cache(maxsize=16)
def _wavetable(harmonics: tuple[float, ...]) -> npt.NDArray[np.float32]:
    """One cycle of a sum of harmonics (amplitude of harmonic k+1 at index k), wrapped."""
    phase = np.arange(_TABLE + 1) * (2 * math.pi / _TABLE)
    wave = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(harmonics))
    return np.asarray(wave, np.float32)


def oscillator(cycles: npt.NDArray[np.float64], harmonics: tuple[float, ...]) -> Audio:
    """A periodic wave at the given phase (in cycles), read from a table: far cheaper than
    computing a sine per harmonic per sample, and exact at any phase to well below hearing."""
    index = (cycles * _TABLE).astype(np.int64)
    index &= _TABLE - 1  # the table's length is a power of two: a cheap modulo
    return _wavetable(harmonics)[index]


def pan_gains(pan: npt.NDArray[np.float32]) -> tuple[Audio, Audio]:
    """Equal-power left and right gains for pans in -1 (left) .. 1 (right)."""
    angle = (np.clip(pan, -1.0, 1.0) + 1.0) * (math.pi / 4)
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
