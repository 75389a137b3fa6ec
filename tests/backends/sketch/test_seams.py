"""No soft element shows its box or its clip (issue 25): every one rendered alone, at the edges.

A seam is a hard step along a straight line: across it the picture jumps by far more than it
changes on either side, for many pixels in a row. A smooth shape never does that, however
steep: a blurred edge changes over several pixels, and a round glow's steep part is curved. The
detector is checked against shapes that do have seams (a cloud or glow cut by its box, a flat
wedge of light ending in a line) so a detector that finds nothing cannot pass the test.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from openreel.backends.sketch.draw import Sprite, blend_poly, radial_sprite, soft_poly
from openreel.backends.sketch.plan import Camera, ScenePlan, Setting, TimeOfDay, Weather
from openreel.backends.sketch.render import SceneRenderer

W, H, FPS, FRAMES = 384, 216, 24, 48
STEP = 6.0
"""A jump this many levels above the steps beside it is hard (clouds step 1 to 3 at most)."""
RUN = 8
"""...and this many such jumps in a straight line are a seam (a glow's cusp is shorter)."""

Image = npt.NDArray[np.uint8]
BACKGROUND = (60, 70, 90)


def _blank() -> Image:
    frame = np.empty((H, W, 3), np.uint8)
    frame[:] = BACKGROUND
    return frame


def _luma(frame: Image) -> npt.NDArray[np.float32]:
    return np.asarray(cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_RGB2GRAY), np.float32)


_BLANK = _blank()
_BLANK_LUMA = _luma(_BLANK)


def _has_seam(before: Image, after: Image) -> bool:
    """Whether drawing added a straight row or column of RUN hard steps or more."""
    change = _luma(after) - (_BLANK_LUMA if before is _BLANK else _luma(before))
    for image in (change, change.T):
        delta = np.abs(np.diff(image, axis=1))
        jump = delta[:, 1:-1] - np.maximum(delta[:, :-2], delta[:, 2:])
        # Hard steps in RUN consecutive rows at one column boundary, by a running count.
        count = np.cumsum(jump > STEP, axis=0, dtype=np.int32)
        before_window = np.vstack([np.zeros_like(count[:1]), count[:-RUN]])
        if bool(np.any(count[RUN - 1 :] - before_window >= RUN)):
            return True
    return False


def _edge_spots(sprite: Sprite) -> list[tuple[float, float]]:
    """Centres that put the sprite half out of each edge and corner, and in the middle."""
    w2, h2 = sprite.width / 2, sprite.height / 2
    return [
        (0.0, H / 3),
        (W, H / 2),
        (W / 2, 0.0),
        (W / 3, H),
        (w2 - 5, h2 - 5),
        (W - w2 + 5, H - h2 + 5),
        (W / 2, H / 2),
    ]


def _assert_seamless_at_edges(sprite: Sprite, what: str, *, visible: bool = True) -> None:
    for cx, cy in _edge_spots(sprite):
        frame = _blank()
        sprite.blit(frame, cx, cy)
        assert not visible or not np.array_equal(frame, _BLANK), (what, cx, cy)
        assert not _has_seam(_BLANK, frame), f"{what} shows a seam at ({cx}, {cy})"


# -- the detector finds seams where there are some ------------------------------------------


def _renderer(plan: ScenePlan, seed: int = 5) -> SceneRenderer:
    return SceneRenderer(plan, width=W, height=H, fps=FPS, frames=FRAMES, seed=seed)


def _cloudy() -> SceneRenderer:
    return _renderer(ScenePlan(setting=Setting.DESERT, weather=Weather.CLOUDS))


