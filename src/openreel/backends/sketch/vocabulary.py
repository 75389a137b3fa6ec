"""The words the sketch engine understands, kept as immutable data.

This lives apart from ``understand.py`` so the algorithm stays short and the word lists can
grow without touching it. Each group pairs the *effects* of a phrase (what it tells the
planner) with every phrase that has those effects. Phrases are written in American spelling and
may use hyphens, ampersands or plurals: they go through the same normalisation as prompts, so
``"hot-air balloon"`` also matches "hot air balloons" and "harbor" also matches "harbours".

A phrase must appear in one group only; a test checks that every phrase, said on its own,
produces its group's effects (which also catches a phrase shadowed by an earlier group).

Imports: standard library and sketch.plan only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeAlias

from openreel.backends.sketch.plan import (
    Camera,
    Pace,
    Setting,
    Style,
    SubjectKind,
    TimeOfDay,
    Weather,
)

__all__ = [
    "GROUPS",
    "GROUP_KINDS",
    "IRREGULAR_PLURALS",
    "KIND_SETTINGS",
    "SPELLING",
    "Choice",
    "Choose",
    "Effect",
    "Entry",
    "Exclude",
    "Include",
    "Join",
    "Negate",
    "Number",
]

Choice: TypeAlias = Setting | TimeOfDay | Weather | Camera | Style | Pace
"""A value of one of the single-valued aspects of a plan."""


@dataclass(frozen=True, slots=True)
class Choose:
    """Sets a single-valued aspect (setting, time of day, weather, camera, style or pace).

    Attributes:
        value: The value; its type names the aspect.
        inferred: A hint rather than a statement ("stars" suggests night, "camel" a desert):
            it only counts when no phrase in the prompt states the aspect outright.
    """

    value: Choice
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """Puts a subject in the scene.

    Attributes:
        kind: What to draw.
        count: How many the word itself implies ("couple" is 2, "traffic" is 3); ``None``
            means one, or three when the word is plural.
        unless: Leave the subject out when the prompt names one of these kinds explicitly, for
            words that only hint at a subject ("sailing" adds a sailboat unless a ship sails).
    """

    kind: SubjectKind
    count: int | None = None
    unless: frozenset[SubjectKind] = frozenset()


@dataclass(frozen=True, slots=True)
class Number:
    """A count for the next subject ("two", "a few", "a dozen").

    Attributes:
        value: The count (clamped later to 1..12).
        weak: "a"/"an": says one, but gives way to a plural or to a word's own count, so
            "a couple" stays two people and "a flock" stays one group.
    """

    value: int
    weak: bool = False


@dataclass(frozen=True, slots=True)
class Negate:
    """Removes the next thing named ("no rain", "without birds", "not foggy")."""


@dataclass(frozen=True, slots=True)
class Join:
    """Carries a negation on to the next thing ("no rain or snow")."""


@dataclass(frozen=True, slots=True)
class Exclude:
    """Removes a value outright, for words that are themselves negative ("nobody").

    Attributes:
        value: The subject kind or aspect value to leave out.
    """

    value: Choice | SubjectKind


Effect: TypeAlias = Choose | Include | Number | Negate | Join | Exclude
Entry: TypeAlias = tuple[Effect, ...]
"""What one phrase does; the first effect is the one a negation or a negative prompt removes.
An empty entry consumes the phrase and does nothing (so its words cannot match on their own)."""

Group: TypeAlias = tuple[Entry, tuple[str, ...]]


def _g(effect: Effect | Entry, *phrases: str) -> Group:
    entry = effect if isinstance(effect, tuple) else (effect,)
    return entry, phrases


def _c(value: Choice, *phrases: str) -> Group:
    return _g(Choose(value), *phrases)


def _hint(value: Choice, *phrases: str) -> Group:
    return _g(Choose(value, inferred=True), *phrases)


def _s(kind: SubjectKind, *phrases: str) -> Group:
    return _g(Include(kind), *phrases)


def _n(value: int, *phrases: str) -> Group:
    return _g(Number(value), *phrases)


_S = Setting
_T = TimeOfDay
_W = Weather
_K = SubjectKind
_C = Camera
_Y = Style
_P = Pace

_VESSELS = frozenset({SubjectKind.SHIP, SubjectKind.SAILBOAT})

GROUPS: Final[tuple[Group, ...]] = (
    # --- Settings ---------------------------------------------------------------------------
    _c(
        _S.COAST,
        "coast",
        "coastline",
        "coastal",
        "ocean",
        "sea",
        "seaside",
        "seashore",
        "seascape",
        "beach",
        "shore",
        "shoreline",
        "harbor",
        "port",
        "bay",
        "cove",
        "cliff",
        "cliffs",
        "pier",
        "dock",
        "marina",
        "waves",
        "surf",
        "island",
        "lagoon",
        "boardwalk",
        "waterfront",
        "open sea",
        "high seas",
        "desert island",
        "fishing village",
    ),
    _c(
        _S.MOUNTAINS,
        "mountain",
        "mountains",
        "peak",
        "summit",
        "alps",
        "alpine",
        "valley",
        "ridge",
        "himalaya",
        "himalayas",
        "everest",
        "mountain range",
        "volcano",
        "highlands",
        "rockies",
        "mount",
        "fuji",
        "crag",
    ),
    _c(
        _S.DESERT,
        "desert",
        "dune",
        "sand dunes",
        "sahara",
        "gobi",
        "canyon",
        "mesa",
        "oasis",
        "badlands",
        "arid",
        "wasteland",
    ),
    _hint(_S.DESERT, "camel", "cactus"),
    _c(
        _S.FOREST,
        "forest",
        "woods",
        "wood",
        "woodland",
        "jungle",
        "rainforest",
        "pines",
        "grove",
        "taiga",
        "redwoods",
        "thicket",
        "bamboo",
    ),
    _c(
        _S.CITY,
        "city",
        "town",
        "skyline",
        "cityscape",
        "street",
        "downtown",
        "metropolis",
        "urban",
        "avenue",
        "alley",
        "boulevard",
        "rooftop",
        "skyscraper",
        "neighborhood",
        "city lights",
        "tokyo",
        "new york",
        "manhattan",
        "paris",
        "london",
        "hong kong",
        "shanghai",
        "chicago",
        "venice",
    ),
    _c(
        _S.COUNTRYSIDE,
        "countryside",
        "field",
        "farm",
        "farmland",
        "meadow",
        "hill",
        "hills",
        "rolling hills",
        "village",
        "prairie",
        "pasture",
        "grassland",
        "savanna",
        "savannah",
        "steppe",
        "vineyard",
        "orchard",
        "plain",
        "plains",
        "rural",
        "ranch",
        "tuscany",
        "wheat field",
    ),
    _c(
        _S.LAKE,
        "lake",
        "lakeside",
        "pond",
        "river",
        "riverbank",
        "loch",
        "fjord",
        "stream",
        "creek",
        "reservoir",
        "waterfall",
        "marsh",
        "swamp",
        "wetland",
        "bayou",
    ),
    _c(
        _S.SNOWFIELD,
        "snow field",
        "snowfield",
        "snowscape",
        "tundra",
        "frozen tundra",
        "arctic",
        "antarctic",
        "antarctica",
        "polar",
        "north pole",
        "south pole",
        "glacier",
        "ice",
        "iceberg",
        "ice field",
        "ice sheet",
        "frozen lake",
        "snowy field",
        "snowy plain",
        "snowy landscape",
        "winter wonderland",
    ),
    _hint(_S.SNOWFIELD, "snow covered", "snowbound"),
    _c(
        _S.SPACE,
        "space",
        "outer space",
        "deep space",
        "galaxy",
        "cosmos",
        "cosmic",
        "nebula",
        "orbit",
        "star field",
        "starfield",
        "asteroid",
        "asteroid belt",
        "interstellar",
    ),
    _c(
        _S.UNDERWATER,
        "underwater",
        "under water",
        "under the sea",
        "under the ocean",
        "beneath the sea",
        "beneath the waves",
        "below the surface",
        "reef",
        "coral",
        "coral reef",
        "deep sea",
        "ocean floor",
        "sea floor",
        "seafloor",
        "seabed",
        "sea bed",
        "subsea",
        "aquarium",
        "kelp",
        "kelp forest",
        "submerged",
        "abyss",
    ),
    _hint(_S.UNDERWATER, "submarine"),
    # Ground cover, not weather: "snow-capped peaks" are mountains on a clear day.
    _g((), "snow capped"),
    # --- Time of day ------------------------------------------------------------------------
    _c(
        _T.DAWN,
        "dawn",
        "sunrise",
        "daybreak",
        "first light",
        "early morning",
        "morning twilight",
        "break of day",
        "crack of dawn",
        "rising sun",
        "sun rise",
        "sun rising",
    ),
    _c(
        _T.DAY,
        "day",
        "daytime",
        "daylight",
        "broad daylight",
        "noon",
        "high noon",
        "midday",
        "mid day",
        "middle of the day",
        "morning",
        "afternoon",
    ),
    _hint(_T.DAY, "bright"),
    _c(
        _T.GOLDEN_HOUR,
        "golden hour",
        "golden light",
        "magic hour",
        "sunset glow",
        "late afternoon",
        "before sunset",
        "low sun",
    ),
    _hint(_T.GOLDEN_HOUR, "golden"),
    # "sunset" is dusk, not golden hour: a sunset picture has the sun on the horizon under a
    # red sky, which is the dusk palette (sun at the horizon line, red horizon, first stars);
    # golden hour is the warm light *before* it ("sunset glow", "before sunset").
    _c(
        _T.DUSK,
        "dusk",
        "twilight",
        "evening twilight",
        "sunset",
        "after sunset",
        "setting sun",
        "sun set",
        "sun setting",
        "sundown",
        "evening",
        "eventide",
        "gloaming",
        "blue hour",
        "nightfall",
        "end of the day",
    ),
    _c(
        _T.NIGHT,
        "night",
        "nighttime",
        "midnight",
        "tonight",
        "at night",
        "night sky",
        "after dark",
        "nocturnal",
        "starry",
        "starlit",
        "starlight",
        "shooting star",
        "milky way",
    ),
    _g((Choose(_T.NIGHT), Include(_K.MOON)), "moonlit", "moonlight", "moonrise"),
    _g((Choose(_T.NIGHT), Choose(_S.SNOWFIELD, inferred=True)), "northern lights", "aurora"),
    _hint(_T.NIGHT, "stars", "star", "dark", "darkness"),
    # --- Weather ----------------------------------------------------------------------------
    _c(_W.CLEAR, "clear", "clear sky", "cloudless", "fair weather"),
    _g((Choose(_W.CLEAR), Choose(_T.DAY, inferred=True)), "blue sky"),
    _g((Choose(_T.DAY), Choose(_W.CLEAR)), "sunny", "sunshine"),
    _c(
        _W.CLOUDS,
        "cloud",
        "clouds",
        "cloudy",
        "partly cloudy",
        "overcast",
        "gray sky",
        "dark clouds",
        "gloomy",
        "cumulus",
        "cloudscape",
        "sea of clouds",
    ),
    _c(
        _W.RAIN,
        "rain",
        "rainy",
        "raining",
        "rainfall",
        "rainstorm",
        "pouring rain",
        "drizzle",
        "drizzling",
        "downpour",
        "shower",
        "showers",
        "monsoon",
    ),
    # "snowy" alone is falling snow ("a snowy evening"); "snowy" right before a setting word
    # ("snowy mountains", "snowy forest") describes the ground and sets only the setting. The
    # lexicon builder adds those "snowy <setting>" phrases for every one-word setting.
    _c(
        _W.SNOW,
        "snow",
        "snowy",
        "snowing",
        "snowfall",
        "falling snow",
        "snow falling",
        "snowflake",
        "blizzard",
        "flurry",
        "flurries",
        "snowstorm",
        "snow storm",
        "sleet",
    ),
    _c(
        _W.FOG,
        "fog",
        "foggy",
        "fogbank",
        "mist",
        "misty",
        "haze",
        "hazy",
        "smog",
        "murky",
        "sea of fog",
    ),
    _c(
        _W.STORM,
        "storm",
        "stormy",
        "thunder",
        "thunderstorm",
        "thunder storm",
        "lightning",
        "lightning storm",
        "storm clouds",
        "tempest",
        "hurricane",
        "typhoon",
        "cyclone",
        "tornado",
        "gale",
        "squall",
        "sandstorm",
        "dust storm",
    ),
    # --- Subjects ---------------------------------------------------------------------------
    _s(_K.LIGHTHOUSE, "lighthouse", "light house", "beacon"),
    _s(
        _K.SAILBOAT,
        "sailboat",
        "boat",
        "sailing boat",
        "yacht",
        "dinghy",
        "catamaran",
        "schooner",
        "rowboat",
        "canoe",
        "kayak",
        "raft",
        "speedboat",
        "motorboat",
        "fishing boat",
    ),
    _g(Include(_K.SAILBOAT, unless=_VESSELS), "sailing", "sail"),
    _s(
        _K.SHIP,
        "ship",
        "ferry",
        "steamer",
        "steamship",
        "steamboat",
        "freighter",
        "tanker",
        "liner",
        "ocean liner",
        "galleon",
        "vessel",
        "cargo ship",
        "container ship",
        "cruise ship",
        "tall ship",
        "sailing ship",
        "pirate ship",
        "warship",
        "battleship",
        "frigate",
        "tugboat",
    ),
    _g(Include(_K.SHIP, count=5), "fleet"),
    _s(
        _K.BIRDS,
        "bird",
        "birds",
        "flock",
        "flock of birds",
        "seagull",
        "sea gull",
        "gull",
        "seabird",
        "goose",
        "crow",
        "raven",
        "swallow",
        "eagle",
        "hawk",
        "falcon",
        "pelican",
        "albatross",
        "pigeon",
        "dove",
        "heron",
        "starling",
        "sparrow",
        "songbird",
        "swan",
        "duck",
        "owl",
        "snowy owl",
        "parrot",
        "murmuration",
    ),
    _s(
        _K.WHALE,
        "whale",
        "orca",
        "killer whale",
        "humpback",
        "dolphin",
        "porpoise",
        "narwhal",
    ),
    _s(
        _K.FISH,
        "fish",
        "school of fish",
        "shoal",
        "salmon",
        "trout",
        "goldfish",
        "koi",
        "tuna",
        "shark",
        "jellyfish",
        "clownfish",
        "tropical fish",
        "stingray",
        "manta ray",
    ),
    _s(
        _K.CAR,
        "car",
        "taxi",
        "cab",
        "truck",
        "lorry",
        "van",
        "jeep",
        "bus",
        "automobile",
        "vehicle",
        "sports car",
        "convertible",
        "police car",
        "limousine",
        "motorcycle",
        "motorbike",
    ),
    _g((Include(_K.CAR), Choose(_P.FAST)), "race car", "racing car"),
    _g(Include(_K.CAR, count=3), "traffic"),
    _s(
        _K.TRAIN,
        "train",
        "locomotive",
        "steam train",
        "freight train",
        "bullet train",
        "railway",
        "railroad",
        "train station",
    ),
    _g((Include(_K.TRAIN), Choose(_S.CITY, inferred=True)), "tram", "streetcar", "subway", "metro"),
    _s(_K.BALLOON, "balloon", "hot-air balloon", "airship", "blimp", "zeppelin"),
    _s(
        _K.PERSON,
        "person",
        "people",
        "man",
        "woman",
        "gentleman",
        "lady",
        "guy",
        "boy",
        "girl",
        "child",
        "kid",
        "figure",
        "human",
        "someone",
        "somebody",
        "stranger",
        "hiker",
        "walker",
        "wanderer",
        "traveler",
        "explorer",
        "pilgrim",
        "monk",
        "fisherman",
        "sailor",
        "cyclist",
        "runner",
        "dancer",
        "pedestrian",
    ),
    _g(Include(_K.PERSON, count=2), "couple", "lovers"),
    _g(Include(_K.PERSON, count=3), "family"),
    _g(Include(_K.PERSON, count=6), "crowd"),
    _g((Include(_K.PERSON), Choose(_S.SPACE, inferred=True)), "astronaut"),
    _g((Include(_K.PERSON), Choose(_S.UNDERWATER, inferred=True)), "diver", "scuba diver"),
    _g((Include(_K.PERSON), Choose(_S.SNOWFIELD, inferred=True)), "skier"),
    _g((Include(_K.PERSON), Choose(_S.COAST, inferred=True)), "surfer"),
    _g((Include(_K.PERSON), Choose(_S.DESERT, inferred=True)), "cowboy"),
    _g((Include(_K.PERSON), Choose(_S.COUNTRYSIDE, inferred=True)), "farmer", "shepherd"),
    _g(Exclude(_K.PERSON), "nobody", "no one"),
    _s(
        _K.HOUSE,
        "house",
        "cottage",
        "cabin",
        "log cabin",
        "hut",
        "shack",
        "villa",
        "church",
        "chapel",
        "homestead",
    ),
    _g((Include(_K.HOUSE), Choose(_S.COUNTRYSIDE, inferred=True)), "farmhouse", "barn"),
    _g((Include(_K.HOUSE), Choose(_S.MOUNTAINS, inferred=True)), "chalet"),
    _g((Include(_K.HOUSE), Choose(_S.SNOWFIELD, inferred=True)), "igloo"),
    _s(
        _K.TREE,
        "tree",
        "lone tree",
        "oak",
        "pine",
        "pine tree",
        "palm",
        "palm tree",
        "willow",
        "birch",
        "maple",
        "cypress",
        "baobab",
        "sequoia",
        "redwood",
        "cherry tree",
        "cherry blossom",
        "sakura",
    ),
    _s(_K.CASTLE, "castle", "fortress", "fort", "palace", "citadel", "stronghold"),
    _g(Include(_K.CASTLE, count=1), "ruins", "castle ruins"),
    _s(
        _K.ROCKET,
        "rocket",
        "spaceship",
        "spacecraft",
        "shuttle",
        "space shuttle",
        "starship",
        "ufo",
        "flying saucer",
        "satellite",
        "space station",
    ),
    _g((Include(_K.MOON), Choose(_T.NIGHT, inferred=True)), "moon", "full moon", "crescent moon"),
    _s(
        _K.AIRPLANE,
        "airplane",
        "plane",
        "jet",
        "fighter jet",
        "jumbo jet",
        "aircraft",
        "airliner",
        "jetliner",
        "biplane",
        "seaplane",
        "glider",
        "helicopter",
    ),
    _s(_K.WINDMILL, "windmill", "wind mill", "wind turbine", "turbine"),
    _g(Include(_K.WINDMILL, count=3), "wind farm"),
    _s(
        _K.PLANET,
        "planet",
        "planet earth",
        "exoplanet",
        "gas giant",
        "ringed planet",
        "saturn",
        "jupiter",
        "mars",
        "venus",
        "neptune",
        "uranus",
    ),
    _g((Include(_K.PLANET), Choose(_S.SPACE)), "earth from space"),
    # --- Camera -----------------------------------------------------------------------------
    _c(
        _C.STATIC,
        "static",
        "static shot",
        "static camera",
        "still",
        "still shot",
        "locked-off",
        "locked-off shot",
        "fixed camera",
        "fixed shot",
        "tripod",
        "stationary",
        "no camera movement",
        "no camera motion",
    ),
    _c(
        _C.PAN_LEFT,
        "pan left",
        "pans left",
        "panning left",
        "pan to the left",
        "tracking left",
        "track left",
        "truck left",
        "dolly left",
        "moving left",
        "camera moves left",
    ),
    # A bare "pan" goes right: reading direction, and the plan's default move.
    _c(
        _C.PAN_RIGHT,
        "pan",
        "panning",
        "pan right",
        "panning right",
        "pan to the right",
        "tracking right",
        "track right",
        "truck right",
        "dolly right",
        "moving right",
        "camera moves right",
        "tracking",
        "tracking shot",
        "panoramic",
    ),
    _c(
        _C.PUSH_IN,
        "push in",
        "pushing in",
        "push forward",
        "dolly in",
        "dolly forward",
        "dolly",
        "zoom in",
        "zooming in",
        "zoom",
        "approach",
        "approaching",
        "closer",
        "move closer",
        "moving closer",
        "fly toward",
        "fly towards",
    ),
    _g((Choose(_C.PUSH_IN), Choose(_P.SLOW)), "slow push in", "slow zoom in", "slow zoom"),
    _c(
        _C.PULL_OUT,
        "pull out",
        "pulling out",
        "pull back",
        "pulling back",
        "dolly out",
        "dolly back",
        "zoom out",
        "zooming out",
        "reveal",
        "revealing",
        "wide reveal",
    ),
    _g((Choose(_C.PULL_OUT), Choose(_P.SLOW)), "slow pull out", "slow pull back", "slow zoom out"),
    _c(
        _C.RISE,
        "rise",
        "rising",
        "ascend",
        "ascending",
        "crane up",
        "crane shot",
        "boom up",
        "pedestal up",
        "drone",
        "drone shot",
        "drone rising",
        "aerial",
        "aerial rise",
        "birds eye view",
        "bird eye view",
        "birds eye",
        "camera rises",
        "fly up",
    ),
    # A bare "tilt" goes up, toward the sky where most of the scene's motion is.
    _c(_C.TILT_UP, "tilt", "tilt up", "tilting up", "tilt upward", "tilt upwards", "look up"),
    _c(
        _C.TILT_DOWN,
        "tilt down",
        "tilting down",
        "tilt downward",
        "tilt downwards",
        "look down",
    ),
    # --- Style ------------------------------------------------------------------------------
    _c(
        _Y.PASTEL,
        "pastel",
        "pastels",
        "pastel colors",
        "soft colors",
        "candy colored",
        "cotton candy",
        "watercolor",
    ),
    _c(
        _Y.NEON,
        "neon",
        "neon lights",
        "neon lit",
        "glowing neon",
        "cyberpunk",
        "cyber punk",
        "blade runner",
        "fluorescent",
    ),
    _c(
        _Y.NOIR,
        "noir",
        "film noir",
        "black and white",
        "black & white",
        "b&w",
        "bw",
        "monochrome",
        "monochromatic",
        "grayscale",
        "gray scale",
    ),
    _c(
        _Y.WARM,
        "warm",
        "warm tones",
        "warm colors",
        "sepia",
        "amber",
        "autumn",
        "autumnal",
        "vintage",
        "cozy",
    ),
    _c(
        _Y.COLD,
        "cold",
        "icy",
        "frosty",
        "frozen",
        "chilly",
        "freezing",
        "wintry",
        "wintery",
        "winter",
        "bleak",
        "blue tones",
        "cool tones",
        "cool colors",
    ),
    # Synthwave, retrowave and outrun are vaporwave here, not neon: all are the 1980s-retro
    # pink-and-purple look, which is what the vaporwave grade does; neon is the saturated
    # cyberpunk look of lit signs.
    _c(
        _Y.VAPORWAVE,
        "vaporwave",
        "vapor wave",
        "synthwave",
        "synth wave",
        "retrowave",
        "outrun",
        "retro 80s",
        "80s",
        "1980s",
        "eighties",
    ),
    # --- Pace -------------------------------------------------------------------------------
    _c(
        _P.SLOW,
        "slow",
        "slowly",
        "slow motion",
        "slo mo",
        "slomo",
        "gentle",
        "gently",
        "calm",
        "calmly",
        "serene",
        "peaceful",
        "tranquil",
        "quiet",
        "lazy",
        "lazily",
        "leisurely",
        "unhurried",
        "drifting",
        "drift",
        "floating",
        "relaxing",
        "meditative",
        "sleepy",
    ),
    _c(
        _P.FAST,
        "fast",
        "fast motion",
        "fast paced",
        "quick",
        "quickly",
        "rapid",
        "rapidly",
        "swift",
        "swiftly",
        "racing",
        "speeding",
        "high speed",
        "rushing",
        "hurried",
        "frantic",
        "hectic",
        "busy",
        "bustling",
        "energetic",
        "time lapse",
        "timelapse",
        "hyperlapse",
    ),
    # --- Grammar ----------------------------------------------------------------------------
    _g(Number(1, weak=True), "a", "an"),
    _n(1, "one", "single", "lone", "lonely", "solitary"),
    _n(2, "two", "pair of", "a pair of", "couple of", "a couple of", "twin"),
    _n(3, "three", "few", "a few"),
    _n(4, "four", "several", "a handful of"),
    _n(5, "five", "fleet of", "a fleet of"),
    _n(6, "six", "many", "lots of", "a lot of"),
    _n(7, "seven"),
    _n(8, "eight"),
    _n(9, "nine"),
    _n(10, "ten"),
    _n(11, "eleven"),
    _n(12, "twelve", "dozen", "a dozen", "dozens of", "hundreds of", "a hundred", "countless"),
    _g(Negate(), "no", "not", "without", "never", "neither", "nor", "free of", "devoid of"),
    _g(Join(), "or"),
    # Consumed so that its words do not match on their own; what follows still counts.
    _g((), "in the style of", "style of"),
)
"""Every phrase the engine knows, grouped by what it does."""

SPELLING: Final[Mapping[str, str]] = MappingProxyType(
    {
        "harbour": "harbor",
        "colour": "color",
        "coloured": "colored",
        "colourful": "colorful",
        "grey": "gray",
        "greyscale": "grayscale",
        "traveller": "traveler",
        "travelling": "traveling",
        "neighbourhood": "neighborhood",
        "aeroplane": "airplane",
        "cosy": "cozy",
        "vapour": "vapor",
        "centre": "center",
        "theatre": "theater",
        "sombre": "somber",
    }
)
"""British spellings to the American ones the lexicon is written in (word by word)."""

IRREGULAR_PLURALS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "geese": "goose",
        "people": "person",
        "men": "man",
        "women": "woman",
        "children": "child",
        "fishermen": "fisherman",
        "fishes": "fish",
        "cacti": "cactus",
    }
)
"""Plurals the ``-s``/``-es``/``-ies`` rules cannot undo."""

GROUP_KINDS: Final[frozenset[SubjectKind]] = frozenset({SubjectKind.BIRDS, SubjectKind.FISH})
"""Kinds drawn as one flock or school: a plural alone does not multiply them."""

KIND_SETTINGS: Final[Mapping[SubjectKind, Setting]] = MappingProxyType(
    {
        SubjectKind.LIGHTHOUSE: Setting.COAST,
        SubjectKind.SAILBOAT: Setting.COAST,
        SubjectKind.SHIP: Setting.COAST,
        SubjectKind.WHALE: Setting.COAST,
        SubjectKind.FISH: Setting.UNDERWATER,
        SubjectKind.ROCKET: Setting.SPACE,
        SubjectKind.PLANET: Setting.SPACE,
        SubjectKind.CASTLE: Setting.MOUNTAINS,
        SubjectKind.TRAIN: Setting.COUNTRYSIDE,
        SubjectKind.WINDMILL: Setting.COUNTRYSIDE,
        SubjectKind.BALLOON: Setting.COUNTRYSIDE,
        SubjectKind.CAR: Setting.CITY,
    }
)
"""Where a subject most likely is, used when the prompt names no setting."""
