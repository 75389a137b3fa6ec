"""The animals people ask for most: understood with their verb, drawn where they live, moving."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import numpy.typing as npt
import pytest

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.edit import merge_edit
from openreel.backends.sketch.plan import (
    Action,
    Camera,
    ScenePlan,
    Setting,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects import make_subjects
from openreel.backends.sketch.subjects.mammals import Dog, Horse
from openreel.backends.sketch.subjects.people import Astronaut, Person
from openreel.backends.sketch.understand import understand

K = SubjectKind
W, H, FPS = 320, 180, 24
Image = npt.NDArray[np.uint8]

ANIMALS = [K.DOG, K.CAT, K.HORSE, K.DEER, K.FOX, K.RABBIT, K.BEAR, K.DOLPHIN, K.BUTTERFLY, K.DRAGON]
# The same body plans, more species (from the prompt corpus).
MORE = [
    K.SHEEP, K.COW, K.PIG, K.LION, K.TIGER, K.ELEPHANT, K.GIRAFFE, K.ZEBRA, K.PANDA, K.SQUIRREL,
    K.UNICORN, K.PENGUIN, K.CHICKEN, K.FLAMINGO,
]  # fmt: skip
# Where each lives, when the prompt names no place.
HOMES = {
    K.DOG: Setting.COUNTRYSIDE,
    K.CAT: Setting.CITY,
    K.HORSE: Setting.COUNTRYSIDE,
    K.DEER: Setting.FOREST,
    K.FOX: Setting.FOREST,
    K.RABBIT: Setting.COUNTRYSIDE,
    K.BEAR: Setting.FOREST,
    K.DOLPHIN: Setting.COAST,
    K.BUTTERFLY: Setting.COUNTRYSIDE,
    K.DRAGON: Setting.MOUNTAINS,
    K.SHEEP: Setting.COUNTRYSIDE,
    K.COW: Setting.COUNTRYSIDE,
    K.PIG: Setting.COUNTRYSIDE,
    K.LION: Setting.COUNTRYSIDE,
    K.TIGER: Setting.FOREST,
    K.ELEPHANT: Setting.COUNTRYSIDE,
    K.GIRAFFE: Setting.COUNTRYSIDE,
    K.ZEBRA: Setting.COUNTRYSIDE,
    K.PANDA: Setting.FOREST,
    K.SQUIRREL: Setting.FOREST,
    K.UNICORN: Setting.FOREST,
    K.PENGUIN: Setting.SNOWFIELD,
    K.CHICKEN: Setting.COUNTRYSIDE,
    K.FLAMINGO: Setting.LAKE,
}


def _subject(prompt: str, kind: SubjectKind) -> Subject:
    (subject,) = [s for s in understand(prompt).subjects if s.kind is kind]
    return subject


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("a golden retriever", K.DOG),
        ("a corgi puppy", K.DOG),
        ("a tabby kitten", K.CAT),
        ("a wild mustang", K.HORSE),
        ("a reindeer", K.DEER),
        ("an arctic fox", K.FOX),
        ("a hare", K.RABBIT),
        ("a polar bear", K.BEAR),
        ("a bottlenose dolphin", K.DOLPHIN),
        ("a monarch butterfly", K.BUTTERFLY),
        ("a fire-breathing dragon", K.DRAGON),
        ("a flock of sheep", K.SHEEP),
        ("a dairy cow", K.COW),
        ("a lion cub", K.LION),
        ("a panda bear", K.PANDA),
        ("a rooster", K.CHICKEN),
        ("a king penguin", K.PENGUIN),
    ],
)
def test_animals_each_word_gives_its_subject_and_home(prompt: str, kind: SubjectKind) -> None:
    plan = understand(prompt)
    assert [s.kind for s in plan.subjects] == [kind], prompt
    if kind not in (K.FOX, K.BEAR):  # the arctic fox and the polar bear live on the ice
        assert plan.setting is HOMES[kind], prompt
    else:
        assert plan.setting is Setting.SNOWFIELD, prompt


def test_animals_the_verb_goes_to_its_subject() -> None:
    assert _subject("a dog running in a field", K.DOG).action is Action.RUNNING
    assert _subject("a running dog", K.DOG).action is Action.RUNNING
    assert _subject("a galloping horse", K.HORSE).action is Action.RUNNING
    assert _subject("a horse walking", K.HORSE).action is Action.WALKING
    assert _subject("dolphins leaping", K.DOLPHIN).action is Action.JUMPING
    assert _subject("a dolphin swimming", K.DOLPHIN).action is Action.SWIMMING
    assert _subject("a butterfly fluttering", K.BUTTERFLY).action is Action.FLYING
    # The subject before the verb takes it; another one stays as it is.
    plan = understand("a cat and a dog running")
    assert [(s.kind, s.action) for s in plan.subjects] == [
        (K.CAT, None),
        (K.DOG, Action.RUNNING),
    ]
    # A verb stays in its clause.
    plan = understand("a dog, birds flying")
    assert [(s.kind, s.action) for s in plan.subjects] == [
        (K.DOG, None),
        (K.BIRDS, Action.FLYING),
    ]
    assert _subject("a fox", K.FOX).action is None


def test_animals_counts_plurals_and_groups() -> None:
    assert _subject("two dogs", K.DOG).count == 2
    assert _subject("dogs", K.DOG).count == 3
    assert _subject("a herd of deer", K.DEER).count == 5
    assert _subject("a pack of wolves", K.DOG).count == 4
    assert _subject("three foxes", K.FOX).count == 3
    assert _subject("a pod of dolphins", K.DOLPHIN).count == 4
    assert _subject("butterflies", K.BUTTERFLY).count == 3
    assert _subject("seven ponies", K.HORSE).count == 7


def test_animals_the_issues_prompts() -> None:
    fetch = understand("a dog playing fetch in a park")
    assert fetch.subjects == (Subject(K.DOG, 1, Action.PLAYING),)
    dragon = understand("a dragon flying over a medieval castle")
    assert dragon.subjects == (Subject(K.DRAGON, 1, Action.FLYING), Subject(K.CASTLE, 1))
    deer = understand("a herd of deer in a misty forest")
    assert deer.subjects == (Subject(K.DEER, 5),)
    assert (deer.setting, deer.weather) == (Setting.FOREST, Weather.FOG)
    ride = understand("an astronaut riding a horse on mars")
    assert ride.subjects == (Subject(K.ASTRONAUT, 1, Action.RIDING), Subject(K.HORSE, 1))
    assert ride.setting is Setting.MARS
    knight = understand("a knight riding a horse")
    assert knight.subjects == (Subject(K.PERSON, 1, Action.RIDING), Subject(K.HORSE, 1))


def test_animals_the_plan_says_the_action_and_keeps_it() -> None:
    plan = understand("two dogs running on a beach")
    assert "2 dogs running" in plan.summary()
    data = plan.to_dict()
    assert data["subjects"] == [{"kind": "dog", "count": 2, "action": "running"}]
    assert ScenePlan.from_dict(data) == plan
    # A plan written before actions existed still reads, and one without an action says none.
    old = {**data, "subjects": [{"kind": "dog", "count": 2}]}
    assert ScenePlan.from_dict(old).subjects == (Subject(K.DOG, 2),)
    assert "action" not in understand("a dog").to_dict()["subjects"][0]


def _plan(kind: SubjectKind, action: Action | None = None, count: int = 1) -> ScenePlan:
    return ScenePlan(
        setting=HOMES[kind],
        time_of_day=TimeOfDay.DAY,
        weather=Weather.CLEAR,
        camera=Camera.STATIC,
        subjects=(Subject(kind, count, action),),
    )


def _render(plan: ScenePlan, *frames: int, width: int = W, height: int = H) -> list[Image]:
    r = SceneRenderer(plan, width=width, height=height, fps=FPS, frames=48, seed=3)
    return [r.render(i) for i in frames]


def _mask(a: Image, b: Image) -> npt.NDArray[np.bool_]:
    return np.asarray(np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 24)


@pytest.mark.parametrize("kind", ANIMALS + MORE)
def test_animals_each_is_drawn_where_it_lives_and_moves(kind: SubjectKind) -> None:
    plan = _plan(kind)
    bare = dataclasses.replace(plan, subjects=())
    frames = (0, 6, 12, 18)
    drawn = _render(plan, *frames)
    empty = _render(bare, *frames)
    masks = [_mask(a, b) for a, b in zip(drawn, empty, strict=True)]
    # Drawn: in every frame for those always in view; at some moment for dolphins, which spend
    # part of their leap under the water.
    sizes = [int(m.sum()) for m in masks]
    assert max(sizes) > 60, f"{kind}: {sizes}"
    if kind is not K.DOLPHIN:
        assert min(sizes) > 20, f"{kind}: {sizes}"
    rows = np.concatenate([np.nonzero(m)[0] for m in masks])
    middle = float(np.median(rows)) / H
    horizon = 0.5 + HORIZON  # as a share of the frame's height
    if kind is K.DRAGON:
        assert middle < 0.5, f"{kind} should be in the sky, is at {middle:.2f}"
    elif kind is K.DOLPHIN:
        assert middle > horizon - 0.1, f"{kind} should be at sea, is at {middle:.2f}"
    else:
        assert middle > horizon, f"{kind} should be on the ground, is at {middle:.2f}"
    # It moves: successive frames differ where it is.
    region = masks[0] | masks[1] | masks[2] | masks[3]
    moved = [int((_mask(a, b) & region).sum()) for a, b in itertools.pairwise(drawn)]
    assert max(moved) > 10, f"{kind}: {moved}"


def _centre_x(plan: ScenePlan, frame: int) -> float:
    (a,) = _render(plan, frame)
    (b,) = _render(dataclasses.replace(plan, subjects=()), frame)
    return float(np.nonzero(_mask(a, b))[1].mean())


def test_animals_a_running_dog_goes_farther_than_a_walking_one() -> None:
    run, walk = _plan(K.DOG, Action.RUNNING), _plan(K.DOG, Action.WALKING)
    ran = abs(_centre_x(run, 12) - _centre_x(run, 0))
    walked = abs(_centre_x(walk, 12) - _centre_x(walk, 0))
    assert walked > 1.0, walked  # walking is moving too
    assert ran > 2 * walked, (ran, walked)


def _stage_drawers(subjects: tuple[Subject, ...]) -> list[object]:
    renderer = SceneRenderer(
        dataclasses.replace(_plan(K.HORSE), subjects=subjects),
        width=W,
        height=H,
        fps=FPS,
        frames=24,
        seed=3,
    )
    return list(renderer.subjects)


def test_animals_a_rider_sits_on_the_horse() -> None:
    riding = _stage_drawers((Subject(K.PERSON, 1, Action.RIDING), Subject(K.HORSE, 1)))
    (horse,) = riding  # the rider no longer walks on its own: the horse draws it
    assert isinstance(horse, Horse)
    assert len(horse.riders) == 1
    assert isinstance(horse.riders[0], Person)
    # "on horseback" with nobody named: the horse brings its own rider.
    (alone,) = _stage_drawers((Subject(K.HORSE, 1, Action.RIDING),))
    assert isinstance(alone, Horse)
    assert len(alone.riders) == 1
    # Without riding, a person walks beside the horse.
    assert len(_stage_drawers((Subject(K.PERSON, 1), Subject(K.HORSE, 1)))) == 2
    # An astronaut rides in the suit: the horse draws the astronaut, not a plain person.
    (mount,) = _stage_drawers(understand("an astronaut riding a horse on mars").subjects)
    assert isinstance(mount, Horse)
    assert [type(r) for r in mount.riders] == [Astronaut]
    # And the rider is drawn on the horse's back: above the horse, within its width.
    cam = CameraState(W, H)
    seat = horse.seat(0, cam, 0.0)
    x, gy, size, _, _ = horse.pose(0, cam, 0.0)
    assert gy - 1.0 * size < seat.y < gy - 0.5 * size
    assert abs(seat.x - x) < 0.2 * size
    plan = dataclasses.replace(
        _plan(K.HORSE), subjects=(Subject(K.PERSON, 1, Action.RIDING), Subject(K.HORSE, 1))
    )
    (with_rider,) = _render(plan, 0)
    (horse_only,) = _render(dataclasses.replace(plan, subjects=(Subject(K.HORSE, 1),)), 0)
    (bare,) = _render(dataclasses.replace(plan, subjects=()), 0)
    rider_rows = np.nonzero(_mask(with_rider, horse_only))[0]
    horse_rows = np.nonzero(_mask(horse_only, bare))[0]
    assert rider_rows.size > 30
    assert np.median(rider_rows) < np.median(horse_rows)  # sits above the horse's middle


def test_animals_leave_the_other_subjects_where_they_were() -> None:
    plan = _plan(K.DOG)
    stage_plan = dataclasses.replace(plan, subjects=(Subject(K.SHIP, 2), Subject(K.PERSON, 2)))
    with_animals = dataclasses.replace(
        stage_plan, subjects=(*stage_plan.subjects, Subject(K.DOG), Subject(K.DRAGON))
    )

    def slots(p: ScenePlan) -> dict[str, list[tuple[float, float, float]]]:
        r = SceneRenderer(p, width=W, height=H, fps=FPS, frames=24, seed=5)
        return {type(d).__name__: d.slots for d in r.subjects}

    before, after = slots(stage_plan), slots(with_animals)
    assert after["Ship"] == before["Ship"]
    assert after["Person"] == before["Person"]
    assert {"Dog", "Dragon"} <= set(after)


def test_animals_make_subjects_draws_them_after_what_they_are_over() -> None:
    plan = _plan(K.DRAGON)
    r = SceneRenderer(plan, width=W, height=H, fps=FPS, frames=24, seed=1)
    stage = r.subjects[0].stage
    drawers = make_subjects(
        (Subject(K.DRAGON), Subject(K.CASTLE), Subject(K.DOG), Subject(K.PERSON)),
        stage,
        np.random.default_rng(1),
    )
    assert [type(d).__name__ for d in drawers] == ["Castle", "Dragon", "Person", "Dog"]


def test_animals_an_edit_changes_what_they_do_and_keeps_the_rest() -> None:
    source = understand("two dogs walking in a meadow")
    merged, changes = merge_edit(source, "running")
    assert merged.subjects == (Subject(K.DOG, 2, Action.WALKING),)  # a verb with no subject
    merged, changes = merge_edit(source, "make the dog run")
    assert merged.subjects == (Subject(K.DOG, 2, Action.RUNNING),)
    assert changes == ["dog: running"]
    merged, changes = merge_edit(source, "five dogs")
    assert merged.subjects == (Subject(K.DOG, 5, Action.WALKING),)  # the count, not the verb


def test_animals_more_species_leave_the_first_ones_where_they_were() -> None:
    """The later species draw from streams of their own: a dog beside sheep and penguins stands
    where it stood alone, so scenes made before them keep their pixels."""
    plan = _plan(K.DOG)
    alone = SceneRenderer(plan, width=W, height=H, fps=FPS, frames=24, seed=3).subjects
    crowd = dataclasses.replace(
        plan, subjects=(Subject(K.SHEEP), Subject(K.DOG), Subject(K.PENGUIN), Subject(K.ZEBRA))
    )
    mixed = SceneRenderer(crowd, width=W, height=H, fps=FPS, frames=24, seed=3).subjects
    (first,) = alone
    (dog,) = [d for d in mixed if isinstance(d, Dog)]
    assert isinstance(first, Dog)
    assert dog.slots == first.slots
    assert dog.phases == first.phases
