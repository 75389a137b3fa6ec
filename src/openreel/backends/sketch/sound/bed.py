"""The ambient bed: wind, rain, surf, lapping water, city hum, the space drone, the deep.

Each layer is a carrier (filtered noise or a few oscillators) times a slow envelope that is a
function of absolute time. Layers are chosen and weighted from the plan and from what the
renderer actually built (rain only where it draws rain, water only where it draws water), so
the sound never describes something the picture does not show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.plan import Setting, Weather
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound.noise import (
    Audio,
    NoiseBank,
    Sos,
    Stream,
    bandpass,
    lowpass,
    oscillator,
    slow_wave,
)

__all__ = ["Layer", "bed_layers"]

Times = npt.NDArray[np.float64]
Carrier = Callable[[int, int], "Audio"]
Envelope = npt.NDArray[np.float32]

_WIND_BY_WEATHER = {
    Weather.CLEAR: 0.3,
    Weather.CLOUDS: 0.45,
    Weather.FOG: 0.15,
    Weather.RAIN: 0.5,
    Weather.SNOW: 0.55,
    Weather.STORM: 1.0,
}
_WIND_BY_SETTING = {
    Setting.MOUNTAINS: 1.4,
    Setting.SNOWFIELD: 1.4,
    Setting.DESERT: 1.3,
    Setting.COAST: 1.15,
    Setting.COUNTRYSIDE: 1.0,
    Setting.LAKE: 0.9,
    Setting.FOREST: 0.8,
    Setting.CITY: 0.6,
}


@dataclass(frozen=True, slots=True)
class Layer:
    """One texture of the bed.

    Attributes:
        name: What it is, for tests and for people reading a mix.
        level: Its weight in the bed before the bed is normalised.
        carrier: ``(start, n) -> (n, 2)`` float32 samples from absolute sample ``start``.
        envelope: Seconds (absolute) to a gain >= 0 at each of them.
        foreground: Whether a push-in brings it closer (the shore, not the sky).
    """

    name: str
    level: float
    carrier: Callable[[int, int], Audio]
    envelope: Callable[[Times], Envelope]
    foreground: bool = False

    def rms_envelope(self) -> float:
        """The envelope's root mean square over a minute: its long-run weight in loudness."""
        grid = np.arange(0.0, 60.0, 0.02)
        return float(np.sqrt(np.mean(np.square(self.envelope(grid), dtype=np.float64))))


def _noise(bank: NoiseBank, stream: int, *bands: tuple[float, Sos]) -> Carrier:
    def carrier(start: int, n: int) -> Audio:
        return bank.stereo(stream, start, n, *bands)

    return carrier


def _steady(value: float = 1.0) -> Callable[[Times], Envelope]:
    def envelope(t: Times) -> Envelope:
        return np.full(t.shape, value, np.float32)

    return envelope


def _wander(
    seed: int, key: int, base: float, depth: float, periods: tuple[float, ...]
) -> Callable[[Times], Envelope]:
    def envelope(t: Times) -> Envelope:
        wave = base + depth * slow_wave(t, seed, key, periods)
        return np.asarray(np.maximum(wave, 0.0), np.float32)

    return envelope


def _swell(seed: int, period: float) -> Callable[[Times], Envelope]:
    """Waves breaking every ``period`` seconds: a slow rise, a crash, a long wash back."""
    offset = float(np.random.default_rng([seed, Stream.SURF, 99]).uniform(0, 1))
    rise, fall = 0.45, 4.0
    floor = math.exp(-(1 - rise) * fall)

    def envelope(t: Times) -> Envelope:
        phase = (t / period + offset) % 1.0
        grow = floor + (1 - floor) * (phase / rise) ** 3
        wash = np.exp(-(phase - rise) * fall)
        return (0.2 + 0.8 * np.where(phase < rise, grow, wash)).astype(np.float32)

    return envelope


def _tones(
    base: float, harmonics: tuple[float, ...], rate: int, beat: float
) -> Callable[[int, int], Audio]:
    """Harmonics of ``base`` Hz at absolute phase (so they continue across calls), the right
    ear ``beat`` Hz apart from the left for a slow shimmer."""

    def carrier(start: int, n: int) -> Audio:
        t = (start + np.arange(n, dtype=np.float64)) / rate
        out = np.empty((n, 2), np.float32)
        out[:, 0] = oscillator(base * t, harmonics)
        out[:, 1] = oscillator((base + beat) * t + 0.11, harmonics)
        return out

    return carrier


