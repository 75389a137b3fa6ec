"""Edits in the sketch engine: the edit prompt merged onto the source's plan, same seed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from openreel.backends.sketch.backend import SketchBackend
from openreel.backends.sketch.edit import footage_edit, merge_edit
from openreel.backends.sketch.plan import (
    Camera,
    ScenePlan,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.understand import understand
from openreel.domain import SourceVideo, VideoRequest

PROMPT = "a lighthouse on the coast with birds and two sailboats in the day"
SEED = 11
SIZE = {"width": 320, "height": 192, "fps": 8, "seconds": 1.0}


def _edit_request(prompt: str) -> VideoRequest:
    source = understand(PROMPT)
    return VideoRequest(
        prompt=prompt,
        seed=SEED,
        operation="edit",
        source=SourceVideo(
            path="unused",
            frames=8,
            fps=8.0,
            width=320,
            height=192,
            video_id="video_" + "1" * 32,
            plan=source.to_dict(),
        ),
        **SIZE,
    )


def _frames(request: VideoRequest) -> list[np.ndarray]:
    return list(SketchBackend().generate(request))


def _original() -> list[np.ndarray]:
    return _frames(VideoRequest(prompt=PROMPT, seed=SEED, **SIZE))


@pytest.mark.parametrize(
    ("prompt", "changes"),
    [
        ("at night", ["time_of_day: day -> night"]),
        ("make it snow", ["weather: clear -> snow"]),
        ("add a balloon", ["added balloon"]),
        ("without the birds", ["removed birds"]),
        ("in noir", ["style: natural -> noir"]),
        ("a static shot", ["camera: pan_right -> static"]),
        ("add a lighthouse", []),  # already there: nothing to change
    ],
)
def test_an_edit_changes_what_it_names_and_nothing_else(prompt: str, changes: list[str]) -> None:
    source = understand(PROMPT)
    merged, said = merge_edit(source, prompt)
    assert said == changes
    untouched = ("setting", "time_of_day", "weather", "camera", "style", "pace")
    for aspect in untouched:
        if not any(change.startswith(aspect) for change in said):
            assert getattr(merged, aspect) is getattr(source, aspect), aspect


def test_a_hint_does_not_move_an_existing_scene() -> None:
    """ "a rocket" suggests space; the coast stays a coast."""
    merged, _ = merge_edit(understand(PROMPT), "add a rocket")
    assert merged.setting is understand(PROMPT).setting
    assert merged.has(SubjectKind.ROCKET)


def test_at_night_darkens_the_frames_and_keeps_every_subject_in_its_place() -> None:
    request = _edit_request("at night")
    backend = SketchBackend()
    night_plan = backend.plan(request)
    assert night_plan.time_of_day is TimeOfDay.NIGHT
    assert night_plan.subjects == understand(PROMPT).subjects
    day = SceneRenderer(understand(PROMPT), frames=8, seed=SEED, width=320, height=192, fps=8)
    night = SceneRenderer(night_plan, frames=8, seed=SEED, width=320, height=192, fps=8)
    assert [type(s) for s in day.subjects] == [type(s) for s in night.subjects]
    assert [s.slots for s in day.subjects] == [s.slots for s in night.subjects]
    edited = _frames(request)
    original = _original()
    assert np.mean(edited) < 0.6 * np.mean(original)


def test_without_the_birds_removes_them_and_nothing_else() -> None:
    edited = _frames(_edit_request("without the birds"))
    original = _original()
    no_birds = replace(
        understand(PROMPT),
        subjects=tuple(s for s in understand(PROMPT).subjects if s.kind is not SubjectKind.BIRDS),
    )
    renderer = SceneRenderer(no_birds, frames=8, seed=SEED, width=320, height=192, fps=8)
    for index, frame in enumerate(edited):
        # Exactly the source's scene drawn without its birds...
        assert np.array_equal(frame, renderer.render(index))
        # ...which differs from the source only where the birds were: a small part.
        changed = np.any(frame != original[index], axis=2).mean()
        assert 0 < changed < 0.05, changed


def test_a_footage_edit_takes_only_what_footage_can_take() -> None:
    layers = footage_edit("at dusk in heavy rain, in noir, add a castle, pan left")
    assert layers.time_of_day is TimeOfDay.DUSK
    assert layers.weather is Weather.RAIN
    assert layers.style is Style.NOIR
    assert layers.not_applied == ("adding castle", f"camera {Camera.PAN_LEFT.value}")


def test_the_plan_of_a_drawn_edit_lists_its_changes() -> None:
    plan = SketchBackend().describe(_edit_request("at night, without the birds"))
    assert plan["mode"] == "drawn"
    assert plan["changes"] == ["time_of_day: day -> night", "removed birds"]
    rebuilt = ScenePlan.from_dict(plan["plan"])
    assert Subject(SubjectKind.BIRDS) not in rebuilt.subjects
