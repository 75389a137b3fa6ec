"""Edits in the sketch engine: what an edit prompt changes, on a plan or on footage.

On a video the engine drew itself, an edit is the source's plan with the edit prompt's
understanding laid over it: each aspect the prompt states outright (time of day, weather,
style, camera, pace, setting) replaces the source's, subjects it names are added, subjects it
negates ("without the birds") are removed, and everything else stays, drawn again with the
same seed (subjects keep their places: each kind has its own random stream, see
``subjects.registry``). Aspects only hinted at ("a lighthouse" suggests a coast) do not move
an existing scene.

On footage it did not draw (an upload, or another model's video) the engine cannot move or
remove what is in the picture; it lays over it only what it honestly can: a time-of-day grade,
weather (rain, snow, storm, fog) and a style grade. The plan lists what was applied and what
the prompt asked for that footage cannot take.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from openreel.backends.sketch.plan import (
    Camera,
    Pace,
    ScenePlan,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.understand import removed, understand

__all__ = ["FootageEdit", "footage_edit", "merge_edit"]

_ASPECTS = ("setting", "time_of_day", "weather", "camera", "style", "pace", "season")
_CLEARED: dict[str, Any] = {
    "weather": Weather.CLEAR,
    "style": Style.NATURAL,
    "camera": Camera.STATIC,
    "pace": Pace.NORMAL,
    "time_of_day": TimeOfDay.DAY,
}
"""What an aspect becomes when the edit negates the source's value ("without the fog")."""


def _stated(plan: ScenePlan, aspect: str) -> bool:
    """Whether the prompt stated ``aspect`` outright (not only hinted at it)."""
    words = plan.matched.get(aspect, [])
    return any(not word.startswith("inferred from") for word in words)


def merge_edit(source: ScenePlan, prompt: str) -> tuple[ScenePlan, list[str]]:
    """The source plan with the edit prompt's changes; and those changes, for people.

    Returns:
        The merged plan (its ``matched`` is the source's, updated by the edit's words) and
        one line per change (``"time_of_day: golden_hour -> night"``, ``"removed birds"``).
    """
    edit = understand(prompt)
    negated = removed(prompt)
    values: dict[str, Any] = {}
    matched = {k: list(v) for k, v in source.matched.items()}
    changes: list[str] = []
    for aspect in _ASPECTS:
        before = getattr(source, aspect)
        if _stated(edit, aspect):
            after = getattr(edit, aspect)
            matched[aspect] = edit.matched[aspect]
        elif (aspect, before) in negated and aspect in _CLEARED:
            after = _CLEARED[aspect]
        else:
            continue
        if after is not before:
            values[aspect] = after
            changes.append(f"{aspect}: {_name(before)} -> {_name(after)}")
    subjects: list[Subject] = []
    for subject in source.subjects:
        if ("subjects", subject.kind) in negated:
            changes.append(f"removed {subject.kind.value}")
            continue
        subjects.append(subject)
    named = {s.kind: s for s in edit.subjects}
    for kind, subject in named.items():
        present = [i for i, s in enumerate(subjects) if s.kind is kind]
        if present:
            current = subjects[present[0]]
            if current.count != subject.count and _numbered(edit, kind):
                changes.append(f"{kind.value}: {current.count} -> {subject.count}")
                current = replace(current, count=subject.count)
            if subject.action is not None and subject.action is not current.action:
                changes.append(f"{kind.value}: {subject.action.value}")  # "make the dog run"
                current = replace(current, action=subject.action)
            subjects[present[0]] = current
        else:
            subjects.append(subject)
            changes.append(f"added {kind.value}")
    if "subjects" in edit.matched:
        matched["subjects"] = [*matched.get("subjects", []), *edit.matched["subjects"]]
    merged = replace(source, subjects=tuple(subjects), matched=matched, **values)
    return merged, changes


def _name(value: Any) -> str:
    """An aspect's value for people; the season may be unsaid (None)."""
    return "none" if value is None else str(value.value)


def _numbered(edit: ScenePlan, kind: SubjectKind) -> bool:
    """Whether the edit gave ``kind`` a count of its own ("five birds", "two boats")."""
    return any(s.kind is kind and s.count > 1 for s in edit.subjects)


@dataclass(frozen=True, slots=True)
class FootageEdit:
    """What the engine lays over footage it did not draw.

    Attributes:
        time_of_day: A light grade toward this time of day, or None.
        weather: Particles or a veil (rain, snow, storm, fog), or None.
        style: A colour grade, or None.
        not_applied: What the prompt asked for that cannot be laid over footage (subjects
            to add or remove, a camera move, a new setting), for the plan to say so.
    """

    time_of_day: TimeOfDay | None = None
    weather: Weather | None = None
    style: Style | None = None
    not_applied: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (the ``layers`` of an edit's plan)."""
        return {
            "time_of_day": None if self.time_of_day is None else self.time_of_day.value,
            "weather": None if self.weather is None else self.weather.value,
            "style": None if self.style is None else self.style.value,
            "not_applied": list(self.not_applied),
        }

    def summary(self) -> str:
        """One line for people."""
        layers = [
            f"{label} {value.value.replace('_', ' ')}"
            for label, value in (
                ("light", self.time_of_day),
                ("weather", self.weather),
                ("style", self.style),
            )
            if value is not None
        ]
        text = "layers over the source footage: " + (", ".join(layers) or "none")
        if self.not_applied:
            text += "; footage cannot take: " + ", ".join(self.not_applied)
        return text


def footage_edit(prompt: str) -> FootageEdit:
    """The layers an edit prompt asks for that footage can take (see the module docstring)."""
    edit = understand(prompt)
    negated = removed(prompt)
    not_applied: list[str] = []
    if edit.subjects:
        not_applied.append("adding " + ", ".join(s.kind.value for s in edit.subjects))
    gone = sorted(v.value for a, v in negated if a == "subjects")
    if gone:
        not_applied.append("removing " + ", ".join(gone))
    for aspect in ("camera", "setting", "pace"):
        if _stated(edit, aspect):
            not_applied.append(f"{aspect} {getattr(edit, aspect).value}")
    weather = edit.weather if _stated(edit, "weather") else None
    return FootageEdit(
        time_of_day=edit.time_of_day if _stated(edit, "time_of_day") else None,
        weather=None if weather is Weather.CLEAR else weather,
        style=edit.style if _stated(edit, "style") else None,
        not_applied=tuple(not_applied),
    )
