"""Sounds of things that happen: thunder after each flash, birdsong, passing cars and trains.

Events are mixed at fixed levels after the bed has been normalised (they are loud or soft in
their own right, not relative to how windy the scene is). Their timing comes from the picture:
thunder from the renderer's own lightning strikes, vehicles and birds from their drawers'
position functions, seen through the renderer's camera.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.plan import Setting
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound.noise import (
    Audio,
    NoiseBank,
    Stream,
    bandpass,
    lowpass,
    oscillator,
    pan_gains,
)
from openreel.backends.sketch.sound.tracking import Frames, Track, edge_fade, placement
from openreel.backends.sketch.subjects.animals import Birds
from openreel.backends.sketch.subjects.vehicles import Car, Train

__all__ = [
    "THUNDER_DELAY",
    "add_birds",
    "add_thunder",
    "add_vehicles",
    "steady_probe",
    "thunder_onsets",
]

THUNDER_DELAY = (0.1, 3.0)
"""Seconds between a flash and its thunder, nearest to farthest."""

_SALT = 0x45564E54  # "EVNT"
_SLOT = 0.5
"""Birdsong is scheduled per half second of absolute time, so any window finds the same."""


def _place(out: Audio, start: int, onset: int, mono: Audio, pan: float) -> None:
    """Adds ``mono`` (starting at absolute sample ``onset``) into ``out`` at a fixed pan."""
    lo, hi = max(onset, start), min(onset + mono.size, start + out.shape[0])
    if lo >= hi:
        return
    piece = mono[lo - onset : hi - onset]
    left, right = pan_gains(np.array([pan], np.float32))
    out[lo - start : hi - start, 0] += left[0] * piece
    out[lo - start : hi - start, 1] += right[0] * piece


def thunder_onsets(frames: Frames, seed: int) -> list[tuple[float, float, float]]:
    """(flash time, thunder onset, screen x in 0..1) for each strike the renderer draws."""
    lightning = frames.renderer.lightning
    if lightning is None:
        return []
    out = []
    low, high = THUNDER_DELAY
    for when, x, strike in lightning.strikes:
        far = float(np.random.default_rng([seed, _SALT, strike]).uniform(0.0, 1.0))
        out.append((when, when + low + (high - low) * far, x))
    return out


def add_thunder(out: Audio, frames: Frames, bank: NoiseBank, start: int, rate: int) -> None:
    """A crack and a long rumble after each flash, softer and duller the farther it is."""
    muffled = frames.renderer.plan.setting is Setting.UNDERWATER
    low, high = THUNDER_DELAY
    end = start + out.shape[0]
    for k, (flash, onset, x) in enumerate(thunder_onsets(frames, bank.seed)):
        far = (onset - flash - low) / (high - low)
        length = 2.5 + 2.0 * far
        first = round(onset * rate)
        count = round(length * rate)
        lo, hi = max(first, start), min(first + count, end)
        if lo >= hi:
            continue
        stream = (1 << 40) + k
        tau = np.arange(lo - first, hi - first, dtype=np.float32) / rate
        attack = np.minimum(tau / (0.02 + 0.2 * far), 1.0)
        decay = np.exp(-tau / (0.6 + 0.7 * far))
        tail = 1.0 - np.clip((tau - (length - 0.5)) / 0.5, 0.0, 1.0)
        cutoff = 90.0 + (1.0 - far) * (140.0 if muffled else 260.0)
        rumble = bank.filtered(stream, lo, hi - lo, (1.0, lowpass(cutoff, rate, 2)))
        sound = rumble * (attack * decay * tail * (1.6 - 1.0 * far))
        if not muffled and far < 0.5:
            crack = bank.filtered(stream + 1, lo, hi - lo, (1.0, bandpass(250.0, 3500.0, rate)))
            sound += crack * (attack * np.exp(-tau / 0.12) * (0.5 - far) * 0.35)
        mono = np.zeros(count, np.float32)
        mono[lo - first : hi - first] = sound
        _place(out, start, first, mono, (x * 2.0 - 1.0) * 0.8)


def add_birds(out: Audio, frames: Frames, seed: int, start: int, rate: int) -> None:
    """Chirps and trills, more for a bigger flock, heard from where the flock flies."""
    birds = next((s for s in frames.renderer.subjects if isinstance(s, Birds)), None)
    if birds is None or frames.renderer.plan.setting in (Setting.SPACE, Setting.UNDERWATER):
        return
    pos, near = frames.screen(
        lambda tm, _cam: (birds.flock_x(tm), birds.height, birds.flock_depth), ("birds",)
    )
    pans, gains = placement(pos, near, floor=0.35)
    t0, t1 = start / rate, (start + out.shape[0]) / rate
    for slot in range(math.floor((t0 - 0.3) / _SLOT), math.floor(t1 / _SLOT) + 1):
        rng = np.random.default_rng([seed, _SALT, Stream.BIRDS, slot + (1 << 30)])
        for _ in range(int(rng.poisson(0.7 + 0.35 * birds.count))):
            onset = slot * _SLOT + float(rng.uniform(0.0, _SLOT))
            dur = float(rng.uniform(0.05, 0.16))
            f0, sweep = float(rng.uniform(2600.0, 5200.0)), float(rng.uniform(-1800.0, 1800.0))
            trill = rng.random() < 0.3
            amp = float(rng.uniform(0.4, 1.0))
            first = round(onset * rate)
            if first + dur * rate <= start or first >= start + out.shape[0]:
                continue
            tau = np.arange(round(dur * rate), dtype=np.float32) / rate
            phase = 2 * math.pi * (f0 * tau + sweep * tau * tau / (2 * dur))
            shape = np.sin(np.pi * tau / dur) ** 2
            if trill:
                shape *= 0.5 + 0.5 * np.sin(2 * math.pi * 28.0 * tau)
            heard = onset  # the same in every window the chirp spans: no step
            level = 0.35 * amp * float(np.interp(heard, frames.times, gains))
            _place(
                out,
                start,
                first,
                (np.sin(phase) * shape * level).astype(np.float32),
                float(np.interp(heard, frames.times, pans)),
            )


def _engine(track: Track, base: float, harmonics: int) -> Audio:
    """A pitched engine: a few harmonics of ``base`` Hz bent by the track's Doppler."""
    return oscillator(base * track.cycles, tuple(1.0 / k for k in range(1, harmonics + 1)))


