from __future__ import annotations

import pytest

from openreel.domain import MAX_PROMPT_CHARS, MAX_SEED, VideoRequest, parse_size
from openreel.errors import InvalidRequestError


def test_domain_defaults_are_ten_seconds_of_1080p24() -> None:
    req = VideoRequest(prompt="  a lighthouse  ")
    assert (req.prompt, req.seconds, req.size, req.fps, req.frame_count) == (
        "a lighthouse",
        10.0,
        "1920x1080",
        24,
        240,
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "shown"),
    [
        ({"prompt": ""}, "prompt", "''"),
        ({"prompt": "   "}, "prompt", "''"),
        ({"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, "prompt", str(MAX_PROMPT_CHARS + 1)),
        ({"seconds": 0}, "seconds", "0"),
        ({"seconds": -1.5}, "seconds", "-1.5"),
        ({"seconds": float("nan")}, "seconds", "nan"),
        ({"seconds": float("inf")}, "seconds", "inf"),
        ({"seconds": 0.001}, "seconds", "0.001"),
        ({"seconds": 1e308}, "seconds", "1e+308"),
        ({"seconds": 3600.5}, "seconds", "3600.5"),
        ({"prompt": "\ud800 a boat"}, "prompt", "'\\ud800' at character 0"),
        ({"negative_prompt": "rain \udfff"}, "negative_prompt", "'\\udfff' at character 5"),
        ({"model": "sketch\udfff"}, "model", "'\\udfff'"),
        ({"model": ""}, "model", "''"),
        ({"width": 1921}, "size", "1921x1080"),
        ({"height": 32}, "size", "1920x32"),
        ({"width": 4000}, "size", "4000x1080"),
        ({"fps": 0}, "fps", "0"),
        ({"fps": 61}, "fps", "61"),
        ({"seed": -1}, "seed", "-1"),
        ({"seed": MAX_SEED + 1}, "seed", str(MAX_SEED + 1)),
    ],
)
def test_domain_rejects_bad_values_naming_param_and_value(
    kwargs: dict[str, object], param: str, shown: str
) -> None:
    args: dict[str, object] = {"prompt": "a boat"} | kwargs
    with pytest.raises(InvalidRequestError) as info:
        VideoRequest(**args)  # type: ignore[arg-type]
    assert info.value.param == param
    assert shown in info.value.message
    assert info.value.to_dict()["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1920x1080", (1920, 1080)), ("720X1280", (720, 1280)), (" 64 x 64 ", (64, 64))],
)
def test_domain_parse_size_reads_width_and_height(text: str, expected: tuple[int, int]) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1920", "1920x", "axb", "1920x1080x3", "-64x64", "\u0661\u0669x64"]
)
def test_domain_parse_size_rejects_garbage(text: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_size(text)
    assert info.value.param == "size"
    assert repr(text) in info.value.message


def test_domain_with_seed_fixes_a_seed_once() -> None:
    req = VideoRequest(prompt="a boat").with_seed()
    assert req.seed is not None
    assert 0 <= req.seed <= MAX_SEED
    assert req.with_seed().seed == req.seed
    assert req.with_seed(5).seed == 5
