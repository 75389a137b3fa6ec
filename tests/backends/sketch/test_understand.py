"""Prompt understanding: what a person types should become the scene they would expect."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from openreel.backends.sketch.plan import (
    Action,
    Camera,
    Pace,
    ScenePlan,
    Season,
    Setting,
    Style,
    Subject,
    SubjectKind,
    TimeOfDay,
    Weather,
)
from openreel.backends.sketch.understand import understand
from openreel.backends.sketch.vocabulary import Choose, Exclude, Include, vocabulary

K = SubjectKind


def _kinds(prompt: str, negative: str = "") -> list[SubjectKind]:
    return [s.kind for s in understand(prompt, negative).subjects]


def _count(prompt: str, kind: SubjectKind) -> int:
    (subject,) = [s for s in understand(prompt).subjects if s.kind is kind]
    return subject.count


def test_understand_the_worked_example() -> None:
    plan = understand("a lighthouse on a stormy coast at dusk, slow push-in")
    assert plan.setting is Setting.COAST
    assert plan.time_of_day is TimeOfDay.DUSK
    assert plan.weather is Weather.STORM
    assert plan.subjects == (Subject(K.LIGHTHOUSE, 1),)
    assert plan.camera is Camera.PUSH_IN
    assert plan.pace is Pace.SLOW
    assert plan.style is Style.NATURAL
    assert plan.matched["setting"] == ["coast"]
    assert plan.matched["camera"] == ["slow push in"]
    assert plan.matched["pace"] == ["slow push in"]


def test_understand_settings_from_synonyms() -> None:
    cases = {
        Setting.COAST: ["the open ocean", "a sandy beach", "rocky cliffs", "a quiet bay"],
        Setting.MOUNTAINS: ["high peaks", "the Alps", "a green valley", "the summit"],
        Setting.DESERT: ["rolling dunes", "the Sahara", "a red canyon", "a mesa"],
        Setting.FOREST: ["deep woods", "a jungle", "tall pines", "the rainforest"],
        Setting.CITY: ["a city skyline", "downtown", "neon-lit streets", "Tokyo", "a metropolis"],
        Setting.COUNTRYSIDE: ["green fields", "a meadow", "a farm", "a village", "the prairie"],
        Setting.LAKE: ["a still pond", "a river", "a Scottish loch", "a fjord"],
        Setting.SNOWFIELD: ["a snow field", "the tundra", "the arctic", "a glacier"],
        Setting.SPACE: ["outer space", "a galaxy", "the cosmos", "a nebula", "in orbit"],
        Setting.UNDERWATER: ["under water", "under the sea", "a coral reef", "the sea floor"],
    }
    for setting, prompts in cases.items():
        for prompt in prompts:
            assert understand(prompt).setting is setting, prompt


def test_understand_british_and_american_spellings_agree() -> None:
    assert understand("a harbour").setting is Setting.COAST
    assert understand("a harbor").setting is Setting.COAST
    assert understand("harbours at dawn").setting is Setting.COAST
    assert understand("grey skies").weather is Weather.CLOUDS
    assert understand("gray skies").weather is Weather.CLOUDS
    assert understand("soft colours").style is Style.PASTEL
    assert _kinds("a lone traveller") == [K.PERSON]
    assert _kinds("an aeroplane") == [K.AIRPLANE]


def test_understand_accents_case_and_punctuation_are_ignored() -> None:
    assert understand("A CAFÉ by the Sêa").setting is Setting.COAST
    assert understand("SUNRISE!!!").time_of_day is TimeOfDay.DAWN
    assert understand("a bird's-eye view").camera is Camera.RISE
    assert _kinds("a bird's-eye view") == []


def test_understand_times_of_day() -> None:
    cases = {
        TimeOfDay.DAWN: ["dawn", "sunrise", "daybreak", "first light", "early morning"],
        TimeOfDay.DAY: ["noon", "midday", "a sunny afternoon", "morning", "daytime"],
        TimeOfDay.GOLDEN_HOUR: ["golden hour", "magic hour", "late afternoon", "sunset glow"],
        TimeOfDay.DUSK: ["twilight", "dusk", "sunset", "evening", "the gloaming", "blue hour"],
        TimeOfDay.NIGHT: ["night", "midnight", "moonlit", "a starry sky", "nighttime"],
    }
    for time_of_day, prompts in cases.items():
        for prompt in prompts:
            assert understand(prompt).time_of_day is time_of_day, prompt
    assert understand("twilight").matched["time_of_day"] == ["twilight"]


def test_understand_weather() -> None:
    cases = {
        Weather.CLEAR: ["clear sky", "cloudless", "sunny"],
        Weather.CLOUDS: ["cloudy", "overcast", "clouds"],
        Weather.RAIN: ["rainy", "drizzle", "a downpour", "showers"],
        Weather.SNOW: ["snowfall", "a blizzard", "snowing", "flurries", "a snowy evening"],
        Weather.FOG: ["foggy", "mist", "misty", "haze"],
        Weather.STORM: ["stormy", "thunder", "a thunderstorm", "lightning", "a tempest", "gale"],
    }
    for weather, prompts in cases.items():
        for prompt in prompts:
            assert understand(prompt).weather is weather, prompt


def test_understand_snowy_ground_is_not_snowfall() -> None:
    mountains = understand("snowy mountains")
    assert mountains.setting is Setting.MOUNTAINS
    assert mountains.weather is Weather.CLEAR
    field = understand("a wide snowfield")
    assert field.setting is Setting.SNOWFIELD
    assert field.weather is Weather.CLEAR
    assert understand("snow-capped peaks").weather is Weather.CLEAR
    assert understand("snowfall over a snowfield").weather is Weather.SNOW


def test_understand_every_subject_with_a_synonym_and_a_plural() -> None:
    cases = [
        (K.LIGHTHOUSE, "a beacon", "lighthouses"),
        (K.SAILBOAT, "a yacht", "boats"),
        (K.SHIP, "a ferry", "ships"),
        (K.BIRDS, "a seagull", "geese"),
        (K.WHALE, "an orca", "whales"),
        (K.FISH, "a school of fish", "fishes"),
        (K.CAR, "a taxi", "cars"),
        (K.TRAIN, "a locomotive", "trains"),
        (K.BALLOON, "a hot-air balloon", "balloons"),
        (K.PERSON, "a hiker", "people"),
        (K.HOUSE, "a cottage", "houses"),
        (K.TREE, "an oak", "trees"),
        (K.CASTLE, "a fortress", "castles"),
        (K.ROCKET, "a spaceship", "rockets"),
        (K.MOON, "the moon", "moons"),
        (K.AIRPLANE, "a jet", "airplanes"),
        (K.WINDMILL, "a wind turbine", "windmills"),
        (K.PLANET, "Saturn", "planets"),
        # Animals (issue 25)
        (K.DOG, "a puppy", "dogs"),
        (K.CAT, "a kitten", "cats"),
        (K.HORSE, "a stallion", "horses"),
        (K.DEER, "a fawn", "stags"),
        (K.FOX, "a vixen", "foxes"),
        (K.RABBIT, "a bunny", "rabbits"),
        (K.BEAR, "a grizzly", "bears"),
        (K.DOLPHIN, "a porpoise", "dolphins"),
        (K.BUTTERFLY, "a moth", "butterflies"),
        (K.DRAGON, "a wyvern", "dragons"),
        # issue 25: people's things and doings
        (K.ASTRONAUT, "a cosmonaut", "astronauts"),
        (K.BICYCLE, "a bike", "bicycles"),
        (K.MOTORCYCLE, "a motorbike", "motorcycles"),
        (K.HELICOPTER, "a chopper", "helicopters"),
        (K.KITE, "a paper kite", "kites"),
        (K.TENT, "a teepee", "tents"),
        (K.CAMPFIRE, "a bonfire", "campfires"),
        (K.ROBOT, "an android", "robots"),
        (K.FLOWERS, "a tulip", "sunflowers"),
        (K.FIREWORKS, "a firework display", "fireworks"),
        # More animals from the prompt corpus (issue 25)
        (K.SHEEP, "a ewe", "lambs"),
        (K.COW, "a calf", "cows"),
        (K.PIG, "a piglet", "pigs"),
        (K.LION, "a lioness", "lions"),
        (K.TIGER, "a bengal tiger", "tigers"),
        (K.ELEPHANT, "a baby elephant", "elephants"),
        (K.GIRAFFE, "a giraffe", "giraffes"),
        (K.ZEBRA, "a zebra", "zebras"),
        (K.PANDA, "a giant panda", "pandas"),
        (K.SQUIRREL, "a chipmunk", "squirrels"),
        (K.UNICORN, "a unicorn", "unicorns"),
        (K.PENGUIN, "an emperor penguin", "penguins"),
        (K.CHICKEN, "a hen", "chickens"),
        (K.FLAMINGO, "a flamingo", "flamingos"),
    ]
    assert {kind for kind, _, _ in cases} == set(SubjectKind)
    for kind, synonym, plural in cases:
        assert _kinds(synonym) == [kind], synonym
        assert _kinds(plural) == [kind], plural
        expected = 1 if kind in (K.BIRDS, K.FISH) else 3
        assert _count(plural, kind) == expected, plural


def test_understand_counts_from_numbers_and_plurals() -> None:
    assert _count("boats", K.SAILBOAT) == 3
    assert _count("two ships", K.SHIP) == 2
    assert _count("a ship", K.SHIP) == 1
    assert _count("7 red cars", K.CAR) == 7
    assert _count("twelve balloons", K.BALLOON) == 12
    assert _count("99 balloons", K.BALLOON) == 12
    assert _count("0 balloons", K.BALLOON) == 1
    assert _count("a couple", K.PERSON) == 2
    assert _count("a couple of boats", K.SAILBOAT) == 2
    assert _count("a few houses", K.HOUSE) == 3
    assert _count("a flock of birds", K.BIRDS) == 1
    assert _count("five birds", K.BIRDS) == 5
    assert _count("two stormy ships", K.SHIP) == 2


def test_understand_subjects_keep_prompt_order_once_each() -> None:
    plan = understand("a boat near a lighthouse, then three more boats and a whale")
    assert _kinds("a boat near a lighthouse, then three more boats and a whale") == [
        K.SAILBOAT,
        K.LIGHTHOUSE,
        K.WHALE,
    ]
    assert plan.subjects[0].count == 1
    assert plan.matched["subjects"] == ["boat", "lighthouse", "boats", "whale"]


def test_understand_phrases_beat_their_words() -> None:
    assert _kinds("a hot-air balloon") == [K.BALLOON]
    assert _kinds("hot air balloons over the hills") == [K.BALLOON]
    assert understand("golden hour").matched["time_of_day"] == ["golden hour"]
    assert understand("pull out").camera is Camera.PULL_OUT
    assert understand("pan left").camera is Camera.PAN_LEFT
    assert understand("deep sea fishing").setting is Setting.UNDERWATER
    assert understand("a kelp forest").setting is Setting.UNDERWATER
    assert _kinds("a palm tree on a desert island") == [K.TREE]
    assert understand("a palm tree on a desert island").setting is Setting.COAST
    assert _kinds("a ship sailing home") == [K.SHIP]
    assert _kinds("sailing at dusk") == [K.SAILBOAT]


def test_understand_camera_moves() -> None:
    cases = {
        Camera.STATIC: ["static shot", "a locked-off camera", "on a tripod", "fixed camera"],
        Camera.PAN_LEFT: ["panning left", "tracking left", "pan to the left"],
        Camera.PAN_RIGHT: ["truck right", "pan", "slow panning"],
        Camera.PUSH_IN: ["dolly in", "zoom in", "slow push-in", "moving closer"],
        Camera.PULL_OUT: ["pull back", "dolly out", "zoom out", "a wide reveal"],
        Camera.RISE: ["crane up", "rising", "ascending", "drone rising", "aerial rise"],
        Camera.TILT_UP: ["tilt up"],
        Camera.TILT_DOWN: ["tilt down", "tilting down"],
    }
    for camera, prompts in cases.items():
        for prompt in prompts:
            assert understand(prompt).camera is camera, prompt
    assert understand("the rising sun").camera is Camera.PAN_RIGHT


def test_understand_styles() -> None:
    cases = {
        Style.PASTEL: ["pastel", "soft pastel colors"],
        Style.NEON: ["neon", "cyberpunk"],
        Style.NOIR: ["film noir", "black and white", "b&w", "monochrome", "greyscale"],
        Style.WARM: ["warm tones", "sepia", "autumn"],
        Style.COLD: ["cold", "icy", "blue tones"],
        Style.VAPORWAVE: ["vaporwave", "synthwave", "retro 80s"],
    }
    for style, prompts in cases.items():
        for prompt in prompts:
            assert understand(prompt).style is style, prompt


def test_understand_pace() -> None:
    for prompt in ["slow", "slowly", "gentle", "calm", "serene", "peaceful", "drifting"]:
        assert understand(prompt).pace is Pace.SLOW, prompt
    for prompt in ["fast", "quick", "rapid", "racing", "frantic", "time-lapse", "timelapse"]:
        assert understand(prompt).pace is Pace.FAST, prompt


def test_understand_first_word_wins_for_single_valued_aspects() -> None:
    plan = understand("rain then fog, at dawn or dusk, neon then noir, fast then slow")
    assert plan.weather is Weather.RAIN
    assert plan.time_of_day is TimeOfDay.DAWN
    assert plan.style is Style.NEON
    assert plan.pace is Pace.FAST
    assert understand("a forest by a lake").setting is Setting.FOREST


def test_understand_infers_setting_from_subjects() -> None:
    expected = {
        "a lighthouse": Setting.COAST,
        "a sailboat": Setting.COAST,
        "a whale": Setting.COAST,
        "a fish": Setting.UNDERWATER,
        "a rocket": Setting.SPACE,
        "a planet": Setting.SPACE,
        "a castle": Setting.MOUNTAINS,
        "a train": Setting.COUNTRYSIDE,
        "a windmill": Setting.COUNTRYSIDE,
        "a balloon": Setting.COUNTRYSIDE,
        "a car": Setting.CITY,
    }
    for prompt, setting in expected.items():
        assert understand(prompt).setting is setting, prompt
    assert understand("a lighthouse").matched["setting"] == ["inferred from lighthouse"]
    assert understand("a person").setting is Setting.COAST
    assert "setting" not in understand("a person").matched


def test_understand_explicit_setting_beats_inferred() -> None:
    plan = understand("a lighthouse in the desert")
    assert plan.setting is Setting.DESERT
    assert plan.matched["setting"] == ["desert"]
    assert understand("a car on a mountain road").setting is Setting.MOUNTAINS


def test_understand_infers_night_from_the_moon_and_stars() -> None:
    assert understand("a full moon over the sea").time_of_day is TimeOfDay.NIGHT
    assert understand("stars above the desert").time_of_day is TimeOfDay.NIGHT
    assert understand("stars").matched["time_of_day"] == ["inferred from stars"]
    assert understand("the moon at dawn").time_of_day is TimeOfDay.DAWN
    assert understand("moonlit").has(K.MOON)


def test_understand_negation_in_the_prompt() -> None:
    assert understand("a coast, no rain").weather is Weather.CLEAR
    assert understand("rain, no rain").weather is Weather.CLEAR
    assert understand("not foggy, but cloudy").weather is Weather.CLOUDS
    assert _kinds("a lighthouse without birds") == [K.LIGHTHOUSE]
    assert _kinds("a beach without any people") == []
    assert _kinds("birds and boats, no birds") == [K.SAILBOAT]
    assert understand("no rain or snow, snow").weather is Weather.CLEAR
    assert understand("not a single cloud").weather is Weather.CLEAR
    assert _kinds("a quiet street, nobody around") == []
    assert understand("not slow").pace is Pace.NORMAL


def test_understand_negation_stops_at_punctuation() -> None:
    plan = understand("no wind. rain over the lake")
    assert plan.weather is Weather.RAIN


def test_understand_negative_prompt_excludes() -> None:
    plan = understand("rain over a harbour full of people and boats", "rain, people")
    assert plan.weather is Weather.CLEAR
    assert not plan.has(K.PERSON)
    assert plan.has(K.SAILBOAT)
    assert "rain" not in plan.matched.get("weather", [])
    assert understand("neon city", "neon").style is Style.NATURAL
    assert understand("rain then fog", "rain").weather is Weather.FOG
    assert understand("a clear day", "no clear skies").weather is not Weather.CLEAR
    assert understand("a beach", "golden hour").time_of_day is not TimeOfDay.GOLDEN_HOUR
    assert understand("a moon", "moon").time_of_day is TimeOfDay.GOLDEN_HOUR


def test_understand_empty_or_unknown_gives_defaults() -> None:
    assert understand("xyzzy qwerty") == ScenePlan()
    assert understand("") == ScenePlan()
    assert understand("   ,,, !!! ") == ScenePlan()
    assert understand("a the of and") == ScenePlan()


def test_understand_is_deterministic() -> None:
    prompt = "three hot-air balloons drift over misty hills at sunrise, slow crane up, pastel"
    first = understand(prompt, "people")
    assert all(understand(prompt, "people") == first for _ in range(5))
    assert first.to_dict() == understand(prompt, "people").to_dict()


def test_understand_round_trips_through_dict() -> None:
    plan = understand("two ships and a whale off stormy cliffs at twilight, pan left, noir")
    assert ScenePlan.from_dict(plan.to_dict()) == plan
    assert plan.subjects == (Subject(K.SHIP, 2), Subject(K.WHALE, 1))
    assert plan.camera is Camera.PAN_LEFT
    assert plan.style is Style.NOIR


_ASPECT: dict[type, str] = {
    Setting: "setting",
    TimeOfDay: "time_of_day",
    Weather: "weather",
    Camera: "camera",
    Style: "style",
    Pace: "pace",
    Season: "season",
    Action: "action",
}


def test_understand_every_vocabulary_phrase_alone_has_its_effect() -> None:
    # Also catches a phrase that an earlier group silently shadows.
    for group in vocabulary().groups:
        for phrase in group.phrases:
            plan = understand(phrase)
            for effect in group.effects:
                if isinstance(effect, Choose):
                    aspect = _ASPECT[type(effect.value)]
                    assert getattr(plan, aspect) is effect.value, (phrase, effect)
                    assert aspect in plan.matched, (phrase, effect)
                elif isinstance(effect, Include) and not effect.unless:
                    assert plan.has(effect.kind), (phrase, effect)
                elif isinstance(effect, Exclude):
                    assert effect.value not in [s.kind for s in plan.subjects], phrase


def test_understand_long_prompt_is_fast() -> None:
    """Understanding grows about linearly with the prompt, measured side by side (half the
    prompt, then the whole), so a busy machine slows both alike; the loose absolute bound
    only catches a pathological case."""
    words = "a lighthouse on a stormy coast at dusk, no rain, two ships, xyzzy "
    # Every word of the second prompt starts a phrase, the matcher's worst case.
    for prompt in [(words * 100)[:4000], "a " * 2000, "é" * 4000]:
        half = prompt[: len(prompt) // 2]
        understand(prompt)
        understand(half)
        whole = min(_timed(prompt) for _ in range(5))
        part = min(_timed(half) for _ in range(5))
        assert whole < 3.5 * part + 0.002, (prompt[:20], whole, part)  # linear 2x, quadratic 4x
        assert whole < 0.5, prompt[:20]


def _timed(prompt: str) -> float:
    start = time.perf_counter()
    understand(prompt, prompt)
    return (time.perf_counter() - start) / 2


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=4000), st.text(max_size=200))
def test_understand_never_raises_on_any_text(prompt: str, negative: str) -> None:
    plan = understand(prompt, negative)
    assert isinstance(plan, ScenePlan)
    assert ScenePlan.from_dict(plan.to_dict()) == plan
    kinds = [s.kind for s in plan.subjects]
    assert len(kinds) == len(set(kinds))
    assert all(1 <= s.count <= 12 for s in plan.subjects)


_VOCAB_WORDS = sorted({w for g in vocabulary().groups for p in g.phrases for w in p.split()})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_VOCAB_WORDS, ",", "no", "7", "xyzzy"]), max_size=60))
def test_understand_known_word_salad_gives_valid_plans(words: list[str]) -> None:
    prompt = " ".join(words)
    plan = understand(prompt)
    assert ScenePlan.from_dict(plan.to_dict()) == plan
    assert all(1 <= s.count <= 12 for s in plan.subjects)
    assert set(plan.matched) <= {
        "setting",
        "time_of_day",
        "weather",
        "subjects",
        "camera",
        "style",
        "pace",
        "season",
        "action",
    }
