"""The sketch engine's soundscape: what a listener would notice if it broke.

Clips are short and small (the picture size only matters for where things are on screen);
loudness is measured with pyloudnorm, the same BS.1770 meter the engine normalises with.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest
from scipy import signal

from openreel.backends.sketch.plan import (
    Camera,
    Pace,
    ScenePlan,
    Setting,
    Subject,
    SubjectKind,
    Weather,
)
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.sound import CEILING, SAMPLE_RATE, TARGET_LUFS, soundscape
from openreel.backends.sketch.sound.bed import bed_layers
from openreel.backends.sketch.sound.mix import _limit
from openreel.backends.sketch.sound.noise import NoiseBank
from openreel.backends.sketch.sound.voices import VOICES
from openreel.backends.sketch.subjects.animals import Birds
from openreel.backends.sketch.subjects.vehicles import Car, Train
from openreel.backends.sketch.understand import understand
from openreel.errors import InvalidRequestError

W, H, FPS = 160, 90, 12
RATE = SAMPLE_RATE

Audio = npt.NDArray[np.float32]


def _plan(**kw: object) -> ScenePlan:
    base: dict[str, object] = {"camera": Camera.STATIC, "weather": Weather.CLEAR}
    return ScenePlan(**(base | kw))  # type: ignore[arg-type]


def _sound(plan: ScenePlan, seconds: float, seed: int = 1, start: int = 0) -> Audio:
    frames = round(seconds * FPS)
    return soundscape(plan, width=W, height=H, fps=FPS, start_frame=start, frames=frames, seed=seed)


def _renderer(plan: ScenePlan, seconds: float, seed: int) -> SceneRenderer:
    return SceneRenderer(plan, width=W, height=H, fps=FPS, frames=round(seconds * FPS), seed=seed)


def _lufs(audio: Audio) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(audio))


def _band_energy(audio: Audio, low: float, high: float) -> float:
    mono = audio.mean(axis=1).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1 / RATE)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum())


STORM = _plan(setting=Setting.COAST, weather=Weather.STORM)
STILL = _plan(setting=Setting.COUNTRYSIDE)

PLANS = [
    STORM,
    STILL,
    _plan(setting=Setting.MOUNTAINS, weather=Weather.STORM, camera=Camera.PUSH_IN),
    _plan(setting=Setting.FOREST, weather=Weather.RAIN, camera=Camera.PAN_RIGHT),
    _plan(setting=Setting.LAKE, subjects=(Subject(SubjectKind.BIRDS, 3),)),
    _plan(
        setting=Setting.CITY,
        pace=Pace.FAST,
        subjects=(Subject(SubjectKind.CAR, 3), Subject(SubjectKind.TRAIN)),
    ),
    _plan(setting=Setting.SPACE, subjects=(Subject(SubjectKind.ROCKET),)),
    _plan(setting=Setting.UNDERWATER, subjects=(Subject(SubjectKind.FISH),)),
    _plan(setting=Setting.SNOWFIELD, weather=Weather.SNOW, camera=Camera.PULL_OUT),
    _plan(setting=Setting.DESERT, weather=Weather.FOG, pace=Pace.SLOW),
]


@pytest.mark.parametrize(
    ("fps", "frames", "start", "rate"),
    [(24, 24, 0, 48_000), (30, 17, 5, 48_000), (25, 10, 0, 44_100), (60, 7, 3, 48_000)],
)
def test_sound_is_stereo_float32_as_long_as_the_frames(
    fps: int, frames: int, start: int, rate: int
) -> None:
    audio = soundscape(
        STORM,
        width=W,
        height=H,
        fps=fps,
        start_frame=start,
        frames=frames,
        seed=3,
        sample_rate=rate,
    )
    assert audio.dtype == np.float32
    assert audio.shape == (round(frames * rate / fps), 2)
    assert np.isfinite(audio).all()


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    plan = _plan(setting=Setting.CITY, weather=Weather.RAIN, subjects=(Subject(SubjectKind.CAR),))
    a, b = _sound(plan, 1.5, seed=11), _sound(plan, 1.5, seed=11)
    c = _sound(plan, 1.5, seed=12)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.summary())
def test_loudness_is_near_target_and_never_full_scale(plan: ScenePlan) -> None:
    audio = _sound(plan, 4.0, seed=5)
    assert abs(_lufs(audio) - TARGET_LUFS) <= 2.0
    assert float(np.abs(audio).max()) < CEILING < 1.0


def test_limiter_keeps_even_huge_samples_below_the_ceiling() -> None:
    loud = np.linspace(-40.0, 40.0, 10_001, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    _limit(loud)
    assert float(np.abs(loud).max()) < CEILING
    assert np.all(np.diff(loud[:, 0]) >= 0)  # monotonic: no fold-over distortion
    quiet = np.full((4, 2), 0.3, np.float32)
    _limit(quiet)
    assert np.all(quiet == np.float32(0.3))  # below the knee nothing changes


def test_still_dry_scene_is_quieter_than_a_storm() -> None:
    storm = np.mean([_lufs(_sound(STORM, 4.0, seed=s)) for s in (1, 2)])
    still = np.mean([_lufs(_sound(STILL, 4.0, seed=s)) for s in (1, 2)])
    assert storm - still >= 1.0
    assert abs(storm - TARGET_LUFS) <= 2.0
    assert abs(still - TARGET_LUFS) <= 2.0


def _low_band_db(audio: Audio, block: float = 0.025) -> npt.NDArray[np.float64]:
    """Short-term energy (dB) below 200 Hz, where thunder rumbles and rain does not."""
    sos = signal.butter(4, 200.0, "lowpass", fs=RATE, output="sos")
    low = signal.sosfilt(sos, audio.mean(axis=1).astype(np.float64))
    size = round(block * RATE)
    blocks = low[: low.size // size * size].reshape(-1, size)
    return np.asarray(10 * np.log10(np.mean(blocks**2, axis=1) + 1e-12))


def _onsets(db: npt.NDArray[np.float64], block: float = 0.025) -> list[float]:
    """Times where energy jumps 9 dB over the median of the 0.1 to 0.4 s before."""
    out = []
    for i in range(16, db.size):
        if db[i] - np.median(db[i - 16 : i - 4]) > 9.0:
            out.append(i * block)
    return out


def test_every_lightning_flash_is_followed_by_thunder_within_three_seconds() -> None:
    seconds, checked = 8.0, 0
    for seed in (1, 2, 3):
        renderer = _renderer(STORM, seconds, seed)
        assert renderer.lightning is not None
        flashes = [when for when, _, _ in renderer.lightning.strikes]
        onsets = _onsets(_low_band_db(_sound(STORM, seconds, seed=seed)))
        assert onsets, "no thunder at all"
        # Nothing thunders before the first flash.
        assert min(onsets) >= flashes[0] + 0.1 - 0.05
        for flash in flashes:
            if flash + 3.0 > seconds:
                continue  # its thunder may fall after the clip's end
            assert any(flash + 0.1 - 0.05 <= t <= flash + 3.0 for t in onsets), (seed, flash)
            checked += 1
    assert checked >= 3
    # Rain without a storm has no thunder.
    assert not _onsets(_low_band_db(_sound(_plan(setting=Setting.COAST, weather=Weather.RAIN), 4)))


def _balance(audio: Audio, windows: int) -> npt.NDArray[np.float64]:
    """(right - left) / (right + left) energy in consecutive windows."""
    size = audio.shape[0] // windows
    chunks = audio[: size * windows].astype(np.float64).reshape(windows, size, 2)
    energy = (chunks**2).sum(axis=1)
    return np.asarray((energy[:, 1] - energy[:, 0]) / (energy[:, 1] + energy[:, 0]))


def _seed_for(plan: ScenePlan, kind: type[Car | Train], direction: float, seconds: float) -> int:
    """A seed whose vehicle drives that way, read from the renderer's own drawer."""
    for seed in range(1, 40):
        drawer = next(s for s in _renderer(plan, seconds, seed).subjects if isinstance(s, kind))
        if drawer.direction == direction:
            return seed
    raise AssertionError("no seed found")


