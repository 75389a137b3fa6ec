"""Tests for openreel.media.fingerprint: per-second pHashes that survive re-encoding."""

from __future__ import annotations

import hashlib
import math
import re
import statistics
import time
import wave
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import imagehash
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from openreel.errors import MediaError
from openreel.media import fingerprint as fingerprint_module
from openreel.media.fingerprint import (
    FINGERPRINT_VERSION,
    MATCH_BITS,
    Fingerprint,
    Match,
    SecondSampler,
    compare,
    file_sha256,
    fingerprint_file,
    hash_frame,
)

Frame = NDArray[np.uint8]

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 12, 6


def _bits(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def scene_frames(
    seed: int, count: int, fps: int = FPS, width: int = WIDTH, height: int = HEIGHT
) -> list[Frame]:
    """A clip that cuts to a new random scene every second, with motion inside each second.

    Each scene is a two-colour ramp at a random angle, a drifting wave and four moving shapes,
    over fixed film grain: textured like real footage, so the encoder has work to do, and every
    second looks different from its neighbours, so a wrong alignment shows.
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs /= width
    ys /= height
    grain = np.random.default_rng([seed, 999]).integers(-14, 15, (height, width, 1), dtype=np.int16)
    frames: list[Frame] = []
    for index in range(count):
        second, within = divmod(index, fps)
        dt = within / fps
        rng = np.random.default_rng([seed, second])
        low, high = rng.integers(0, 256, (2, 3)).astype(np.float32)
        angle, phase = rng.uniform(0, 2 * np.pi, 2)
        fx, fy = (float(f) for f in rng.uniform(1, 4, 2))
        ramp = np.float32(np.cos(angle)) * xs + np.float32(np.sin(angle)) * ys
        ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
        wave_ = 0.5 + 0.5 * np.sin(
            np.float32(2 * np.pi) * (fx * xs + fy * ys) + np.float32(phase + dt)
        )
        mix = (0.7 * ramp + 0.3 * wave_)[..., None]
        frame = np.ascontiguousarray((low + (high - low) * mix).astype(np.uint8))
        for _ in range(4):
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cx, cy = rng.uniform(0.1, 0.9, 2)
            vx, vy = rng.uniform(-0.2, 0.2, 2)
            radius = int(rng.uniform(0.06, 0.2) * height)
            px, py = int((cx + vx * dt) * width), int((cy + vy * dt) * height)
            if rng.integers(2):
                cv2.circle(frame, (px, py), radius, colour, -1)
            else:
                cv2.rectangle(
                    frame, (px - radius, py - radius), (px + radius, py + radius), colour, -1
                )
        frames.append(np.clip(frame + grain, 0, 255).astype(np.uint8))
    return frames


def distinct_frames(count: int, width: int = 160, height: int = 96) -> list[Frame]:
    """Every frame an unrelated blocky pattern, so the hash tells exactly which frame was taken."""
    rng = np.random.default_rng(5)
    frames: list[Frame] = []
    for _ in range(count):
        blocks = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
        frames.append(cv2.resize(blocks, (width, height), interpolation=cv2.INTER_NEAREST))
    return frames


def write_video(
    path: Path,
    frames: Iterable[Frame],
    *,
    fps: int = FPS,
    crf: int = 18,
    sampler: SecondSampler | None = None,
) -> Path:
    """Encodes RGB frames with libx264 (yuv420p), feeding ``sampler`` on the way like a render."""
    with av.open(str(path), mode="w") as container:
        stream = None
        for index, frame in enumerate(frames):
            if stream is None:
                stream = container.add_stream(
                    "libx264", rate=fps, options={"crf": str(crf), "preset": "veryfast"}
                )
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
            if sampler is not None and sampler.wants(index):
                sampler.add(index, frame)
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            container.mux(stream.encode(video_frame))
        assert stream is not None
        container.mux(stream.encode(None))
    return path


def reencode(
    source: Path, target: Path, *, scale: float = 1.0, crf: int = 23, skip: int = 0
) -> Path:
    """Decodes ``source`` and writes it again: rescaled, at another quality, minus leading frames."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)][skip:]
    height, width = frames[0].shape[:2]
    size = (round(width * scale / 2) * 2, round(height * scale / 2) * 2)
    resized = [cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in frames]
    assert fps is not None
    return write_video(target, resized, fps=int(fps), crf=crf)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | tuple[int, ...]]:
    """The original (with its sampler hashes), a half-size CRF 32 copy, a trimmed copy and an
    unrelated video; encoded once for the module."""
    folder = tmp_path_factory.mktemp("fingerprint")
    sampler = SecondSampler(SECONDS * FPS, FPS)
    original = write_video(folder / "original.mp4", scene_frames(1, SECONDS * FPS), sampler=sampler)
    return {
        "original": original,
        "sampled": sampler.hashes(),
        "small": reencode(original, folder / "small.mp4", scale=0.5, crf=32),
        "trimmed": reencode(original, folder / "trimmed.mp4", skip=FPS),
        "unrelated": write_video(folder / "unrelated.mp4", scene_frames(2, SECONDS * FPS)),
    }


