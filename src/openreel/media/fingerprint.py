"""Content fingerprints, so the server can tell whether it made a video.

A C2PA manifest answers "who made this?" only while it survives; re-encoding, scaling or a
screen recording strips it. So every video we make is also remembered by content: its SHA-256
(the exact file) and one 64-bit perceptual hash (pHash, via ``imagehash``) per second, which
survives re-encoding at another size or quality. :func:`compare` lines two hash lists up, trying
a few seconds of shift so a trimmed copy still matches.

**Which frame stands for a second.** Frame ``i`` is shown at ``i / fps`` seconds (its
presentation time, measured from the first frame). Second ``s`` is represented by the frame
whose presentation time is nearest to ``s + 0.5``; on a tie the later frame wins; past the last
frame, the last frame stands in. A video of ``d`` seconds (``frames / fps``, or the last frame's
time plus one frame interval for a file) has one hash for every second ``s`` with
``s + 0.5 <= d``: whole seconds, plus a final partial second when at least half of it is there.
Every video with at least one frame has at least one hash (a clip under half a second is
represented by its last frame). :class:`SecondSampler` (frames in memory, while rendering) and
:func:`fingerprint_file` (frames decoded from any file, by timestamp) follow this same rule
and hash through the same :func:`hash_frame`, so a render and its file agree.

**How a frame is hashed.** RGB to luma (the ITU-R 601 weights that Pillow's ``convert("L")``
uses), an integer-factor box shrink of the frame to about 64 pixels on its short side, then an
area shrink to 32 x 32, which ``imagehash.phash`` takes as is (handed the full frame, it
resizes with Lanczos itself, which costs far more). Both shrinks average pixels, so a half-size
copy of a frame reduces to nearly the same 32 x 32 image (benchmarks/provenance.py times it).
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import cv2
import imagehash
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from openreel.errors import MediaError

__all__ = [
    "FINGERPRINT_VERSION",
    "MATCH_BITS",
    "MIN_OVERLAP",
    "SIMILAR_FRACTION",
    "Fingerprint",
    "Match",
    "SecondSampler",
    "compare",
    "file_sha256",
    "fingerprint_file",
    "hash_frame",
]

FINGERPRINT_VERSION: Final = 1
"""Bumped whenever sampling or hashing changes, so stored hashes of an older kind are redone."""

MATCH_BITS: Final = 10
"""Most differing bits (of 64) for two per-second hashes to count as the same picture.

A re-encoded copy (smaller, more compressed) differs from the original by a few bits a second;
unrelated videos, even the same prompt at another seed, by several times more
(tests/media/test_fingerprint.py; the figures are in benchmarks/README.md). 10 sits between the
two with room on both sides.
"""

SIMILAR_FRACTION: Final = Fraction(3, 5)
"""Share of compared seconds that must match for two videos to count as the same video.

In the measurements behind :data:`MATCH_BITS`, re-encoded copies matched every compared
second and unrelated videos none, so the line is not close on either side; 60% still calls a
copy the same video when a few of its seconds were spoiled by heavy compression, an overlay
or a cut in the middle.
"""

MIN_OVERLAP: Final = 2
"""Fewest seconds an alignment must compare; shorter videos are compared on all they have."""

HASH_BITS: Final = 64
_HEX_DIGITS: Final = HASH_BITS // 4
_HASH_LIMIT: Final = 1 << HASH_BITS
_SIDE: Final = 32
"""Side of the square grey image handed to ``imagehash.phash`` (its own working size)."""
_CHUNK: Final = 1 << 20
_SHA256_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
_HEX_PATTERN: Final = re.compile(r"(?:[0-9a-f]{16})*")
_HALF: Final = Fraction(1, 2)

# What PyAV, FFmpeg and the file system raise; mapped to MediaError at this boundary.
_FOREIGN_ERRORS: Final = (av.FFmpegError, OSError, ValueError)

# Bits set in each byte value, for numpy versions without np.bitwise_count.
_BYTE_BITS: Final = np.array([bin(value).count("1") for value in range(256)], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What we remember about a video's content.

    Attributes:
        sha256: SHA-256 of the file, 64 lowercase hex digits; finds exact copies.
        fps: Frames per second of the video the hashes came from (informational).
        hashes: One unsigned 64-bit pHash per second (see the module docstring for which
            frame stands for a second); finds re-encoded and rescaled copies.
    """

    sha256: str
    fps: float
    hashes: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _SHA256_PATTERN.fullmatch(self.sha256):
            raise MediaError(
                f"fingerprint sha256 must be 64 lowercase hex digits; got {self.sha256!r}"
            )
        for value in self.hashes:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value < _HASH_LIMIT
            ):
                raise MediaError(f"fingerprint hashes must be unsigned 64-bit ints; got {value!r}")

    @property
    def seconds(self) -> int:
        """Number of seconds hashed (one hash each)."""
        return len(self.hashes)

    def to_hex(self) -> str:
        """The hashes as one text column: 16 lowercase hex digits per hash, concatenated.

        Each group is what ``str(imagehash.phash(...))`` prints for that second.
        """
        return Fingerprint.hex_of(self.hashes)

    @staticmethod
    def hex_of(hashes: Sequence[int]) -> str:
        """:meth:`to_hex` of bare hashes (a manifest records them without the file's hash)."""
        return "".join(f"{value:016x}" for value in hashes)

    @staticmethod
    def from_hex(text: str) -> tuple[int, ...]:
        """Reads back what :meth:`to_hex` wrote.

        Raises:
            MediaError: The text is not a whole number of 16-digit hex groups.
        """
        if not isinstance(text, str) or not _HEX_PATTERN.fullmatch(text):
            shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
            raise MediaError(f"stored fingerprint is not groups of 16 hex digits; got {shown}")
        return tuple(
            int(text[start : start + _HEX_DIGITS], 16) for start in range(0, len(text), _HEX_DIGITS)
        )