@pytest.mark.parametrize("direction", [1.0, -1.0])
@pytest.mark.parametrize(("kind", "seconds"), [(SubjectKind.CAR, 4.0), (SubjectKind.TRAIN, 10.0)])
def test_a_passing_vehicle_pans_the_way_it_drives(
    kind: SubjectKind, seconds: float, direction: float
) -> None:
    plan = _plan(setting=Setting.COUNTRYSIDE, pace=Pace.FAST, subjects=(Subject(kind),))
    drawer_type = Car if kind is SubjectKind.CAR else Train
    seed = _seed_for(plan, drawer_type, direction, seconds)
    # Positive: heard on the side it drives towards.
    balance = _balance(_sound(plan, seconds, seed=seed), 10) * direction
    assert balance[-3:].max() > 0.2
    assert balance[-3:].max() - balance[:3].min() > 0.4
    # Without the vehicle the scene is balanced.
    calm = _balance(_sound(_plan(setting=Setting.COUNTRYSIDE, pace=Pace.FAST), seconds, seed), 10)
    assert np.abs(calm).max() < 0.15


def test_a_car_is_heard_moving_steadily_across() -> None:
    plan = _plan(setting=Setting.COUNTRYSIDE, pace=Pace.FAST, subjects=(Subject(SubjectKind.CAR),))
    seed = _seed_for(plan, Car, 1.0, 4.0)
    balance = _balance(_sound(plan, 4.0, seed=seed), 8)
    assert balance[-1] - balance[0] > 0.2
    assert np.corrcoef(np.arange(balance.size), balance)[0, 1] > 0.8


