"""Sound: a clip's soundtrack, read from files, fitted to a picture, joined, and encoded.

Every video OpenReel writes with sound carries one AAC-LC stream at 48 kHz stereo, exactly as
long as the picture (to within one AAC frame of 1024 samples). A :class:`Soundtrack` is the
samples in memory (float32, ``(samples, 2)``): ten seconds are under 4 MB, so it is simpler
and as cheap to hold the whole track than to stream it beside the frames. Decoding,
resampling and encoding are FFmpeg's (through PyAV); nothing here meters or filters by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import OutputContainer

from openreel.errors import MediaError

__all__ = [
    "AAC_FRAME",
    "SAMPLE_RATE",
    "AudioEncoder",
    "Soundtrack",
    "join",
    "read_soundtrack",
    "samples_for",
]

SAMPLE_RATE: Final = 48_000
"""The rate of every soundtrack OpenReel writes."""

AAC_FRAME: Final = 1024
"""Samples per AAC-LC frame: the tolerance on a soundtrack's length."""

BIT_RATE: Final = 160_000
"""AAC bit rate for 48 kHz stereo: transparent for ambience, small beside the picture."""

SEAM_SECONDS: Final = 0.05
"""How long a join cross-fades: long enough that no click is heard, short enough that
the new sound is there with the new picture."""

_CHUNK: Final = 8 * AAC_FRAME
"""Samples handed to the encoder at a time."""

Samples = npt.NDArray[np.float32]

_FOREIGN_ERRORS: Final = (av.FFmpegError, OSError, ValueError)


def samples_for(frames: int, fps: float, rate: int = SAMPLE_RATE) -> int:
    """How many samples at ``rate`` last as long as ``frames`` pictures at ``fps``."""
    return round(frames * rate / fps)


@dataclass(frozen=True, slots=True)
class Soundtrack:
    """A clip's sound: float32 samples shaped ``(samples, 2)`` at 48 kHz, within [-1, 1].

    Backends hand one over with their frames (:class:`openreel.backends.base.Clip`): the
    sketch engine synthesises it, a hosted provider's download or a local pipeline's waveform
    is converted with :meth:`of`.
    """

    samples: Samples
    rate: int = SAMPLE_RATE

    def __post_init__(self) -> None:
        data = self.samples
        if data.dtype != np.float32 or data.ndim != 2 or data.shape[1] != 2:
            raise MediaError(
                f"a soundtrack must be float32 shaped (samples, 2); got {data.dtype} shaped "
                f"{tuple(data.shape)}"
            )
        if self.rate != SAMPLE_RATE:
            raise MediaError(f"a soundtrack must be at {SAMPLE_RATE} Hz; got {self.rate}")

    @classmethod
    def of(cls, samples: npt.ArrayLike, rate: int) -> Soundtrack:
        """Any waveform (mono ``(n,)``, ``(n, channels)`` or ``(channels, n)`` with one or
        two channels, any float or int type and rate) as a 48 kHz stereo soundtrack.

        This is the seam for a model that makes its own sound (a diffusers pipeline's audio
        output): hand its waveform and rate here.

        Raises:
            MediaError: The shape has no channel axis of one or two.
        """
        data = np.asarray(samples)
        if np.issubdtype(data.dtype, np.integer):
            data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
        data = data.astype(np.float32, copy=False)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or (1 not in data.shape and 2 not in data.shape):
            raise MediaError(f"a waveform must be (samples, channels); got {tuple(data.shape)}")
        if data.shape[1] not in (1, 2) or (data.shape[0] in (1, 2) and data.shape[1] > 2):
            data = data.T
        if data.shape[1] == 1:
            data = np.repeat(data, 2, axis=1)
        data = np.clip(data, -1.0, 1.0)
        if rate != SAMPLE_RATE:
            data = _resample(data, rate)
        return cls(np.ascontiguousarray(data, dtype=np.float32))

    @classmethod
    def silence(cls, samples: int) -> Soundtrack:
        """``samples`` of digital silence."""
        return cls(np.zeros((samples, 2), np.float32))

    @property
    def seconds(self) -> float:
        """How long it lasts."""
        return len(self.samples) / self.rate

    def fitted(self, samples: int) -> Soundtrack:
        """Exactly ``samples`` long: cut, or held out with silence."""
        have = len(self.samples)
        if have == samples:
            return self
        if have > samples:
            return Soundtrack(self.samples[:samples])
        pad = np.zeros((samples - have, 2), np.float32)
        return Soundtrack(np.concatenate([self.samples, pad]))

    def span(self, start: int, samples: int) -> Soundtrack:
        """``samples`` from sample ``start`` (negative or past the end: silence there)."""
        out = np.zeros((samples, 2), np.float32)
        lo, hi = max(start, 0), min(start + samples, len(self.samples))
        if hi > lo:
            out[lo - start : hi - start] = self.samples[lo:hi]
        return Soundtrack(out)


