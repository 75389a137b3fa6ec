"""soundscape(): the sketch engine's sound for a run of picture frames, mixed and normalised.

Loudness is set from the scene alone, never from the frames asked for, so two calls for
adjacent runs of frames get the same gains and join without a step. The bed (wind, rain,
water, hum, drone) is measured once with pyloudnorm over a fixed stretch from time zero, each
slow envelope replaced by its long-run level, and so are the cars, each weighted by its
average presence on screen; passing events (thunder, a train, birds) are allowed for by a
fixed lift. The scene's target is moved up for a storm and down for a still, dry scene, and a
memoryless soft limiter keeps every sample below -1 dBFS.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyloudnorm

from openreel.backends.sketch.plan import Camera, Pace, ScenePlan, Setting, SubjectKind, Weather
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound.bed import Layer, bed_layers
from openreel.backends.sketch.sound.events import (
    add_birds,
    add_thunder,
    add_vehicles,
    steady_probe,
)
from openreel.backends.sketch.sound.noise import Audio, NoiseBank
from openreel.backends.sketch.sound.tracking import Frames, Lerp
from openreel.backends.sketch.sound.voices import VOICES
from openreel.errors import InvalidRequestError

__all__ = ["CEILING", "SAMPLE_RATE", "TARGET_LUFS", "loudness_offset", "soundscape"]

SAMPLE_RATE = 48_000
"""Samples per second of the soundscape (what AAC in an MP4 most often carries)."""

TARGET_LUFS = -16.0
"""Integrated loudness the soundscape is normalised to, before the scene's own offset."""

CEILING = 10 ** (-1.0 / 20)
"""No sample reaches this (-1 dBFS): headroom for AAC's reconstruction overshoot."""

_ANALYSIS_SECONDS = 1.5
_EVENT_SHARE = 0.6
"""Most of the loudness the cars may take; the wind and water keep the rest."""
_CHUNK = 1 << 17
"""Samples synthesised at a time (2.7 s at 48 kHz)."""
_KNEE = 0.5
"""Samples below this pass the limiter untouched."""

_WEATHER_INTENSITY = {
    Weather.CLEAR: 0.0,
    Weather.FOG: 0.0,
    Weather.CLOUDS: 0.15,
    Weather.SNOW: 0.15,
    Weather.RAIN: 0.55,
    Weather.STORM: 1.0,
}


def loudness_offset(plan: ScenePlan) -> float:
    """LU added to the target: -1 for a still, dry scene up to +1 for a storm.

    Within 1 LU of the target either way, so every scene stays near -16 LUFS while a storm is
    still plainly louder than a calm.
    """
    score = _WEATHER_INTENSITY[plan.weather]
    score += {Pace.SLOW: -0.1, Pace.NORMAL: 0.0, Pace.FAST: 0.15}[plan.pace]
    score += 0.1 if plan.setting is Setting.CITY else 0.0
    score += 0.1 if plan.has(SubjectKind.CAR) or plan.has(SubjectKind.TRAIN) else 0.0
    score -= 0.1 if plan.camera is Camera.STATIC else 0.0
    return -1.0 + 2.0 * min(max(score, 0.0), 1.0)


def _events_lift(plan: ScenePlan) -> float:
    """LU that passing events (thunder, a train) are expected to add over the steady sound,
    taken off the steady sound's own target so the whole lands near it."""
    lift = 0.0
    if plan.weather is Weather.STORM:
        lift += 0.2
    if plan.has(SubjectKind.TRAIN):
        lift += 0.8
    if plan.has(SubjectKind.BIRDS):
        lift += 1.2
    return lift


def _power(meter: pyloudnorm.Meter, audio: Audio | None) -> float:
    """Mean K-weighted power (BS.1770's linear measure behind LUFS); 0 for silence."""
    if audio is None:
        return 0.0
    loudness = float(meter.integrated_loudness(audio))
    return 10 ** ((loudness + 0.691) / 10) if math.isfinite(loudness) else 0.0


def _gains(
    layers: list[Layer], renderer: SceneRenderer, bank: NoiseBank, rate: int
) -> tuple[float, float]:
    """Linear gains of the bed and of the events, from the scene alone (see module doc).

    The bed and the cars' average are measured over the same fixed stretch; events keep
    their own level unless the cars alone would pass :data:`_EVENT_SHARE` of the target's
    power, and the bed fills the rest.
    """
    n = round(_ANALYSIS_SECONDS * rate)
    probe = np.zeros((n, 2), np.float32)
    for layer in layers:
        probe += np.float32(layer.level * layer.rms_envelope()) * layer.carrier(0, n)
    meter = pyloudnorm.Meter(rate)
    bed = _power(meter, probe)
    steady = _power(meter, steady_probe(renderer, bank, n, rate))
    plan = renderer.plan
    target = 10 ** ((TARGET_LUFS + loudness_offset(plan) - _events_lift(plan) + 0.691) / 10)
    events = min(1.0, math.sqrt(_EVENT_SHARE * target / steady)) if steady > 0 else 1.0
    if bed <= 0:
        return 1.0, events
    return math.sqrt((target - events * events * steady) / bed), events


