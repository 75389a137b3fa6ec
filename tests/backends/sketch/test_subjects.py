"""Subject drawers: every kind the planner can name has one, drawn far to near."""

from __future__ import annotations

import numpy as np
import pytest

from openreel.backends.sketch.draw import CameraState
from openreel.backends.sketch.palette import build_palette
from openreel.backends.sketch.plan import Setting, Style, Subject, SubjectKind, TimeOfDay
from openreel.backends.sketch.scenery import HORIZON
from openreel.backends.sketch.subjects import Stage, SubjectDrawer, make_subjects

W, H = 160, 96


def _stage() -> Stage:
    palette = build_palette(Setting.COAST, TimeOfDay.DAY, Style.NATURAL, H, 0.5 + HORIZON)
    return Stage(palette, Setting.COAST, None, True, W / H, 1.0, 0.0)


def _drawers(*kinds: SubjectKind) -> list[SubjectDrawer]:
    subjects = tuple(Subject(kind) for kind in kinds)
    return make_subjects(subjects, _stage(), np.random.default_rng(7))


@pytest.mark.parametrize("kind", list(SubjectKind))
def test_subjects_every_kind_has_a_drawer_that_draws_something(kind: SubjectKind) -> None:
    (drawer,) = _drawers(kind)
    assert type(drawer).__name__.casefold().startswith(kind.value[:4])
    frame = np.zeros((H, W, 3), np.uint8)
    drawer.draw(frame, CameraState(W, H), 1.0)
    assert frame.any(), kind


def test_subjects_are_drawn_far_to_near_whatever_the_prompt_order() -> None:
    near_first = _drawers(SubjectKind.PERSON, SubjectKind.HOUSE, SubjectKind.MOON)
    assert [type(d).__name__ for d in near_first] == ["Moon", "House", "Person"]
    # Named with a bicycle and a motorcycle, the one person rides them: no walker of their own.
    riders = {SubjectKind.PERSON}
    drawn = {type(d) for d in _drawers(*SubjectKind)}
    assert len(drawn) == len(SubjectKind) - len(riders)