def _resample(data: Samples, rate: int) -> Samples:
    """``data`` at ``rate`` resampled to 48 kHz by libswresample."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data.T), format="fltp", layout="stereo")
    frame.sample_rate = rate
    frame.pts = 0
    frame.time_base = Fraction(1, rate)
    parts = [f.to_ndarray() for f in [*resampler.resample(frame), *resampler.resample(None)]]
    joined = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), np.float32)
    return np.ascontiguousarray(joined.T, dtype=np.float32)


def join(before: Soundtrack, after: Soundtrack, *, seam: float = SEAM_SECONDS) -> Soundtrack:
    """``after`` following ``before``, cross-faded over ``seam`` seconds at the join.

    The total length is the sum of both (the picture's frames are not overlapped either),
    so the fade runs over the first samples of ``after``, mixed with ``before``'s last
    samples played backwards: that continuation starts at exactly ``before``'s last value,
    so the join has no step (no click) even when the two sounds have nothing in common.
    Equal-power curves keep the level steady through the fade.
    """
    width = min(round(seam * SAMPLE_RATE), len(before.samples), len(after.samples))
    out = np.concatenate([before.samples, after.samples])
    if width > 0:
        t = (np.arange(width, dtype=np.float32) + 0.5) / width
        fade_in = np.sin(t * (math.pi / 2))[:, None]
        fade_out = np.cos(t * (math.pi / 2))[:, None]
        tail = before.samples[::-1][:width]
        start = len(before.samples)
        out[start : start + width] = tail * fade_out + after.samples[:width] * fade_in
    return Soundtrack(np.clip(out, -1.0, 1.0).astype(np.float32, copy=False))


def has_sound(path: Path) -> bool:
    """Whether the file at ``path`` has a sound stream (False when it cannot be read)."""
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError):
        return False


def read_soundtrack(
    path: Path, *, start: float | None = None, seconds: float | None = None
) -> Soundtrack | None:
    """The first audio stream of the file at ``path``, as a 48 kHz stereo soundtrack.

    Args:
        path: A video (or audio) file FFmpeg reads.
        start: The time, on the file's clock, that becomes the soundtrack's zero; default
            the first video frame's time (or the audio's own start when there is no
            picture), so the sound stays where it was against the picture.
        seconds: Length wanted: cut or held out with silence to exactly that many
            seconds' samples; default: as long as the stream.

    Returns:
        The sound, or None when the file has no audio stream.

    Raises:
        MediaError: The file cannot be read.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            if start is None:
                start = _first_video_time(container)
            stream = container.streams.audio[0]
            if seconds is None and stream.duration is not None and stream.time_base:
                # The last AAC frame is padded; the stream's duration says where sound ends.
                seconds = float(stream.duration * stream.time_base)
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            parts: list[npt.NDArray[Any]] = []
            first: float | None = None
            for frame in container.decode(stream):
                if first is None and frame.pts is not None and frame.time_base is not None:
                    first = float(frame.pts * frame.time_base)
                parts.extend(f.to_ndarray() for f in resampler.resample(frame))
            parts.extend(f.to_ndarray() for f in resampler.resample(None))
    except _FOREIGN_ERRORS as exc:
        raise MediaError(f"cannot read the sound of '{path}': {exc}") from exc
    data = np.concatenate(parts, axis=1).T if parts else np.zeros((0, 2), np.float32)
    track = Soundtrack(np.ascontiguousarray(data, dtype=np.float32))
    offset = 0 if start is None or first is None else round((first - start) * SAMPLE_RATE)
    length = len(track.samples) - offset if seconds is None else round(seconds * SAMPLE_RATE)
    return track.span(-offset, max(length, 0))


def _first_video_time(container: av.container.InputContainer) -> float | None:
    """The first video frame's time in seconds (None without a picture)."""
    if not container.streams.video:
        return None
    video = container.streams.video[0]
    for frame in container.decode(video):
        if frame.pts is not None and frame.time_base is not None:
            container.seek(0)
            return float(frame.pts * frame.time_base)
    container.seek(0)
    return None


class AudioEncoder:
    """The AAC stream of a video being written: fed as the picture advances.

    The writer adds it before the container starts (:meth:`open`), hands it the soundtrack
    whenever the backend has it (:meth:`provide`, from any thread), and asks it on its
    encoder thread for the packets that reach each frame's end (:meth:`packets_until`), so
    sound and picture are interleaved in the file as they are made. :meth:`finish` ends the
    stream at the picture's length; a soundtrack that never came is silence.
    """

    def __init__(self, container: OutputContainer) -> None:
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        if not isinstance(stream, AudioStream):
            raise MediaError("the aac encoder is not an audio encoder")
        stream.bit_rate = BIT_RATE
        stream.time_base = Fraction(1, SAMPLE_RATE)
        # FFmpeg's "fast" coder costs well under half of its default "twoloop" (see the Sound
        # section of benchmarks/README.md); at this bit rate an ambience sounds the same.
        stream.codec_context.options = {"aac_coder": "fast"}
        self._stream = stream
        self._track: Soundtrack | None = None
        self._done = 0

    @property
    def stream(self) -> AudioStream:
        """The stream in the container."""
        return self._stream

    def open(self) -> None:
        """Opens the encoder now, so a missing AAC encoder fails before any work."""
        self._stream.codec_context.open()

    def provide(self, track: Soundtrack) -> None:
        """The sound to encode (the first one given is kept)."""
        if self._track is None:
            self._track = track

    def packets_until(self, samples: int) -> Iterator[av.Packet[AudioStream]]:
        """Encodes the soundtrack up to sample ``samples``, if it has come yet."""
        track = self._track
        if track is None:
            return
        while self._done < samples:
            end = min(samples, self._done + _CHUNK)
            yield from self._encode(track.span(self._done, end - self._done).samples)

    def finish(self, samples: int) -> Iterator[av.Packet[AudioStream]]:
        """Encodes to exactly ``samples`` (silence if no soundtrack came) and flushes."""
        if self._track is None:
            self._track = Soundtrack.silence(0)
        yield from self.packets_until(samples)
        yield from self._stream.encode(None)

    def _encode(self, chunk: Samples) -> Iterator[av.Packet[AudioStream]]:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk.T), format="fltp", layout="stereo"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._done
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self._done += len(chunk)
        yield from self._stream.encode(frame)