def _limit(out: Audio) -> None:
    """Soft-clips in place above the knee so that no sample reaches :data:`CEILING`.

    Memoryless, so it cannot make a step where two calls' samples meet.
    """
    over = np.abs(out) > _KNEE
    if not over.any():
        return
    room = CEILING * 0.999 - _KNEE
    loud = out[over]
    out[over] = np.sign(loud) * (_KNEE + room * np.tanh((np.abs(loud) - _KNEE) / room))


def _check(name: str, value: float, rule: str, ok: bool) -> None:
    if not ok:
        raise InvalidRequestError.for_value(name, value, rule)


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
    renderer: SceneRenderer | None = None,
) -> npt.NDArray[np.float32]:
    """The stereo sound of picture frames ``[start_frame, start_frame + frames)``.

    The frames are those of ``SceneRenderer(plan, width, height, fps, start_frame + frames,
    seed)``; pass that renderer as ``renderer`` when you have it, to spare building another.
    The same arguments give the same samples; adjacent runs of frames join without a click.

    Returns:
        float32 samples of shape ``(round(frames * sample_rate / fps), 2)``, loudness
        normalised, every sample below :data:`CEILING`.

    Raises:
        InvalidRequestError: For a non-positive size, rate or frame count, a negative start.
    """
    _check("width", width, "must be a positive number of pixels", width > 0)
    _check("height", height, "must be a positive number of pixels", height > 0)
    _check("fps", fps, "must be a positive frame rate", fps > 0)
    _check("fps", fps, f"must be at most the sample rate ({sample_rate})", fps <= sample_rate)
    _check("frames", frames, "must be at least 1", frames >= 1)
    _check("start_frame", start_frame, "must be 0 or more", start_frame >= 0)
    _check("sample_rate", sample_rate, "must be at least 8000", sample_rate >= 8000)
    n = round(frames * sample_rate / fps)
    start = round(start_frame * sample_rate / fps)
    if renderer is None:
        renderer = SceneRenderer(
            plan, width=width, height=height, fps=fps, frames=start_frame + frames, seed=seed
        )
    bank = NoiseBank(seed)
    timeline = Frames.build(renderer, (start + n) / sample_rate)
    layers = bed_layers(renderer, bank, sample_rate)
    gain, events = _gains(layers, renderer, bank, sample_rate)
    out = np.empty((n, 2), np.float32)
    # A few seconds at a time: everything is addressed by absolute sample, so the pieces join
    # exactly, and the working arrays stay a few megabytes whatever the clip's length.
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        out[lo:hi] = _piece(timeline, layers, bank, gain, events, start + lo, hi - lo, sample_rate)
    return out


def _piece(
    timeline: Frames,
    layers: list[Layer],
    bank: NoiseBank,
    gain: float,
    events: float,
    start: int,
    n: int,
    rate: int,
) -> Audio:
    """The mix of ``n`` samples from absolute sample ``start``, limited."""
    t = (start + np.arange(n, dtype=np.float64)) / rate
    frames = timeline.at(t)
    plan = timeline.renderer.plan
    closer = frames.lerp([cam.zoom**1.2 for cam in frames.cameras])
    out = np.zeros((n, 2), np.float32)
    # Envelopes are slow: computed every 10 ms of absolute time and interpolated.
    first = math.floor(t[0] * 100)
    grid = np.arange(first, math.ceil(t[-1] * 100) + 2) / 100.0
    slow = Lerp.build(t - first / 100.0, 0.01, grid.size)
    for layer in layers:
        shape = slow(layer.envelope(grid))
        shape *= np.float32(layer.level * gain)
        if layer.foreground:
            shape *= closer
        part = layer.carrier(start, n)
        part *= shape[:, None]
        out += part
    happening = np.zeros((n, 2), np.float32)
    add_thunder(happening, frames, bank, start, rate)
    add_vehicles(happening, frames, bank, start, rate)
    add_birds(happening, frames, bank.seed, start, rate)
    for subject in plan.subjects:
        voice = VOICES.get(subject.kind.value)
        if voice is not None:
            mono = voice(bank, start, n, t, rate) * np.float32(math.sqrt(0.5))
            happening += mono[:, None]
    happening *= np.float32(events)
    out += happening
    _limit(out)
    return out
