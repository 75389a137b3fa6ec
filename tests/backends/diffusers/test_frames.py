"""Frame arithmetic and post-processing (numpy and OpenCV only; no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openreel.backends.diffusers.frames import (
    FrameRule,
    crossfade,
    fit_native,
    plan_segments,
    retime,
    stitch,
)


def _solid(value: int, size: int = 8) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


@pytest.mark.parametrize(
    ("step", "asked", "expected"),
    [(8, 1, 1), (8, 2, 9), (8, 9, 9), (8, 10, 17), (8, 240, 241), (4, 160, 161), (4, 81, 81)],
)
def test_frame_rule_normalises_up_to_the_next_valid_count(
    step: int, asked: int, expected: int
) -> None:
    rule = FrameRule(step)
    assert rule.normalise(asked) == expected
    assert rule.is_valid(expected)


@given(st.sampled_from([4, 8]), st.integers(1, 2000))
def test_frame_rule_normalise_is_the_smallest_valid_count_not_below(step: int, asked: int) -> None:
    rule = FrameRule(step)
    got = rule.normalise(asked)
    assert got >= asked
    assert rule.is_valid(got)
    assert got - step < asked or got == 1


def test_frame_rule_largest_within() -> None:
    assert FrameRule(8).largest_within(257) == 257
    assert FrameRule(8).largest_within(256) == 249
    assert FrameRule(4).largest_within(81) == 81


def test_plan_segments_uses_one_call_when_the_family_allows_it() -> None:
    plan = plan_segments(240, 257, FrameRule(8), overlap=9)
    assert plan.frames == (241,)
    assert plan.total == 241


@given(st.integers(2, 1000), st.sampled_from([(4, 81, 8), (4, 9, 1), (8, 17, 2), (4, 49, 4)]))
def test_plan_segments_covers_the_clip_with_valid_calls(
    needed: int, family: tuple[int, int, int]
) -> None:
    step, longest, overlap = family
    rule = FrameRule(step)
    plan = plan_segments(needed, longest, rule, overlap)
    assert plan.total >= needed
    assert all(rule.is_valid(n) and n <= longest for n in plan.frames)
    # No call is wasted: without the last one the clip would be too short.
    if len(plan.frames) > 1:
        assert plan.total - (plan.frames[-1] - overlap) < needed


def test_plan_segments_refuses_an_overlap_that_leaves_no_new_frames() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_segments(100, 9, FrameRule(4), overlap=8)


def test_crossfade_moves_from_the_old_segment_to_the_new() -> None:
    mixed = list(crossfade([_solid(0)] * 3, [_solid(200)] * 3))
    values = [int(f[0, 0, 0]) for f in mixed]
    assert values == [50, 100, 150]


def test_stitch_joins_segments_blending_the_overlap() -> None:
    first = [_solid(v) for v in (0, 10, 20, 30)]
    second = [_solid(v) for v in (100, 110, 120, 130)]
    out = [int(f[0, 0, 0]) for f in stitch([first, second], overlap=2)]
    # 4 + 4 - 2 frames; the two overlapping pairs are blended 1/3 and 2/3 of the way.
    assert len(out) == 6
    assert out[:2] == [0, 10]
    assert out[2] == round(20 * 2 / 3 + 100 / 3)
    assert out[3] == round(30 / 3 + 110 * 2 / 3)
    assert out[4:] == [120, 130]


def test_stitch_is_lazy_so_the_next_call_waits_for_the_frames_before_it() -> None:
    made: list[int] = []

    def segments():  # type: ignore[no-untyped-def]
        for index in range(3):
            made.append(index)
            yield [_solid(index)] * 4

    stream = stitch(segments(), overlap=1)
    next(stream)
    assert made == [0]


@pytest.mark.parametrize("method", ["flow", "blend"])
def test_retime_interpolates_up_to_the_requested_rate(method: str) -> None:
    source = [_solid(v) for v in (0, 90, 180)]
    out = list(retime(iter(source), 8, 24, 7, method))  # type: ignore[arg-type]
    values = [int(f[0, 0, 0]) for f in out]
    assert values == [0, 30, 60, 90, 120, 150, 180]


def test_retime_flow_moves_texture_instead_of_ghosting_it() -> None:
    import cv2

    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (16, 24, 3)).astype(np.uint8)
    base = cv2.resize(small, (96, 64), interpolation=cv2.INTER_CUBIC)

    def shifted(dx: int) -> np.ndarray:
        return np.ascontiguousarray(np.roll(base, dx, axis=1))

    a, b, target = shifted(0), shifted(6), shifted(3)
    flow_mid = list(retime(iter([a, b]), 1, 2, 2, "flow"))[1]
    blend_mid = list(retime(iter([a, b]), 1, 2, 2, "blend"))[1]
    inner = np.s_[:, 10:-10]  # away from the wrapped edge
    flow_error = np.abs(flow_mid.astype(int) - target)[inner].mean()
    blend_error = np.abs(blend_mid.astype(int) - target)[inner].mean()
    assert flow_error < 1.0
    assert blend_error > 10 * flow_error


def test_retime_picks_frames_when_lowering_the_rate_and_holds_the_last() -> None:
    source = [_solid(v) for v in range(0, 100, 10)]  # 10 frames at 30 fps
    out = [int(f[0, 0, 0]) for f in retime(iter(source), 30, 10, 5)]
    assert out == [0, 30, 60, 90, 90]


def test_retime_yields_fresh_arrays() -> None:
    source = [_solid(5)]
    out = list(retime(iter(source), 24, 24, 2))
    assert not np.shares_memory(out[0], source[0])
    assert not np.shares_memory(out[0], out[1])


@pytest.mark.parametrize(
    ("native", "multiple", "request_size", "expected"),
    [
        ((832, 480), 16, (1920, 1080), (832, 464)),
        ((832, 480), 16, (1080, 1920), (464, 832)),
        ((768, 512), 32, (1920, 1080), (832, 448)),
        ((1280, 720), 16, (1920, 1080), (1280, 720)),
        ((32, 32), 32, (96, 64), (32, 32)),
    ],
)
def test_fit_native_keeps_the_pixel_count_and_takes_the_request_shape(
    native: tuple[int, int],
    multiple: int,
    request_size: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    got = fit_native(*native, multiple, *request_size)
    assert got == expected
    assert got[0] % multiple == 0
    assert got[1] % multiple == 0
    assert got[0] * got[1] <= native[0] * native[1]