def _sum(*parts: tuple[float, Callable[[int, int], Audio]]) -> Callable[[int, int], Audio]:
    def carrier(start: int, n: int) -> Audio:
        out = np.zeros((n, 2), np.float32)
        for weight, part in parts:
            out += np.float32(weight) * part(start, n)
        return out

    return carrier


def bed_layers(renderer: SceneRenderer, bank: NoiseBank, rate: int) -> list[Layer]:
    """The bed's layers for the scene this renderer draws."""
    plan = renderer.plan
    setting, weather, seed = plan.setting, plan.weather, bank.seed
    pace = renderer.speed
    layers: list[Layer] = []
    if setting is Setting.SPACE:
        layers.append(
            Layer(
                "drone",
                1.0,
                _sum(
                    # 55, 82.5, 110 and 165 Hz: harmonics 2, 3, 4 and 6 of 27.5 Hz.
                    (1.0, _tones(27.5, (0.0, 1.0, 0.6, 0.45, 0.0, 0.2), rate, 0.2)),
                    (0.35, _noise(bank, Stream.DRONE, (1.0, bandpass(60.0, 320.0, rate)))),
                ),
                _wander(seed, Stream.DRONE, 0.8, 0.2, (19.0, 8.3)),
            )
        )
        return layers
    if setting is Setting.UNDERWATER:
        layers.append(
            Layer(
                "deep",
                1.0,
                _sum(
                    (1.0, _noise(bank, Stream.DEEP, (1.0, lowpass(260.0, rate, 4)))),
                    (0.25, _tones(21.5, (0.0, 1.0, 0.5), rate, 0.1)),
                ),
                _wander(seed, Stream.DEEP, 0.75, 0.25, (13.0, 6.1, 3.7)),
                foreground=True,
            )
        )
        return layers
    gusts = tuple(p / pace for p in (11.0, 6.7, 3.9, 2.3))
    wind = _WIND_BY_WEATHER[weather] * _WIND_BY_SETTING.get(setting, 1.0)
    layers.append(
        Layer(
            "wind",
            wind,
            _noise(bank, Stream.WIND, (1.0, bandpass(90.0, 1000.0, rate))),
            _wander(seed, Stream.WIND, 0.55, 0.5 if weather is Weather.STORM else 0.4, gusts),
        )
    )
    # A faint wide hiss of air (leaves in a forest), so even a still scene is never dead silent.
    leaves = 0.18 if setting is Setting.FOREST else 0.03
    layers.append(
        Layer(
            "air",
            leaves,
            _noise(bank, Stream.AIR, (1.0, bandpass(1500.0, 6000.0, rate))),
            _wander(seed, Stream.AIR, 0.7, 0.3, gusts),
        )
    )
    precipitation = renderer.precipitation
    if precipitation is not None and precipitation.kind in (Weather.RAIN, Weather.STORM):
        heavy = precipitation.kind is Weather.STORM
        layers.append(
            Layer(
                "rain",
                0.9 if heavy else 0.55,
                _noise(bank, Stream.RAIN, (1.0, bandpass(900.0, 9000.0, rate))),
                _wander(seed, Stream.RAIN, 0.85, 0.15, (7.0, 3.1)),
            )
        )
    if setting is Setting.COAST:
        period = float(np.random.default_rng([seed, Stream.SURF]).uniform(6.0, 9.0))
        layers.append(
            Layer(
                "surf",
                0.8 * (1.4 if weather is Weather.STORM else 1.0),
                _noise(bank, Stream.SURF, (1.0, bandpass(70.0, 2600.0, rate))),
                _swell(seed, period / math.sqrt(pace)),
                foreground=True,
            )
        )
    elif renderer.water is not None:
        layers.append(
            Layer(
                "lapping",
                0.35,
                _noise(bank, Stream.LAP, (1.0, bandpass(180.0, 1400.0, rate))),
                _wander(seed, Stream.LAP, 0.5, 0.5, (1.7 / pace, 1.1 / pace, 0.73 / pace)),
                foreground=True,
            )
        )
    if setting is Setting.CITY:
        layers.append(
            Layer(
                "city",
                0.6,
                _sum(
                    (
                        1.0,
                        # Traffic's rumble and distant wash in one filter.
                        _noise(bank, Stream.CITY, (1.0, lowpass(450.0, rate))),
                    ),
                    (0.12, _tones(50.0, (1.0, 0.5, 0.25), rate, 0.0)),
                ),
                _wander(seed, Stream.CITY, 0.85, 0.15, (9.0, 4.3)),
            )
        )
    return layers