def _path(clips: dict[str, Path | tuple[int, ...]], name: str) -> Path:
    value = clips[name]
    assert isinstance(value, Path)
    return value


def test_version_is_one() -> None:
    assert FINGERPRINT_VERSION == 1


def test_sampler_hashes_agree_with_the_encoded_file(
    clips: dict[str, Path | tuple[int, ...]],
) -> None:
    sampled = clips["sampled"]
    assert isinstance(sampled, tuple)
    result = fingerprint_file(_path(clips, "original"))
    assert result.seconds == len(sampled) == SECONDS
    assert result.fps == pytest.approx(FPS)
    assert [_bits(a, b) for a, b in zip(sampled, result.hashes, strict=True)] == pytest.approx(
        [0] * SECONDS, abs=4
    )
    match = compare(sampled, result.hashes)
    assert match is not None
    assert (match.offset, match.matched_seconds, match.similar) == (0, SECONDS, True)


def test_half_size_high_crf_copy_is_similar(clips: dict[str, Path | tuple[int, ...]]) -> None:
    reference = fingerprint_file(_path(clips, "original"))
    copy = fingerprint_file(_path(clips, "small"))
    with av.open(str(_path(clips, "small"))) as container:
        assert container.streams.video[0].width == WIDTH // 2
    assert copy.sha256 != reference.sha256
    match = compare(copy.hashes, reference.hashes)
    assert match is not None
    assert match.similar
    assert match.offset == 0
    assert match.matched_seconds == match.compared_seconds == SECONDS
    assert match.distance <= MATCH_BITS / 2


def test_unrelated_video_is_not_similar(clips: dict[str, Path | tuple[int, ...]]) -> None:
    reference = fingerprint_file(_path(clips, "original"))
    other = fingerprint_file(_path(clips, "unrelated"))
    match = compare(other.hashes, reference.hashes)
    assert match is not None
    assert not match.similar
    assert match.matched_seconds == 0
    assert match.distance > 2 * MATCH_BITS


def test_copy_missing_its_first_second_matches_at_offset_plus_one(
    clips: dict[str, Path | tuple[int, ...]],
) -> None:
    reference = fingerprint_file(_path(clips, "original")).hashes
    trimmed = fingerprint_file(_path(clips, "trimmed")).hashes
    assert len(trimmed) == SECONDS - 1
    match = compare(trimmed, reference)
    assert match is not None
    assert (match.offset, match.compared_seconds, match.similar) == (1, SECONDS - 1, True)
    # The other way round, the reference lies one second behind the query.
    reverse = compare(reference, trimmed)
    assert reverse is not None
    assert (reverse.offset, reverse.similar) == (-1, True)
    # Without shifts the cut copy is not recognised: every second shows another scene.
    unshifted = compare(trimmed, reference, max_offset=0)
    assert unshifted is not None
    assert not unshifted.similar


@pytest.mark.parametrize(
    ("count", "fps", "expected"),
    [
        (72, 12, (6, 18, 30, 42, 54, 66)),  # six whole seconds
        (78, 12, (6, 18, 30, 42, 54, 66, 77)),  # 6.5 s: the half second counts, last frame
        (77, 12, (6, 18, 30, 42, 54, 66)),  # 6.42 s: under half of the last second
        (5, 12, (4,)),  # under half a second: still one hash, from the last frame
        (40, 25, (13, 38)),  # 0.5 s falls between frames 12 and 13: the later one wins
        (240, 24, tuple(12 + 24 * s for s in range(10))),
    ],
)
def test_wants_picks_the_frame_nearest_each_half_second(
    count: int, fps: int, expected: tuple[int, ...]
) -> None:
    sampler = SecondSampler(count, fps)
    assert sampler.frame_indices == expected
    assert sampler.seconds == len(expected)
    assert [index for index in range(count) if sampler.wants(index)] == list(expected)


