"""Words that change the scene (weather, season, other worlds) and the subjects of issue 25.

Rendered small (160x90) and checked by what a viewer would see: snow is white ground, Mars a
reddish ground under a pale sky, the moon a black sky; a subject changes the pixels where it is
and moves between frames; a runner gets farther than a walker.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.palette import build_palette
from openreel.backends.sketch.plan import (
    Action,
    ScenePlan,
    Season,
    Setting,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects import Stage, make_subjects
from openreel.backends.sketch.subjects.people import Person, draw_rider
from openreel.backends.sketch.subjects.rides import Ridden
from openreel.backends.sketch.understand import understand

W, H, FPS = 160, 90, 8
K = SubjectKind
NEW_KINDS = [
    K.ASTRONAUT,
    K.BICYCLE,
    K.MOTORCYCLE,
    K.HELICOPTER,
    K.KITE,
    K.TENT,
    K.CAMPFIRE,
    K.ROBOT,
    K.FLOWERS,
    K.FIREWORKS,
]


def _renderer(plan: ScenePlan, seed: int = 3, frames: int = 16, scale: int = 1) -> SceneRenderer:
    return SceneRenderer(plan, width=W * scale, height=H * scale, fps=FPS, frames=frames, seed=seed)


def _frame(prompt: str, index: int = 0) -> npt.NDArray[np.uint8]:
    return _renderer(understand(prompt)).render(index)


def _ground(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    """The bottom rows, where the nearest ground is in every land setting."""
    return frame[-6:].reshape(-1, 3).astype(np.int32)


def test_world_scene_words_change_the_plan() -> None:
    fox = understand("a red fox running through a snowy forest at dawn")
    assert (fox.setting, fox.season, fox.time_of_day) == (
        Setting.FOREST,
        Season.WINTER,
        TimeOfDay.DAWN,
    )
    assert fox.subjects == (Subject(K.FOX, 1, Action.RUNNING),)
    assert "forest at dawn in winter" in fox.summary()
    for prompt, weather in [
        ("a rainy street", Weather.RAIN),
        ("a misty lake", Weather.FOG),
        ("a foggy harbor", Weather.FOG),
        ("a stormy sea", Weather.STORM),
        ("a snowy evening in the village", Weather.SNOW),
    ]:
        assert understand(prompt).weather is weather, prompt
    assert understand("autumn in the countryside").season is Season.AUTUMN
    assert understand("a maple in the fall").season is Season.AUTUMN
    assert understand("a walk in winter").season is Season.WINTER
    assert understand("cherry blossoms in spring").season is Season.SPRING
    assert understand("a quiet lake").season is None

    mars = understand("an astronaut riding a horse on mars")
    assert mars.setting is Setting.MARS
    assert not mars.has(K.PLANET)
    assert mars.has(K.ASTRONAUT)
    assert mars.summary().startswith("mars at")
    moon = understand("an astronaut on the moon")
    assert moon.setting is Setting.MOON
    assert not moon.has(K.MOON)
    # "mars" alone is still the planet, seen from space.
    assert understand("mars").has(K.PLANET)


def test_world_season_and_action_survive_json_and_stay_out_when_unsaid() -> None:
    plan = understand("two people dancing in a snowy village")
    data = plan.to_dict()
    assert data["season"] == "winter"
    assert data["subjects"] == [{"kind": "person", "count": 2, "action": "dancing"}]
    assert ScenePlan.from_dict(data) == plan
    quiet = understand("a lighthouse at dusk").to_dict()
    assert "season" not in quiet
    assert "action" not in quiet
    assert all("action" not in s for s in quiet["subjects"])
    assert ScenePlan.from_dict(quiet).season is None


def test_world_snowy_forest_has_white_ground() -> None:
    # The nearest ground: the bottom rows (the pines behind it are only frosted).
    middle = slice(W // 4, 3 * W // 4)  # away from the vignette's darker corners
    snowy = _frame("a snowy forest in the day, static")[-3:, middle].reshape(-1, 3)
    plain = _frame("a forest in the day, static")[-3:, middle].reshape(-1, 3)
    # White under the frame's vignette: bright in every channel, and neutral.
    white = lambda px: int(((px > 165).all(axis=1) & (np.ptp(px, axis=1) < 40)).sum())  # noqa: E731
    assert white(snowy) > 0.8 * len(snowy)
    assert white(plain) == 0


def test_world_autumn_ground_is_warmer_than_summer() -> None:
    autumn = _ground(_frame("a forest in autumn at midday, static")).mean(axis=0)
    summer = _ground(_frame("a forest in summer at midday, static")).mean(axis=0)
    assert autumn[0] - autumn[1] > summer[0] - summer[1] + 20


def test_world_on_mars_is_a_red_desert_under_a_pale_sky_not_space() -> None:
    plan = understand("a rover on mars at midday, static")
    assert plan.setting is Setting.MARS
    frame = _renderer(plan).render(0)
    sky = frame[:8].reshape(-1, 3).astype(np.int32).mean(axis=0)
    ground = _ground(frame).mean(axis=0)
    assert sky.min() > 90, sky  # pale, not the black of space
    assert sky[0] > sky[2] + 30, sky  # butterscotch, not blue
    assert ground[0] > ground[1] + 30, ground  # red...
    assert ground[0] > ground[2] + 40, ground
    space = _frame("a rover in space at midday, static")
    assert space[:8].mean() < 40  # what Mars must not look like


def test_world_on_the_moon_is_grey_ground_under_a_black_sky_with_earth() -> None:
    plan = understand("footprints on the moon, static")
    renderer = _renderer(plan)
    frame = renderer.render(0)
    sky = frame[: int(H * 0.3)].astype(np.int32)
    assert np.median(sky) < 25
    ground = _ground(frame).mean(axis=0)
    assert ground.min() > 90, ground  # lit...
    assert ground.max() - ground.min() < 20, ground  # ...and grey
    # The Earth: a blue disc in the black sky.
    blue = (sky[..., 2] > 120) & (sky[..., 2] > sky[..., 0] + 40)
    assert blue.sum() > 10
    assert renderer.clouds is None
    assert renderer.precipitation is None


def _subject_pixels(plan: ScenePlan, index: int, scale: int = 1) -> npt.NDArray[np.bool_]:
    """Where the plan's subjects change the frame: the frame against the same scene bare."""
    bare = dataclasses.replace(plan, subjects=())
    a = _renderer(plan, scale=scale).render(index).astype(np.int32)
    b = _renderer(bare, scale=scale).render(index).astype(np.int32)
    changed: npt.NDArray[np.bool_] = np.abs(a - b).sum(axis=2) > 24
    return changed


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_world_each_new_subject_is_planned_drawn_and_moves(kind: SubjectKind) -> None:
    plan = understand(f"a {kind.value} in the countryside at midday, static")
    assert plan.has(kind), plan.summary()
    # Twice the usual size: a tent's flapping door is a pixel or two at 160x90.
    first, later = _subject_pixels(plan, 0, 2), _subject_pixels(plan, 7, 2)
    assert first.sum() > 15, kind
    assert (first != later).sum() > 4, kind  # it moves (or flickers, or flutters)


