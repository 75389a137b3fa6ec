"""Voices for subject kinds: a crackling fire, a rotor, an engine, a bark, hooves, a roar.

Keyed by the subject kind's string value, so a kind gets its sound the moment its enum member
and drawer exist (a test checks every key is a kind the engine draws). Each voice is a
steady texture, a function of absolute time like the bed, heard from the middle of the frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.sound.noise import (
    Audio,
    NoiseBank,
    Stream,
    bandpass,
    lowpass,
    oscillator,
)

__all__ = ["VOICES", "Voice"]

Times = npt.NDArray[np.float64]
Voice = Callable[[NoiseBank, int, int, Times, int], Audio]
"""``(bank, start, n, t, rate) -> n`` mono samples from absolute sample ``start`` (``t`` their
seconds), at about the loudness of a car passing in the middle of the frame."""


def _pulses(t: Times, rate: float, sharpness: float) -> npt.NDArray[np.float32]:
    """A train of smooth bumps ``rate`` times a second."""
    return np.asarray((0.5 + 0.5 * np.cos(2 * math.pi * rate * t)) ** sharpness, np.float32)


def _campfire(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    roar = bank.filtered(Stream.EXTRA, start, n, (1.0, lowpass(180.0, rate)))
    sparks = bank.white(Stream.EXTRA + 1, start, n)
    pops = np.asarray(np.where(np.abs(sparks) > 1.68, sparks, 0.0), np.float32)  # top ~3 %
    crackle = bank.filtered(Stream.EXTRA + 2, start, n, (1.0, bandpass(1500.0, 6000.0, rate)))
    return 0.25 * roar + 0.4 * pops * np.abs(crackle)


def _helicopter(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    chop = bank.filtered(Stream.EXTRA + 3, start, n, (1.0, bandpass(60.0, 450.0, rate)))
    whine = oscillator(1180.0 * t, (1.0, 0.3))
    return 0.5 * chop * _pulses(t, 5.5, 6.0) + 0.02 * whine


def _motorcycle(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    # 72 Hz revving by 8 % at 0.4 Hz; the phase is that frequency's integral from time zero,
    # in closed form, so the engine carries on across calls.
    cycles = 72.0 * (t - 0.08 / (2 * math.pi * 0.4) * np.cos(2 * math.pi * 0.4 * t))
    engine = oscillator(cycles, tuple(1.0 / math.sqrt(k) for k in range(1, 12)))
    rasp = bank.filtered(Stream.EXTRA + 4, start, n, (1.0, bandpass(400.0, 2500.0, rate)))
    return 0.1 * engine + 0.08 * rasp


def _dog(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    # Two quick barks every three seconds of absolute time.
    phase = t % 3.0
    bark = np.exp(-((phase - 0.4) ** 2) / 0.002) + np.exp(-((phase - 0.7) ** 2) / 0.002)
    voice = oscillator(430.0 * t, (1.0, 0.6, 0.4, 0.25))
    breath = bank.filtered(Stream.EXTRA + 5, start, n, (1.0, bandpass(500.0, 2500.0, rate)))
    return (0.25 * voice + 0.3 * breath) * bark.astype(np.float32)


def _horse(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    # A four-beat walk: hooves at uneven quarters of each stride.
    stride = t % 1.2
    hooves = sum(
        np.exp(-np.maximum(stride - at, 0) * 60.0) * (stride >= at) for at in (0.0, 0.3, 0.6, 0.9)
    )
    knock = bank.filtered(Stream.EXTRA + 6, start, n, (1.0, bandpass(250.0, 1800.0, rate)))
    return 0.6 * knock * np.asarray(hooves, np.float32)


def _dragon(bank: NoiseBank, start: int, n: int, t: Times, rate: int) -> Audio:
    roar = bank.filtered(Stream.EXTRA + 7, start, n, (1.0, bandpass(80.0, 700.0, rate)))
    swell = np.clip(np.sin(2 * math.pi * t / 7.0), 0.0, 1.0) ** 2
    growl = 0.6 + 0.4 * np.sin(2 * math.pi * 31.0 * t)
    return 0.7 * roar * (swell * growl).astype(np.float32)


VOICES: dict[str, Voice] = {
    "campfire": _campfire,
    "helicopter": _helicopter,
    "motorcycle": _motorcycle,
    "dog": _dog,
    "horse": _horse,
    "dragon": _dragon,
}
"""Sounds by subject kind value (``SubjectKind.CAMPFIRE.value`` and so on)."""