@pytest.mark.parametrize("fps", [1, 7.5, 12, 23.976, 24, 25, 29.97, 30, 60])
@pytest.mark.parametrize("count", [1, 2, 11, 12, 13, 100, 241])
def test_wants_selects_exactly_one_frame_per_second(count: int, fps: float) -> None:
    sampler = SecondSampler(count, fps)
    duration = count / fps
    expected_seconds = max(1, math.floor(duration + 0.5))
    wanted = [index for index in range(count) if sampler.wants(index)]
    assert sampler.seconds == expected_seconds
    assert len(set(sampler.frame_indices)) == len(wanted) <= expected_seconds
    for second, index in enumerate(sampler.frame_indices):
        target = second + 0.5
        # No other frame is nearer to the middle of the second.
        best = min(range(count), key=lambda i: (abs(i / fps - target), -i))
        assert index == best


@pytest.mark.parametrize(
    ("count", "fps", "suffix"), [(78, 12, "mp4"), (77, 12, "mkv"), (40, 25, "mkv")]
)
def test_file_and_sampler_pick_the_same_frames(
    tmp_path: Path, count: int, fps: int, suffix: str
) -> None:
    # Every frame is unrelated to the next, so a hash within a few bits means the same frame.
    frames = distinct_frames(count)
    sampler = SecondSampler(count, fps)
    path = write_video(tmp_path / f"clip.{suffix}", frames, fps=fps, crf=12, sampler=sampler)
    from_file = fingerprint_file(path).hashes
    assert len(from_file) == sampler.seconds
    for sampled, decoded in zip(sampler.hashes(), from_file, strict=True):
        assert _bits(sampled, decoded) <= 6
    neighbours = [hash_frame(frames[index - 1]) for index in sampler.frame_indices]
    assert any(_bits(n, d) > 2 * MATCH_BITS for n, d in zip(neighbours, from_file, strict=True))


def test_fingerprint_hex_round_trip() -> None:
    hashes = (0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0x0123_4567_89AB_CDEF)
    record = Fingerprint(sha256="ab" * 32, fps=24.0, hashes=hashes)
    text = record.to_hex()
    assert text == "00000000000000000000000000000001ffffffffffffffff0123456789abcdef"
    assert Fingerprint.from_hex(text) == hashes
    assert Fingerprint.from_hex("") == ()
    assert record.seconds == 4


def test_hex_groups_are_what_imagehash_prints() -> None:
    frame = scene_frames(3, 1)[0]
    value = hash_frame(frame)
    record = Fingerprint(sha256="0" * 64, fps=12.0, hashes=(value,))
    direct = imagehash.phash(Image.fromarray(fingerprint_module._reduce(frame)))
    assert record.to_hex() == str(direct)
    assert imagehash.hex_to_hash(record.to_hex()) == direct


@pytest.mark.parametrize("text", ["abc", "0123456789ABCDEF", "0123456789abcdeg", "0" * 17])
def test_from_hex_rejects_damaged_text(text: str) -> None:
    with pytest.raises(MediaError, match="16 hex digits"):
        Fingerprint.from_hex(text)


def test_fingerprint_rejects_bad_fields() -> None:
    with pytest.raises(MediaError, match="sha256"):
        Fingerprint(sha256="xyz", fps=24.0, hashes=())
    with pytest.raises(MediaError, match="64-bit"):
        Fingerprint(sha256="0" * 64, fps=24.0, hashes=(1 << 64,))
    with pytest.raises(MediaError, match="64-bit"):
        Fingerprint(sha256="0" * 64, fps=24.0, hashes=(-1,))


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    # Longer than two chunks and not a multiple of one, so every chunk boundary is crossed.
    data = (
        np.random.default_rng(0).integers(0, 256, 2 * (1 << 20) + 12345, dtype=np.uint8).tobytes()
    )
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_fingerprint_file_records_the_file_sha256(clips: dict[str, Path | tuple[int, ...]]) -> None:
    path = _path(clips, "original")
    assert fingerprint_file(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_non_video_file_raises_media_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 100)
    with pytest.raises(MediaError, match=re.escape(str(path))):
        fingerprint_file(path)