@dataclass(frozen=True, slots=True)
class Match:
    """How well a video's hashes line up with a reference's, at the best shift.

    Attributes:
        distance: Mean number of differing bits (of 64) over the compared seconds.
        matched_seconds: Compared seconds within :data:`MATCH_BITS` of each other.
        compared_seconds: Seconds both videos have at this shift.
        offset: Shift in seconds: query second ``i`` was compared with reference second
            ``i + offset``. A copy missing the reference's first second matches at ``+1``.
    """

    distance: float
    matched_seconds: int
    compared_seconds: int
    offset: int

    @property
    def similar(self) -> bool:
        """Whether at least :data:`SIMILAR_FRACTION` of the compared seconds matched."""
        if self.compared_seconds <= 0:
            return False
        return Fraction(self.matched_seconds, self.compared_seconds) >= SIMILAR_FRACTION


def _reduce(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Shrinks an RGB frame to the 32 x 32 grey image that gets hashed.

    OpenCV's area shrink is exact and fast only for whole-number factors (a direct 1080p to
    32 x 32 shrink is slow), so the frame is first box-shrunk by the largest whole factor
    that keeps at least 64 pixels on its short side, cropping the few rows and columns the
    factor does not divide. 1080p and 540p both land on 120 x 67.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise MediaError(
            f"frames to fingerprint must be uint8 shaped (height, width, 3); "
            f"got {frame.dtype} shaped {tuple(frame.shape)}"
        )
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    factor = max(1, min(height, width) // (2 * _SIDE))
    if factor > 1:
        grey = cv2.resize(
            grey[: height - height % factor, : width - width % factor],
            (width // factor, height // factor),
            interpolation=cv2.INTER_AREA,
        )
    small = cv2.resize(grey, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.uint8)


def hash_frame(frame: NDArray[np.uint8]) -> int:
    """The 64-bit pHash of one RGB frame, as an unsigned int (bit order as imagehash prints it).

    Args:
        frame: RGB ``uint8`` pixels shaped ``(height, width, 3)``, any size.

    Raises:
        MediaError: The frame is not an RGB image.
    """
    bits = imagehash.phash(Image.fromarray(_reduce(frame))).hash
    return int.from_bytes(np.packbits(np.asarray(bits, dtype=bool).ravel()).tobytes(), "big")


def _rate(fps: float | Fraction) -> Fraction:
    """An exact rate, so 24, 25 or 30000/1001 given as floats land on the same frames as a file."""
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real):
        raise MediaError(f"fps must be a positive number; got {fps!r}")
    if not math.isfinite(fps) or fps <= 0:
        raise MediaError(f"fps must be a positive number; got {fps!r}")
    return Fraction(fps).limit_denominator(1_000_000)


def _second_frames(total_frames: int, rate: Fraction) -> tuple[int, ...]:
    """For each second, the index of the frame that stands for it (see the module docstring)."""
    seconds = 0
    while seconds + _HALF <= total_frames / rate:
        seconds += 1
    seconds = max(1, seconds)
    return tuple(
        min(total_frames - 1, math.floor((second + _HALF) * rate + _HALF))
        for second in range(seconds)
    )


class SecondSampler:
    """Hashes one frame per second while a video is rendered.

    Example::

        sampler = SecondSampler(total_frames=240, fps=24)
        for index, frame in enumerate(frames):
            writer.write(frame)
            if sampler.wants(index):
                sampler.add(index, frame)
        fingerprint = sampler.fingerprint(file_sha256(path))
    """

    def __init__(self, total_frames: int, fps: float | Fraction) -> None:
        """Decides which frames will be hashed.

        Args:
            total_frames: Number of frames in the video.
            fps: Frames per second.

        Raises:
            MediaError: The video has no frames or the rate is not a positive number.
        """
        if isinstance(total_frames, bool) or not isinstance(total_frames, int) or total_frames < 1:
            raise MediaError(
                f"a video needs at least one frame to fingerprint; got {total_frames!r}"
            )
        self._rate = _rate(fps)
        self._fps = float(fps)
        self._total = total_frames
        self._frame_indices = _second_frames(total_frames, self._rate)
        self._wanted = frozenset(self._frame_indices)
        self._hashes: dict[int, int] = {}

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self._fps

    @property
    def total_frames(self) -> int:
        """Number of frames in the video."""
        return self._total

    @property
    def seconds(self) -> int:
        """Number of hashes the video will have."""
        return len(self._frame_indices)

    @property
    def frame_indices(self) -> tuple[int, ...]:
        """The frame that stands for each second, in order."""
        return self._frame_indices

    def wants(self, index: int) -> bool:
        """Tells whether frame ``index`` will be hashed, so callers can skip the others."""
        return index in self._wanted

    def add(self, index: int, frame: NDArray[np.uint8]) -> bool:
        """Hashes a frame if it is wanted; the frame itself is not kept.

        Args:
            index: The frame's position in the video, from 0.
            frame: RGB ``uint8`` pixels shaped ``(height, width, 3)``.

        Returns:
            Whether the frame was wanted (and so hashed).

        Raises:
            MediaError: A wanted frame is not an RGB image.
        """
        if index not in self._wanted:
            return False
        self._hashes[index] = hash_frame(frame)
        return True

    def adopt(self, hashes: Sequence[int]) -> None:
        """Takes every second's hash from a fingerprint taken elsewhere of these very frames
        (a trusted upstream's signed manifest, ``services.relay.vouched``), instead of
        hashing frames here.

        Raises:
            MediaError: Not one hash a second of this video.
        """
        if len(hashes) != len(self._frame_indices):
            raise MediaError(
                f"a fingerprint of this video has {len(self._frame_indices)} hashes; "
                f"got {len(hashes)}"
            )
        self._hashes = dict(zip(self._frame_indices, hashes, strict=True))

    def hashes(self) -> tuple[int, ...]:
        """One hash per second, in order.

        Raises:
            MediaError: A wanted frame was never added.
        """
        missing = [index for index in self._frame_indices if index not in self._hashes]
        if missing:
            raise MediaError(f"fingerprint needs frame {missing[0]}, which was never added")
        return tuple(self._hashes[index] for index in self._frame_indices)

    def fingerprint(self, sha256: str) -> Fingerprint:
        """The finished fingerprint, given the SHA-256 of the file the frames were written to."""
        return Fingerprint(sha256=sha256, fps=self._fps, hashes=self.hashes())


def file_sha256(path: Path) -> str:
    """SHA-256 of a file as lowercase hex, read in 1 MiB chunks so any size fits in memory.

    Raises:
        MediaError: The file is missing or cannot be read.
    """
    path = Path(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise MediaError(f"cannot read '{path}': {exc}") from exc
    return digest.hexdigest()


class _Shown:
    """A decoded frame and its presentation time; converted and hashed only if chosen."""

    __slots__ = ("_hash", "frame", "time")

    def __init__(self, frame: av.VideoFrame, time: Fraction) -> None:
        self.frame = frame
        self.time = time
        self._hash: int | None = None

    def hash(self) -> int:
        if self._hash is None:
            rgb = np.asarray(self.frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            self._hash = hash_frame(rgb)
        return self._hash


def _timed_frames(frames: Iterator[av.VideoFrame], step: Fraction) -> Iterator[_Shown]:
    """Pairs frames with their time from the first frame, forcing it to increase.

    A frame without a timestamp, or one that does not move past the previous one, is placed
    one ``step`` after it.
    """
    first: Fraction | None = None
    previous: Fraction | None = None
    for frame in frames:
        time: Fraction | None = None
        base = frame.time_base
        if frame.pts is not None and base is not None:
            time = frame.pts * Fraction(base)
            if first is None:
                first = time
            time -= first
        if previous is not None and (time is None or time <= previous):
            time = previous + step
        elif time is None:
            time = Fraction(0)
        previous = time
        yield _Shown(frame, time)


def _hash_seconds(frames: Iterator[_Shown], step: Fraction) -> tuple[int, ...]:
    """Applies the module's sampling rule to frames in presentation order."""
    hashes: list[int] = []
    target = _HALF
    previous: _Shown | None = None
    for shown in frames:
        while shown.time >= target:
            if previous is None or shown.time - target <= target - previous.time:
                hashes.append(shown.hash())
            else:
                hashes.append(previous.hash())
            target += 1
        if previous is not None:
            step = shown.time - previous.time
        previous = shown
    if previous is None:
        return ()
    duration = previous.time + step
    while target <= duration or not hashes:
        hashes.append(previous.hash())
        target += 1
    return tuple(hashes)


def fingerprint_file(path: Path) -> Fingerprint:
    """Fingerprints a video file of any size, codec or container.

    Every frame is decoded (inter-coded video cannot skip ahead without seeking), but only
    about one a second is converted to RGB and hashed.

    Args:
        path: The video file.

    Returns:
        Its SHA-256 and one hash per second.

    Raises:
        MediaError: The file is missing, unreadable, holds no video stream or no frames.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    try:
        container = av.open(str(path), mode="r")
    except _FOREIGN_ERRORS as exc:
        raise MediaError(f"'{path}' is not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaError(f"'{path}' has no video stream to fingerprint")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = Fraction(rate) if rate else Fraction(0)
        # Until two frames give the real interval; a lone frame lasts one frame period.
        step = 1 / fps if fps > 0 else Fraction(0)
        try:
            hashes = _hash_seconds(_timed_frames(container.decode(stream), step), step)
        except _FOREIGN_ERRORS as exc:
            raise MediaError(f"decoding '{path}' failed: {exc}") from exc
    if not hashes:
        raise MediaError(f"'{path}' has no video frames to fingerprint")
    return Fingerprint(sha256=sha256, fps=float(fps), hashes=hashes)


def _as_hashes(values: Sequence[int], name: str) -> NDArray[np.uint64]:
    try:
        return np.array(values, dtype=np.uint64).reshape(-1)
    except (OverflowError, TypeError, ValueError) as exc:
        raise MediaError(f"{name} hashes must be unsigned 64-bit ints: {exc}") from exc


def _popcount(values: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Set bits of each value: np.bitwise_count (numpy 2) or a byte table (numpy 1.26)."""
    count = getattr(np, "bitwise_count", None)
    if count is not None:
        return np.asarray(count(values), dtype=np.int64)
    return _popcount_table(values)


def _popcount_table(values: NDArray[np.uint64]) -> NDArray[np.int64]:
    as_bytes = np.ascontiguousarray(values, dtype=np.uint64).view(np.uint8)
    return np.asarray(_BYTE_BITS[as_bytes].reshape(-1, 8).sum(axis=1), dtype=np.int64)


def compare(query: Sequence[int], reference: Sequence[int], *, max_offset: int = 2) -> Match | None:
    """Lines up a video's per-second hashes with a reference's at the best shift.

    Shifts from ``-max_offset`` to ``max_offset`` seconds are tried (query second ``i``
    against reference second ``i + offset``), so a copy with a second or two cut off either
    end still lines up. The best shift has the most matched seconds, then the lowest mean
    distance, then the smallest shift.

    A shift must compare at least :data:`MIN_OVERLAP` seconds, or every second of the shorter
    video when it is shorter than that: a one-second video is judged by its one hash, which
    is weaker evidence than a longer run.

    Args:
        query: Hashes of the video being asked about.
        reference: Hashes of a video we made.
        max_offset: Largest shift tried, in seconds.

    Returns:
        The best alignment, or None when either list is empty or no shift overlaps enough.

    Raises:
        MediaError: A hash is not an unsigned 64-bit int, or ``max_offset`` is negative.
    """
    if isinstance(max_offset, bool) or not isinstance(max_offset, int) or max_offset < 0:
        raise MediaError(f"max_offset must be a whole number of seconds >= 0; got {max_offset!r}")
    ours, theirs = _as_hashes(query, "query"), _as_hashes(reference, "reference")
    needed = min(MIN_OVERLAP, len(ours), len(theirs))
    if needed == 0:
        return None
    best: Match | None = None
    best_key: tuple[int, float, int] | None = None
    for offset in sorted(range(-max_offset, max_offset + 1), key=lambda shift: (abs(shift), shift)):
        start, stop = max(0, -offset), min(len(ours), len(theirs) - offset)
        if stop - start < needed:
            continue
        distances = _popcount(ours[start:stop] ^ theirs[start + offset : stop + offset])
        matched = int(np.count_nonzero(distances <= MATCH_BITS))
        mean = float(distances.mean())
        key = (matched, -mean, -abs(offset))
        if best_key is None or key > best_key:
            best_key = key
            best = Match(
                distance=mean,
                matched_seconds=matched,
                compared_seconds=stop - start,
                offset=offset,
            )
    return best