def _stereo(out: Audio, mono: Audio, track: Track) -> None:
    out[:, 0] += mono * track.left
    out[:, 1] += mono * track.right


def _engine_voice(i: int, cycles: npt.NDArray[np.float64], muffled: bool) -> Audio:
    """Car ``i``'s engine, its pitch bent by ``cycles`` (see :class:`Track`)."""
    harmonics = tuple(1.0 / k for k in range(1, (3 if muffled else 6) + 1))
    return 0.25 * oscillator((48.0 + 9.0 * i) * cycles, harmonics)


def _road(bank: NoiseBank, start: int, n: int, rate: int, muffled: bool) -> Audio:
    """The hiss of tyres on the road: one noise for all the cars, panned by their gains
    summed (a third of the filtering for three cars; their engines keep them apart)."""
    road = bandpass(350.0, 1200.0 if muffled else 3000.0, rate)
    return 0.3 * bank.filtered(Stream.ENGINE, start, n, (1.0, road))


def steady_probe(renderer: SceneRenderer, bank: NoiseBank, n: int, rate: int) -> Audio | None:
    """What the scene's cars sound like on average, over ``n`` samples, for loudness.

    Cars drive round and round (they wrap at the edges of their road), so over time they are
    part of the scene's steady sound: each is weighted by its mean power on screen over two
    minutes of its motion, seen by an unmoved camera. Independent of any run of frames, like
    the bed's own measure.
    """
    cars = [d for d in renderer.subjects if isinstance(d, Car)]
    if not cars:
        return None
    muffled = renderer.plan.setting is Setting.UNDERWATER
    cam = CameraState(renderer.width, renderer.height)
    cycles = np.arange(n, dtype=np.float64) / rate
    out = np.zeros((n, 2), np.float32)
    for car in cars:
        for i in range(len(car.slots)):
            where = [car.position(i, tm) for tm in np.arange(0.0, 60.0, 0.25).tolist()]
            pos = np.array([cam.to_screen(x, y, d)[0] for x, y, d in where]) / cam.width * 2 - 1
            near = np.array([cam.scale(d) / cam.height for _, _, d in where])
            duty = float(np.mean((near * edge_fade(pos)) ** 2))
            voice = _engine_voice(i, cycles, muffled) + _road(bank, 0, n, rate, muffled)
            out += (voice * np.float32(math.sqrt(duty / 2)))[:, None]
    return out


