"""ScenePlan: what the sketch engine understood from a prompt, as plain data.

The plan is the contract between prompt understanding (``understand.py``) and rendering
(``render.py``): the renderer never reads the prompt, and the planner never draws. A plan is
JSON-serialisable so it can be shown to the user, stored with a job and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Action",
    "Camera",
    "Pace",
    "ScenePlan",
    "Season",
    "Setting",
    "Style",
    "Subject",
    "SubjectKind",
    "TimeOfDay",
    "Weather",
]


class Setting(StrEnum):
    """Where the scene takes place."""

    COAST = "coast"
    MOUNTAINS = "mountains"
    DESERT = "desert"
    FOREST = "forest"
    CITY = "city"
    COUNTRYSIDE = "countryside"
    LAKE = "lake"
    SNOWFIELD = "snowfield"
    SPACE = "space"
    UNDERWATER = "underwater"
    # Other worlds' surfaces: ground under a sky, not space ("an astronaut on mars").
    MARS = "mars"
    MOON = "moon"


class TimeOfDay(StrEnum):
    """Light of the scene."""

    DAWN = "dawn"
    DAY = "day"
    GOLDEN_HOUR = "golden_hour"
    DUSK = "dusk"
    NIGHT = "night"


class Weather(StrEnum):
    """Sky and particles."""

    CLEAR = "clear"
    CLOUDS = "clouds"
    RAIN = "rain"
    SNOW = "snow"
    FOG = "fog"
    STORM = "storm"


class SubjectKind(StrEnum):
    """Things the engine can draw as clean vector silhouettes."""

    LIGHTHOUSE = "lighthouse"
    SAILBOAT = "sailboat"
    SHIP = "ship"
    BIRDS = "birds"
    WHALE = "whale"
    FISH = "fish"
    CAR = "car"
    TRAIN = "train"
    BALLOON = "balloon"
    PERSON = "person"
    HOUSE = "house"
    TREE = "tree"
    CASTLE = "castle"
    ROCKET = "rocket"
    MOON = "moon"
    AIRPLANE = "airplane"
    WINDMILL = "windmill"
    PLANET = "planet"
    # Animals people ask for most (issue 25).
    DOG = "dog"
    CAT = "cat"
    HORSE = "horse"
    DEER = "deer"
    FOX = "fox"
    RABBIT = "rabbit"
    BEAR = "bear"
    DOLPHIN = "dolphin"
    BUTTERFLY = "butterfly"
    DRAGON = "dragon"
    # People's things and doings, outdoors and on wheels.
    ASTRONAUT = "astronaut"
    BICYCLE = "bicycle"
    MOTORCYCLE = "motorcycle"
    HELICOPTER = "helicopter"
    KITE = "kite"
    TENT = "tent"
    CAMPFIRE = "campfire"
    ROBOT = "robot"
    FLOWERS = "flowers"
    FIREWORKS = "fireworks"
    # More animals, from the prompts people write most (issue 25's corpus).
    SHEEP = "sheep"
    COW = "cow"
    PIG = "pig"
    LION = "lion"
    TIGER = "tiger"
    ELEPHANT = "elephant"
    GIRAFFE = "giraffe"
    ZEBRA = "zebra"
    PANDA = "panda"
    SQUIRREL = "squirrel"
    UNICORN = "unicorn"
    PENGUIN = "penguin"
    CHICKEN = "chicken"
    FLAMINGO = "flamingo"


class Season(StrEnum):
    """Time of year, where the prompt says it: foliage colours and snow cover on the ground."""

    SPRING = "spring"
    SUMMER = "summer"
    AUTUMN = "autumn"
    WINTER = "winter"


class Action(StrEnum):
    """What one subject is doing, from a verb near it ("a dog running"); drawers pick a motion.

    Each subject carries its own, so "a dog running past a dancing woman" keeps both; a drawer
    that has no motion for a value keeps its own habit.
    """

    STANDING = "standing"
    WALKING = "walking"
    RUNNING = "running"
    DANCING = "dancing"
    RIDING = "riding"
    JUMPING = "jumping"
    PLAYING = "playing"
    FLYING = "flying"
    SWIMMING = "swimming"


class Camera(StrEnum):
    """Camera move over the clip."""

    STATIC = "static"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    PUSH_IN = "push_in"
    PULL_OUT = "pull_out"
    RISE = "rise"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"


class Style(StrEnum):
    """Palette and finish."""

    NATURAL = "natural"
    PASTEL = "pastel"
    NEON = "neon"
    NOIR = "noir"
    WARM = "warm"
    COLD = "cold"
    VAPORWAVE = "vaporwave"


class Pace(StrEnum):
    """How fast things move."""

    SLOW = "slow"
    NORMAL = "normal"
    FAST = "fast"


@dataclass(frozen=True, slots=True)
class Subject:
    """One kind of thing in the scene and how many of it.

    Attributes:
        kind: What to draw.
        count: How many (1 to 12); a flock or school counts as one group.
        action: What it is doing, when the prompt says ("running"); ``None`` leaves the
            drawer's own habit (a dog trots, a dragon flies).
    """

    kind: SubjectKind
    count: int = 1
    action: Action | None = None


@dataclass(frozen=True, slots=True)
class ScenePlan:
    """Everything the renderer needs to know about the scene.

    Attributes:
        setting: Where.
        time_of_day: When.
        weather: Sky and particles.
        subjects: What is in it, in prompt order, each kind at most once.
        camera: How the camera moves.
        style: Palette and finish.
        pace: Speed of motion.
        season: Time of year, or None when the prompt does not say (green, no snow cover).
        matched: Prompt words that decided each aspect, e.g. ``{"time_of_day": ["twilight"]}``;
            aspects missing here were defaulted or inferred.
    """

    setting: Setting = Setting.COAST
    time_of_day: TimeOfDay = TimeOfDay.GOLDEN_HOUR
    weather: Weather = Weather.CLEAR
    subjects: tuple[Subject, ...] = ()
    camera: Camera = Camera.PAN_RIGHT
    style: Style = Style.NATURAL
    pace: Pace = Pace.NORMAL
    matched: dict[str, list[str]] = field(default_factory=dict)
    season: Season | None = None

    @property
    def has_water(self) -> bool:
        """Whether the scene has an open water surface."""
        return self.setting in (Setting.COAST, Setting.LAKE)

    def has(self, kind: SubjectKind) -> bool:
        """Whether ``kind`` is among the subjects."""
        return any(s.kind is kind for s in self.subjects)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy; ``season`` appears only when the prompt said it."""
        out: dict[str, Any] = {
            "setting": self.setting.value,
            "time_of_day": self.time_of_day.value,
            "weather": self.weather.value,
            "subjects": [_subject_dict(s) for s in self.subjects],
            "camera": self.camera.value,
            "style": self.style.value,
            "pace": self.pace.value,
            "matched": {k: list(v) for k, v in self.matched.items()},
        }
        if self.season is not None:
            out["season"] = self.season.value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenePlan:
        """Rebuilds a plan written by :meth:`to_dict`."""
        return cls(
            setting=Setting(data["setting"]),
            time_of_day=TimeOfDay(data["time_of_day"]),
            weather=Weather(data["weather"]),
            subjects=tuple(
                Subject(
                    SubjectKind(s["kind"]),
                    int(s["count"]),
                    Action(s["action"]) if s.get("action") else None,
                )
                for s in data["subjects"]
            ),
            camera=Camera(data["camera"]),
            style=Style(data["style"]),
            pace=Pace(data["pace"]),
            matched={k: list(v) for k, v in data.get("matched", {}).items()},
            season=Season(data["season"]) if data.get("season") else None,
        )

    def summary(self) -> str:
        """One line for people: ``coast at dusk, storm; lighthouse, 3 sailboats; push-in``."""
        when = self.time_of_day.value.replace("_", " ")
        parts = [f"{self.setting.value} at {when}"]
        if self.season is not None:
            parts[0] += f" in {self.season.value}"
        if self.weather is not Weather.CLEAR:
            parts[0] += f", {self.weather.value}"
        if self.subjects:
            parts.append(", ".join(_counted(s) for s in self.subjects))
        parts.append(f"camera {self.camera.value.replace('_', '-')}")
        if self.style is not Style.NATURAL:
            parts.append(f"{self.style.value} style")
        if self.pace is not Pace.NORMAL:
            parts.append(f"{self.pace.value} pace")
        return "; ".join(parts)


def _subject_dict(subject: Subject) -> dict[str, Any]:
    """A subject as JSON; ``action`` only when the prompt gave one, so older plans read alike."""
    out: dict[str, Any] = {"kind": subject.kind.value, "count": subject.count}
    if subject.action is not None:
        out["action"] = subject.action.value
    return out


_PLURALS = {
    "person": "people",
    "fish": "fish",
    "birds": "birds",
    "deer": "deer",
    "fox": "foxes",
    "butterfly": "butterflies",
    "flowers": "flowers",
    "fireworks": "fireworks",
    "sheep": "sheep",
}


def _counted(subject: Subject) -> str:
    """``lighthouse``, ``3 sailboats``, ``2 dogs running``; flocks and schools stay singular."""
    name = subject.kind.value
    doing = f" {subject.action.value}" if subject.action is not None else ""
    if subject.count == 1:
        return name + doing
    plural = _PLURALS.get(name, name + "s")
    return f"{subject.count} {plural}{doing}"