def test_birdsong_only_when_birds_are_drawn() -> None:
    with_birds = _plan(setting=Setting.LAKE, subjects=(Subject(SubjectKind.BIRDS, 2),))
    renderer = _renderer(with_birds, 3.0, 4)
    assert any(isinstance(s, Birds) for s in renderer.subjects)
    song = _band_energy(_sound(with_birds, 3.0, seed=4), 2500.0, 6000.0)
    silent = _band_energy(_sound(_plan(setting=Setting.LAKE), 3.0, seed=4), 2500.0, 6000.0)
    assert song > 3 * silent


def test_space_hums_a_drone_without_wind() -> None:
    plan = _plan(setting=Setting.SPACE)
    names = [layer.name for layer in bed_layers(_renderer(plan, 1.0, 2), NoiseBank(2), RATE)]
    assert "drone" in names
    assert "wind" not in names
    audio = _sound(plan, 3.0, seed=2)
    mono = audio.mean(axis=1).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono))
    freqs = np.fft.rfftfreq(mono.size, 1 / RATE)
    peak = spectrum[np.abs(freqs - 55.0) < 0.5].max()
    around = np.median(spectrum[(freqs > 30.0) & (freqs < 80.0)])
    assert peak > 20 * around  # a tone, not a rush
    assert _band_energy(audio, 20.0, 400.0) > 0.9
    windy = _sound(_plan(setting=Setting.MOUNTAINS), 3.0, seed=2)
    assert _band_energy(windy, 400.0, 2000.0) > 5 * _band_energy(audio, 400.0, 2000.0)


def test_underwater_is_muffled() -> None:
    plan = _plan(setting=Setting.UNDERWATER, weather=Weather.STORM)
    under = _band_energy(_sound(plan, 3.0, seed=6), 3000.0, RATE / 2)
    coast = _band_energy(_sound(_plan(setting=Setting.COAST), 3.0, seed=6), 3000.0, RATE / 2)
    assert under < 0.005
    assert coast > 10 * under


def test_push_in_brings_the_shore_closer() -> None:
    def growth(camera: Camera) -> float:
        audio = _sound(_plan(setting=Setting.COAST, camera=camera), 4.0, seed=8)
        second = RATE
        first = float(np.mean(audio[:second].astype(np.float64) ** 2))
        last = float(np.mean(audio[-second:].astype(np.float64) ** 2))
        return float(10 * np.log10(last / first))

    assert growth(Camera.PUSH_IN) - growth(Camera.STATIC) > 1.5
    assert growth(Camera.PULL_OUT) - growth(Camera.STATIC) < -1.5


@pytest.mark.parametrize(
    "plan",
    [
        _plan(setting=Setting.COAST, weather=Weather.RAIN),
        _plan(setting=Setting.SPACE),
        _plan(setting=Setting.UNDERWATER),
        _plan(setting=Setting.CITY, weather=Weather.CLOUDS),
        # A still camera leaves cars and birds where they were: they carry on across too.
        _plan(
            setting=Setting.CITY,
            subjects=(Subject(SubjectKind.CAR, 2), Subject(SubjectKind.BIRDS, 3)),
        ),
    ],
    ids=lambda p: p.summary(),
)
def test_consecutive_runs_of_frames_join_without_a_click(plan: ScenePlan) -> None:
    n = 18  # 1.5 s at 12 fps
    first = _sound(plan, n / FPS, seed=9)
    second = soundscape(plan, width=W, height=H, fps=FPS, start_frame=n, frames=n, seed=9)
    whole = soundscape(plan, width=W, height=H, fps=FPS, start_frame=0, frames=2 * n, seed=9)
    joined = np.concatenate([first, second])
    # The bed and its gain depend on the scene, not on the run asked for: one piece.
    assert np.allclose(joined, whole, atol=1e-4)
    seam = first.shape[0]
    jumps = np.abs(np.diff(joined, axis=0)).max(axis=1)
    around = np.concatenate([jumps[seam - 2000 : seam - 2], jumps[seam + 1 : seam + 2000]])
    assert jumps[seam - 1] <= 1.5 * np.percentile(around, 99)