def _car_at(car: Car, i: int, t: float, _cam: CameraState) -> tuple[float, float, float]:
    return car.position(i, t)


def _train_at(train: Train, t: float, cam: CameraState) -> tuple[float, float, float]:
    """The train's point nearest the middle of the screen: what is heard most of it."""
    _, y, size = train.slots[0]
    head = train.head(t)
    tail = head - train.direction * 2.25 * train.carriages * size
    middle = cam.x * train.track_depth
    return min(max(middle, min(head, tail)), max(head, tail)), y, train.track_depth


def _loco_at(train: Train, t: float, _cam: CameraState) -> tuple[float, float, float]:
    """The locomotive, whose engine is heard from where it is."""
    return train.head(t), train.slots[0][1], train.track_depth


def add_vehicles(out: Audio, frames: Frames, bank: NoiseBank, start: int, rate: int) -> None:
    """Cars and trains, heard where they are drawn, louder as the camera closes in."""
    renderer = frames.renderer
    muffled = renderer.plan.setting is Setting.UNDERWATER
    n = out.shape[0]
    for drawer in renderer.subjects:
        if isinstance(drawer, Car):
            left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
            for i in range(len(drawer.slots)):
                pos, near = frames.screen(partial(_car_at, drawer, i), ("car", id(drawer), i))
                track = Track.follow(frames, pos, near)
                if not track.audible:
                    continue
                _stereo(out, _engine_voice(i, track.cycles, muffled), track)
                left += track.left
                right += track.right
            if left.any() or right.any():
                road = _road(bank, start, n, rate, muffled)
                out[:, 0] += road * left
                out[:, 1] += road * right
        elif isinstance(drawer, Train):
            train = drawer
            pos, near = frames.screen(partial(_train_at, train), ("train",))
            track = Track.follow(frames, pos, near, pitched=False)
            if not track.audible:
                continue
            # Wheels knock on rail joints as the train covers ground (a joint every 0.06).
            travel = (frames.t * (0.12 * renderer.speed / 0.06)).astype(np.float32)
            clack = np.exp((travel % 1.0) * -30.0)
            clack += 0.7 * np.exp(((travel - 0.18) % 1.0) * -30.0)
            sound = 0.45 * bank.filtered(Stream.TRAIN, start, n, (1.0, lowpass(220.0, rate)))
            clacks = bank.filtered(Stream.TRAIN + 1, start, n, (1.0, bandpass(700.0, 3500.0, rate)))
            sound += (0.0 if muffled else 0.35) * clacks * clack
            _stereo(out, sound, track)
            pos, near = frames.screen(partial(_loco_at, train), ("loco",))
            loco = Track.follow(frames, pos, near)
            if loco.audible:
                _stereo(out, 0.25 * _engine(loco, 36.0, 5), loco)