def test_detector_finds_a_cloud_cut_by_its_box() -> None:
    clouds = _cloudy().clouds
    assert clouds is not None
    for sprite in clouds.sprites:
        pre, inv = sprite.premultiplied, sprite.inverse_alpha
        assert inv is not None
        for cut in (np.s_[:, : sprite.width // 2], np.s_[sprite.height // 3 :, :]):
            frame = _blank()
            Sprite(pre[cut].copy(), inv[cut].copy()).blit(frame, W / 2, H / 2)
            assert _has_seam(_BLANK, frame)
        # The whole sprite in the same place has none.
        frame = _blank()
        sprite.blit(frame, W / 2, H / 2)
        assert not _has_seam(_BLANK, frame)


def test_detector_finds_a_cropped_glow_and_a_flat_beam_end() -> None:
    glow = radial_sprite(60, (255, 230, 200), 0.9)
    frame = _blank()
    Sprite(glow.premultiplied[30:90, 30:90].copy(), None).blit(frame, W / 2, H / 2)
    assert _has_seam(_BLANK, frame)
    beam = np.array([[100.0, 140.0], [400.0, 110.0], [400.0, 175.0]])
    frame = _blank()
    blend_poly(frame, [beam], (255, 220, 150), 0.3)  # ends in a vertical line at x = 400
    assert _has_seam(_BLANK, frame)


# -- every soft element, alone, at the edges and in the middle -------------------------------


_TIMES = list(TimeOfDay)


def _time_for(setting: Setting, weather: Weather) -> TimeOfDay:
    """Spreads the times of day over the cases so each setting and weather meets several."""
    return _TIMES[(list(Setting).index(setting) + list(Weather).index(weather)) % len(_TIMES)]


@pytest.mark.parametrize("weather", list(Weather))
@pytest.mark.parametrize("setting", list(Setting))
def test_soft_elements_have_no_seams(setting: Setting, weather: Weather) -> None:
    """Clouds, fog, the sun's or moon's glow and the setting's light, alone and at every edge."""
    plan = ScenePlan(
        setting=setting,
        weather=weather,
        time_of_day=_time_for(setting, weather),
        camera=Camera.STATIC,
    )
    r = _renderer(plan)
    if r.clouds is not None:
        for k, sprite in enumerate(r.clouds.sprites):
            _assert_seamless_at_edges(sprite, f"cloud {k}")
    if r.fog is not None:
        frame = _blank()
        r.fog.draw(frame)
        assert not _has_seam(_BLANK, frame), "fog"
    # A glow can be nil (no sun in a storm's light): then there is nothing to see, nor a seam.
    _assert_seamless_at_edges(r.sky.glow, "sun or moon glow", visible=False)
    frame = _blank()
    r._draw_extras(frame, r.camera(0), 0.0)  # nebulae in space, light shafts under water
    assert not _has_seam(_BLANK, frame), "setting light"


@pytest.mark.parametrize("camera", list(Camera))
@pytest.mark.parametrize("weather", list(Weather))
def test_soft_elements_stay_seamless_as_the_camera_moves(camera: Camera, weather: Weather) -> None:
    """Clouds as drawn (drifting, wrapping, parallax) and the settings' light, clip-long."""
    settings = [Setting.DESERT, Setting.UNDERWATER, Setting.SPACE, Setting.CITY]
    for setting in settings:
        plan = ScenePlan(
            setting=setting,
            weather=weather,
            time_of_day=_time_for(setting, weather),
            camera=camera,
        )
        r = _renderer(plan)
        for index in (0, FRAMES // 2, FRAMES - 1):
            cam, t = r.camera(index), index / FPS
            frame = _blank()
            if r.clouds is not None:
                r.clouds.draw(frame, cam, t)
            r._draw_extras(frame, cam, t)
            assert not _has_seam(_BLANK, frame), (setting, index)


@pytest.mark.parametrize("radius", [4, 12, 40, 120])
@pytest.mark.parametrize("falloff", [1.6, 2.2])
def test_glows_and_halos_have_no_seams(radius: int, falloff: float) -> None:
    """Lamps, headlights, beacons, moons: every size the subjects ask for."""
    _assert_seamless_at_edges(radial_sprite(radius, (255, 240, 200), 1.0, falloff), "glow")


def _beam(x: float, y: float, reach: float) -> npt.NDArray[np.float64]:
    return np.array(
        [[x, y], [x + reach, y - abs(reach) * 0.09], [x + reach, y + abs(reach) * 0.09]]
    )


@pytest.mark.parametrize("feather", [3.0, 8.0])
@pytest.mark.parametrize(
    ("x", "y", "reach"),
    [(20.0, 140.0, 300.0), (480.0, 140.0, -300.0), (150.0, 10.0, 600.0), (340.0, 205.0, 200.0)],
)
def test_light_shafts_have_no_seams(x: float, y: float, reach: float, feather: float) -> None:
    """The lighthouse's sweep: from a lamp near each edge, running out of the frame or not."""
    frame = _blank()
    soft_poly(frame, [_beam(x, y, reach)], (255, 220, 150), 0.4, feather, ((x, y), (x + reach, y)))
    assert not np.array_equal(frame, _BLANK)
    assert not _has_seam(_BLANK, frame)


@pytest.mark.parametrize(
    ("cx", "cy"), [(0.0, 100.0), (W, 200.0), (250.0, 0.0), (250.0, H), (250, 140)]
)
@pytest.mark.parametrize("radius", [6.0, 20.0, 60.0])
def test_smoke_has_no_seams(cx: float, cy: float, radius: float) -> None:
    """Chimney and funnel puffs and rocket trails, each at the edges and in the middle."""
    a = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    puff = np.stack([cx + radius * np.cos(a), cy + radius * 0.8 * np.sin(a)], axis=1)
    frame = _blank()
    soft_poly(frame, [puff], (220, 220, 225), 0.35, radius * 0.3)
    assert not np.array_equal(frame, _BLANK)
    assert not _has_seam(_BLANK, frame)


def test_soft_poly_leaves_pixels_beyond_its_reach_untouched() -> None:
    """The blend is exact where coverage is nil: no faint rectangle around the shape."""
    frame = _blank()
    soft_poly(frame, [_beam(100.0, 140.0, 200.0)], (255, 255, 255), 0.5, 4.0)
    assert np.array_equal(frame[:, :70], _blank()[:, :70])
    assert np.array_equal(frame[:90], _blank()[:90])
    assert not np.array_equal(frame[:, 100:300], _blank()[:, 100:300])