def _travel(prompt: str) -> float:
    plan = understand(prompt)
    xs = [float(np.nonzero(_subject_pixels(plan, i))[1].mean()) for i in (0, 15)]
    return abs(xs[1] - xs[0])


def test_world_a_runner_gets_farther_than_a_walker() -> None:
    run = _travel("a man running in a meadow at midday, static")
    walk = _travel("a man walking in a meadow at midday, static")
    assert run > 2.5 * walk, (run, walk)
    assert run > 3, (run, walk)
    dancing = _travel("a man dancing in a meadow at midday, static")
    assert dancing < run


def test_world_a_cyclist_is_one_person_on_the_bicycle() -> None:
    plan = understand("a woman riding a bicycle on a country road")
    assert plan.has(K.BICYCLE)
    assert plan.has(K.PERSON)
    assert Subject(K.PERSON, 1, Action.RIDING) in plan.subjects
    renderer = _renderer(plan)
    assert [type(d).__name__ for d in renderer.subjects] == ["Bicycle"]
    crowd = _renderer(understand("three people and a bicycle"))
    people = [d for d in crowd.subjects if isinstance(d, Person)]
    assert [d.count for d in people] == [2]
    (bike,) = _renderer(understand("an astronaut riding a bicycle on the moon")).subjects
    assert isinstance(bike, Ridden)
    assert bike.rider_suit


def test_world_draw_rider_draws_a_seated_astronaut_at_the_point() -> None:
    palette = build_palette(Setting.MARS, TimeOfDay.DAY, Style.NATURAL, H, 0.5 + HORIZON)
    cam = CameraState(W, H)
    person, suited = np.zeros((H, W, 3), np.uint8), np.zeros((H, W, 3), np.uint8)
    draw_rider(person, cam, palette, (0.0, 0.1), 0.4, 1.0)
    draw_rider(suited, cam, palette, (0.0, 0.1), 0.4, 1.0, suit=True)
    for drawn in (person, suited):
        _ys, xs = np.nonzero(drawn.any(axis=2))
        assert len(xs) > 30
        # Centred on the seat: x = 0 is the frame's middle, the figure above and around it.
        assert abs(float(np.median(xs)) - W / 2) < 0.2 * W
    assert suited.max(axis=2).max() > 200  # the white suit
    assert person.max() < suited.max()


def test_world_new_kinds_leave_older_subjects_where_they_were() -> None:
    palette = build_palette(Setting.COAST, TimeOfDay.DAY, Style.NATURAL, H, 0.5 + HORIZON)
    stage = Stage(palette, Setting.COAST, None, True, W / H, 1.0, 0.0)
    alone = make_subjects((Subject(K.PERSON),), stage, np.random.default_rng(5))
    mixed = make_subjects(
        (Subject(K.KITE), Subject(K.PERSON), Subject(K.TENT)), stage, np.random.default_rng(5)
    )
    (person,) = [d for d in mixed if type(d) is Person]
    assert person.slots == alone[0].slots
