"""Scene properties of the sketch renderer that a person would notice if they broke."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from openreel.backends.sketch.plan import (
    Camera,
    Pace,
    ScenePlan,
    Setting,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.scenery import HORIZON

W, H, FPS, FRAMES = 320, 180, 24, 48

Image = npt.NDArray[np.uint8]


def _renderer(
    plan: ScenePlan, *, seed: int = 1, frames: int = FRAMES, width: int = W, height: int = H
) -> SceneRenderer:
    return SceneRenderer(plan, width=width, height=height, fps=FPS, frames=frames, seed=seed)


def _luma(frame: Image) -> float:
    return float(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).mean())


def _still(**kw: object) -> ScenePlan:
    base: dict[str, object] = {"camera": Camera.STATIC, "weather": Weather.CLEAR}
    return ScenePlan(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("setting", [s for s in Setting if s is not Setting.SPACE])
def test_render_night_is_darker_than_noon(setting: Setting) -> None:
    noon = _luma(_renderer(_still(setting=setting, time_of_day=TimeOfDay.DAY)).render(10))
    night = _luma(_renderer(_still(setting=setting, time_of_day=TimeOfDay.NIGHT)).render(10))
    assert night < noon * 0.75


@pytest.mark.parametrize("weather", [Weather.RAIN, Weather.SNOW, Weather.STORM])
def test_render_precipitation_adds_particles_that_move(weather: Weather) -> None:
    clear = _renderer(_still(setting=Setting.COUNTRYSIDE, time_of_day=TimeOfDay.DAY))
    wet = _renderer(_still(setting=Setting.COUNTRYSIDE, time_of_day=TimeOfDay.DAY, weather=weather))
    # Particles change the picture...
    a, b = clear.render(20).astype(np.int16), wet.render(20).astype(np.int16)
    assert (np.abs(a - b).max(axis=2) > 20).mean() > 0.005
    # ...and move: with a still camera and no subjects, consecutive clear frames barely differ
    # (drifting clouds and water only) while wet ones change in many more pixels.
    still_motion = (np.abs(clear.render(21).astype(np.int16) - a).max(axis=2) > 20).mean()
    wet_motion = (np.abs(wet.render(21).astype(np.int16) - b).max(axis=2) > 20).mean()
    assert wet_motion > still_motion + 0.003


@pytest.mark.parametrize(
    ("setting", "has_water"),
    [
        (Setting.COAST, True),
        (Setting.LAKE, True),
        (Setting.DESERT, False),
        (Setting.COUNTRYSIDE, False),
    ],
)
def test_render_settings_with_water_have_a_water_region(setting: Setting, has_water: bool) -> None:
    frame = _renderer(
        _still(setting=setting, time_of_day=TimeOfDay.DAY), width=640, height=360
    ).render(0)
    horizon = int(360 * (0.5 + HORIZON))
    band = frame[horizon + 10 : horizon + 60, 200:440].reshape(-1, 3).astype(np.int32)
    bluish = (band[:, 2] > band[:, 0] + 25).mean()
    assert (bluish > 0.8) == has_water


_SUBJECT_SETTING = {
    SubjectKind.FISH: Setting.UNDERWATER,
    SubjectKind.WHALE: Setting.COAST,
    SubjectKind.SAILBOAT: Setting.COAST,
    SubjectKind.SHIP: Setting.COAST,
    SubjectKind.LIGHTHOUSE: Setting.COAST,
    SubjectKind.ROCKET: Setting.DESERT,
    SubjectKind.PLANET: Setting.SPACE,
}


@pytest.mark.parametrize("kind", list(SubjectKind))
def test_render_every_subject_changes_the_frames(kind: SubjectKind) -> None:
    setting = _SUBJECT_SETTING.get(kind, Setting.COUNTRYSIDE)
    plain = _still(setting=setting, time_of_day=TimeOfDay.DAY)
    with_it = _still(setting=setting, time_of_day=TimeOfDay.DAY, subjects=(Subject(kind, 1),))
    a, b = _renderer(plain, width=480, height=270), _renderer(with_it, width=480, height=270)
    changed = [
        int(
            (
                np.abs(a.render(i).astype(np.int16) - b.render(i).astype(np.int16)).max(axis=2) > 24
            ).sum()
        )
        for i in (0, 24, 47)
    ]
    assert max(changed) > 150, f"{kind} changed only {changed} pixels"


def _shift(a: Image, b: Image) -> tuple[float, float]:
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float32)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb)
    return float(dx), float(dy)


def _ends(camera: Camera) -> tuple[Image, Image]:
    plan = ScenePlan(
        setting=Setting.MOUNTAINS,
        time_of_day=TimeOfDay.DAY,
        weather=Weather.CLEAR,
        camera=camera,
        pace=Pace.FAST,
    )
    r = _renderer(plan, frames=96, width=480, height=270)
    return r.render(0), r.render(95)


def test_render_pan_right_moves_content_left_and_pan_left_moves_it_right() -> None:
    dx_right, _ = _shift(*_ends(Camera.PAN_RIGHT))
    dx_left, _ = _shift(*_ends(Camera.PAN_LEFT))
    assert dx_right < -2
    assert dx_left > 2


def test_render_rise_and_tilt_up_move_content_down_tilt_down_moves_it_up() -> None:
    assert _shift(*_ends(Camera.RISE))[1] > 2
    assert _shift(*_ends(Camera.TILT_UP))[1] > 2
    assert _shift(*_ends(Camera.TILT_DOWN))[1] < -2


def _zoom_error(a: Image, b: Image, scale: float) -> float:
    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, scale)
    warped = cv2.warpAffine(a, m, (w, h))
    cut = (slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4))
    return float(np.abs(warped[cut].astype(np.int16) - b[cut].astype(np.int16)).mean())


def _best_zoom(camera: Camera) -> float:
    first, last = _ends(camera)
    scales = [0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4]
    return min(scales, key=lambda s: _zoom_error(first, last, s))


def test_render_push_in_magnifies_and_pull_out_shrinks() -> None:
    assert _best_zoom(Camera.PUSH_IN) > 1.0
    assert _best_zoom(Camera.PULL_OUT) < 1.0
    assert _best_zoom(Camera.STATIC) == 1.0


def test_render_same_seed_same_frames_other_seed_other_frames() -> None:
    plan = ScenePlan(
        setting=Setting.COAST, weather=Weather.STORM, subjects=(Subject(SubjectKind.SAILBOAT, 2),)
    )
    a, b, c = _renderer(plan, seed=3), _renderer(plan, seed=3), _renderer(plan, seed=4)
    for i in (0, 17, 47):
        assert np.array_equal(a.render(i), b.render(i))
    assert not np.array_equal(a.render(17), c.render(17))


def test_render_frames_are_rgb_uint8_of_the_requested_size() -> None:
    frame = _renderer(ScenePlan(), width=256, height=144).render(3)
    assert frame.shape == (144, 256, 3)
    assert frame.dtype == np.uint8
    assert frame.flags.c_contiguous


@pytest.mark.parametrize("style", list(Style))
def test_render_styles_grade_the_picture(style: Style) -> None:
    natural = _renderer(_still(setting=Setting.COUNTRYSIDE)).render(5)
    graded = _renderer(_still(setting=Setting.COUNTRYSIDE, style=style)).render(5)
    diff = float(np.abs(natural.astype(np.int16) - graded.astype(np.int16)).mean())
    if style is Style.NATURAL:
        assert diff == 0
    else:
        assert diff > 3
    if style is Style.NOIR:
        spread = graded.astype(np.int16).max(axis=2) - graded.astype(np.int16).min(axis=2)
        assert spread.max() <= 14  # grey: only grain and anti-aliasing separate the channels


def test_render_memory_does_not_grow_with_clip_length() -> None:
    plan = ScenePlan(weather=Weather.RAIN, subjects=(Subject(SubjectKind.BIRDS, 1),))

    def peak(frames: int) -> int:
        renderer = _renderer(plan, frames=frames)
        tracemalloc.start()
        for i in range(frames):
            renderer.render(i)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    one_frame = W * H * 3
    assert peak(120) < peak(10) + 2 * one_frame