def test_sound_leaves_the_picture_alone() -> None:
    plan = _plan(
        setting=Setting.CITY,
        weather=Weather.STORM,
        camera=Camera.PAN_RIGHT,
        subjects=(Subject(SubjectKind.CAR, 2), Subject(SubjectKind.BIRDS)),
    )
    renderer = _renderer(plan, 2.0, 3)
    before = renderer.render(13)
    soundscape(
        plan, width=W, height=H, fps=FPS, start_frame=0, frames=24, seed=3, renderer=renderer
    )
    assert np.array_equal(renderer.render(13), before)
    assert np.array_equal(_renderer(plan, 2.0, 3).render(13), before)


@pytest.mark.parametrize(
    ("field", "value"),
    [("frames", 0), ("start_frame", -1), ("fps", 0.0), ("width", 0), ("sample_rate", 100)],
)
def test_bad_arguments_name_the_parameter(field: str, value: float) -> None:
    args: dict[str, float] = {
        "width": W,
        "height": H,
        "fps": FPS,
        "start_frame": 0,
        "frames": 12,
        "seed": 1,
    }
    args[field] = value
    with pytest.raises(InvalidRequestError) as caught:
        soundscape(STILL, **args)  # type: ignore[arg-type]
    assert caught.value.param == field
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("kind", sorted(VOICES))
def test_voices_for_coming_subjects_are_seeded_and_continuous(kind: str) -> None:
    voice = VOICES[kind]
    n = RATE // 2

    def run(seed: int, start: int, count: int) -> Audio:
        t = (start + np.arange(count, dtype=np.float64)) / RATE
        return voice(NoiseBank(seed), start, count, t, RATE)

    whole = run(4, 0, 2 * n)
    assert whole.dtype == np.float32
    assert whole.shape == (2 * n,)
    assert 0.005 < float(np.sqrt(np.mean(whole.astype(np.float64) ** 2))) < 0.5
    assert np.allclose(np.concatenate([run(4, 0, n), run(4, n, n)]), whole, atol=1e-4)
    assert np.array_equal(run(4, 0, n), run(4, 0, n))


def test_helicopter_chops_and_campfire_crackles() -> None:
    t = np.arange(2 * RATE, dtype=np.float64) / RATE
    rotor = VOICES["helicopter"](NoiseBank(1), 0, t.size, t, RATE).astype(np.float64)
    envelope = np.abs(signal.hilbert(rotor))
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean()))
    freqs = np.fft.rfftfreq(envelope.size, 1 / RATE)
    assert abs(freqs[np.argmax(spectrum[freqs < 50])] - 5.5) < 0.6  # blade passes a second
    fire = VOICES["campfire"](NoiseBank(1), 0, t.size, t, RATE).astype(np.float64)
    high = signal.sosfilt(signal.butter(4, 1500.0, "highpass", fs=RATE, output="sos"), fire)
    kurtosis = np.mean(high**4) / np.mean(high**2) ** 2
    assert kurtosis > 6  # sparse pops, not a steady hiss (Gaussian noise: 3)


def test_the_subjects_with_voices_are_heard_through_a_plan() -> None:
    """Each voice's key is a subject kind the engine draws, and naming it in a prompt plays it;
    a kind without a voice (a cat) leaves the sound as it was."""
    assert set(VOICES) <= {kind.value for kind in SubjectKind}

    def change(kind: str) -> float:
        plan = dataclasses.replace(understand(f"a {kind}, static"), weather=Weather.CLEAR)
        assert plan.has(SubjectKind(kind)), kind
        heard = _sound(plan, 2.0, seed=3).astype(np.float64)
        quiet = _sound(dataclasses.replace(plan, subjects=()), 2.0, seed=3).astype(np.float64)
        return float(np.sqrt(np.mean((heard - quiet) ** 2) / np.mean(quiet**2)))

    for kind in sorted(VOICES):
        assert change(kind) > 0.1, kind
    assert change("cat") == 0.0