def test_empty_file_raises_media_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match=re.escape(str(path))):
        fingerprint_file(path)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 8000)
    with pytest.raises(MediaError, match=r"tone\.wav.*no video stream"):
        fingerprint_file(path)


def test_missing_file_raises_media_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.mp4"
    with pytest.raises(MediaError, match=re.escape(str(path))):
        fingerprint_file(path)
    with pytest.raises(MediaError, match=re.escape(str(path))):
        file_sha256(path)


def test_sampler_checks_its_inputs() -> None:
    with pytest.raises(MediaError, match="at least one frame"):
        SecondSampler(0, 24)
    with pytest.raises(MediaError, match="fps"):
        SecondSampler(10, 0)
    with pytest.raises(MediaError, match="fps"):
        SecondSampler(10, float("nan"))
    sampler = SecondSampler(24, 12)
    assert sampler.add(0, np.zeros((4, 4), dtype=np.uint8)) is False  # not wanted: ignored
    with pytest.raises(MediaError, match=r"uint8 shaped \(height, width, 3\)"):
        sampler.add(6, np.zeros((4, 4), dtype=np.uint8))
    assert sampler.add(6, scene_frames(1, 1, width=64, height=36)[0]) is True
    with pytest.raises(MediaError, match="frame 18, which was never added"):
        sampler.hashes()


def test_compare_edge_cases() -> None:
    assert compare([], [1, 2, 3]) is None
    assert compare([1, 2, 3], []) is None
    # One-second videos are judged by their one hash.
    same = compare([0x0F0F], [0x0F0F])
    assert same == Match(distance=0.0, matched_seconds=1, compared_seconds=1, offset=0)
    assert same.similar
    lone = compare([0], [(1 << 64) - 1])
    assert lone is not None
    assert (lone.distance, lone.similar) == (64.0, False)
    # Two seconds each: shifted alignments would compare only one second, so only 0 is tried.
    pair = compare([1, 2], [2, 3])
    assert pair is not None
    assert pair.offset == 0
    with pytest.raises(MediaError, match="max_offset"):
        compare([1], [1], max_offset=-1)
    with pytest.raises(MediaError, match="64-bit"):
        compare([-1], [1])


def test_similar_needs_three_fifths_of_the_seconds() -> None:
    assert Match(distance=5.0, matched_seconds=3, compared_seconds=5, offset=0).similar
    assert not Match(distance=5.0, matched_seconds=2, compared_seconds=5, offset=0).similar
    assert not Match(distance=0.0, matched_seconds=0, compared_seconds=0, offset=0).similar


def test_popcount_fallback_agrees_with_numpy() -> None:
    values = np.random.default_rng(1).integers(0, 1 << 63, 1000, dtype=np.uint64) * np.uint64(
        2
    ) + np.uint64(1)
    expected = np.array([int(v).bit_count() for v in values], dtype=np.int64)
    np.testing.assert_array_equal(fingerprint_module._popcount(values), expected)
    np.testing.assert_array_equal(fingerprint_module._popcount_table(values), expected)


def test_hashing_a_1080p_frame_stays_cheap() -> None:
    # A regression guard for the render loop (about 2 ms measured on two cores), not a
    # benchmark. CPU time of this process, not wall time: other work on a busy machine
    # stretches the wall clock tenfold but not the CPU the hashing itself needs.
    base = cv2.resize(scene_frames(4, 1)[0], (1920, 1080), interpolation=cv2.INTER_LINEAR)
    frames = [np.roll(base, shift * 37, axis=1) for shift in range(9)]
    sampler = SecondSampler(len(frames) * 24, 24)
    costs = []
    for second, frame in enumerate(frames):
        index = sampler.frame_indices[second]
        start = time.process_time()
        assert sampler.add(index, frame)
        costs.append(time.process_time() - start)
    assert statistics.median(costs) < 0.020
    assert len(set(sampler.hashes())) > 1


def test_fractional_rates_land_on_the_same_frames_as_exact_ones() -> None:
    assert (
        SecondSampler(300, 30000 / 1001).frame_indices
        == SecondSampler(300, Fraction(30000, 1001)).frame_indices
    )


def test_a_sampler_adopts_a_whole_fingerprint_taken_elsewhere_and_nothing_less() -> None:
    sampler = SecondSampler(total_frames=48, fps=24)
    with pytest.raises(MediaError, match="has 2 hashes; got 1"):
        sampler.adopt([7])
    sampler.adopt([7, 9])
    assert sampler.hashes() == (7, 9)
