"""Encoding RGB frames into an H.264 MP4 file with PyAV, written atomically.

This is the hot loop of every local render: a 10-second 1080p clip is 240 frames of 6 MB each.
Each frame is converted to YUV 4:2:0 once, by OpenCV straight from the caller's array, and the
result is handed to FFmpeg without another copy. (PyAV's ``from_ndarray`` copies the frame
twice and FFmpeg's scaler then competes with x264 for the cores.)

The file is written to a hidden partial sibling (:mod:`openreel.media.partial`) and only renamed
onto the requested path after the encoder and the container were closed cleanly, so a crash, a
cancelled job or a Ctrl-C never leaves a half-written video where a finished one is expected.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

import av
import cv2
import numpy as np
from av.bitstream import BitStreamFilterContext
from av.container import OutputContainer
from av.video.reformatter import (
    ColorPrimaries,
    ColorRange,
    Colorspace,
    ColorTrc,
    VideoReformatter,
)
from av.video.stream import VideoStream
from numpy.typing import NDArray

from openreel.errors import ConfigurationError, InvalidRequestError, MediaError
from openreel.media.audio import AudioEncoder, Soundtrack, samples_for
from openreel.media.partial import partial_path

__all__ = [
    "X264_PRESETS",
    "X264_TUNES",
    "EncoderSettings",
    "VideoWriter",
    "check_output_path",
    "encode_video",
]

X264_PRESETS: Final = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
"""The presets x264 knows, fastest first."""

X264_TUNES: Final = (
    "film",
    "animation",
    "grain",
    "stillimage",
    "psnr",
    "ssim",
    "fastdecode",
    "zerolatency",
)
"""The tunings x264 knows."""

# What PyAV, FFmpeg and the file system raise; mapped to MediaError at this boundary.
# av.FFmpegError's file errors also subclass OSError; ValueError covers PyAV's argument checks.
_FOREIGN_ERRORS: Final = (av.FFmpegError, OSError, ValueError, cv2.error)


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """How frames are compressed; the defaults favour speed on a laptop CPU.

    Attributes:
        codec: FFmpeg encoder name. The options below are x264's, so other encoders may
            ignore or reject them.
        preset: x264 speed/size trade-off; ``superfast`` keeps a 1080p render faster than real time
            on two cores.
        crf: Constant rate factor from 0 (lossless) to 51; 20 is visually clean for
            flat, synthetic imagery.
        pix_fmt: Pixel format of the encoded stream; ``yuv420p`` is the only one every
            browser and phone plays.
        threads: Encoder and colour-conversion threads; 0 lets x264 choose from the CPU count.
        tune: Optional x264 tuning (``animation`` suits the sketch engine).
        faststart: Put the index (``moov``) before the media data so browsers can start
            playing before the whole file has arrived.
    """

    codec: str = "libx264"
    preset: str = "superfast"
    crf: int = 20
    pix_fmt: str = "yuv420p"
    threads: int = 0
    tune: str | None = None
    faststart: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.codec, str) or not self.codec:
            raise ConfigurationError(f"encoder codec must be a non-empty name; got {self.codec!r}")
        if isinstance(self.crf, bool) or not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            raise ConfigurationError(
                f"encoder crf must be a whole number from 0 to 51; got {self.crf!r}"
            )
        if self.preset not in X264_PRESETS:
            raise ConfigurationError(
                f"encoder preset must be one of {', '.join(X264_PRESETS)}; got {self.preset!r}"
            )
        if self.tune is not None and self.tune not in X264_TUNES:
            raise ConfigurationError(
                f"encoder tune must be one of {', '.join(X264_TUNES)} or unset; got {self.tune!r}"
            )
        if not isinstance(self.pix_fmt, str) or not self.pix_fmt:
            raise ConfigurationError(
                f"encoder pix_fmt must be a pixel format name; got {self.pix_fmt!r}"
            )
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise ConfigurationError(
                f"encoder threads must be a whole number, 0 for automatic; got {self.threads!r}"
            )

    def codec_options(self) -> dict[str, str]:
        """The private options handed to the encoder (FFmpeg wants them as strings)."""
        options = {"preset": self.preset, "crf": str(self.crf)}
        if self.tune is not None:
            options["tune"] = self.tune
        return options


def _output_error(rule: str, path: Path) -> InvalidRequestError:
    # Not InvalidRequestError.for_value: it shortens long values, and a path cut in half
    # does not tell anyone which folder is wrong.
    return InvalidRequestError(f"output {rule}; got {str(path)!r}", param="output")


def check_output_path(path: Path) -> Path:
    """Checks that a finished MP4 can be written at ``path`` before any work is spent on it.

    Rendering takes seconds to minutes, so a typo in the output path should fail at once
    rather than after the last frame.

    Args:
        path: Where the caller wants the video.

    Returns:
        The path made absolute, with symbolic links resolved.

    Raises:
        InvalidRequestError: With ``param="output"`` when the path is a directory, does not
            end in ``.mp4``, or its folder is missing, not a folder or not writable.
    """
    resolved = Path(path).expanduser().resolve()
    if resolved.is_dir():
        raise _output_error("is a directory, not a file", resolved)
    if resolved.suffix.lower() != ".mp4":
        raise _output_error("must be a file name ending in .mp4", resolved)
    parent = resolved.parent
    if not parent.exists():
        raise _output_error("folder does not exist", resolved)
    if not parent.is_dir():
        raise _output_error("folder is not a directory", resolved)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _output_error("folder is not writable", resolved)
    return resolved


_QUEUE_FRAMES = 3
"""Converted frames waiting for the encoder thread (about 3 MB each at 1080p)."""


class _AbortedError(Exception):
    """Marks a writer whose encoder thread must stop without encoding more."""


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class VideoWriter:
    """Writes RGB frames to an H.264 MP4, committing the file only when it is complete.

    Use it as a context manager: leaving the block normally closes and commits the file;
    leaving it by any exception (``KeyboardInterrupt`` and ``GeneratorExit`` included)
    deletes the partial file and lets the exception through::

        with VideoWriter(path, width=1920, height=1080, fps=24) as writer:
            for frame in frames:
                writer.write(frame)

    Colour: frames are converted with the BT.601 matrix at limited range (what OpenCV's fast
    conversion computes) and the stream says so in its header, with BT.709 primaries and
    transfer for the sRGB source. Untagged HD video would be decoded as BT.709 by browsers
    and its colours would shift.
    """

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        fps: int,
        settings: EncoderSettings = EncoderSettings(),
        audio: bool = False,
    ) -> None:
        """Validates the request and opens the partial file.

        Args:
            path: Where the finished video goes; checked with :func:`check_output_path`.
            width: Frame width in pixels (even for 4:2:0 pixel formats).
            height: Frame height in pixels (even for 4:2:0 pixel formats).
            fps: Frames per second.
            settings: Encoder settings.
            audio: Whether the file gets a sound stream (AAC-LC, 48 kHz stereo, exactly as
                long as the picture); its samples come through :meth:`provide_soundtrack`.

        Raises:
            InvalidRequestError: The output path, size or frame rate cannot work.
            MediaError: FFmpeg could not open the file or the encoder.
        """
        self._path = check_output_path(path)
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise InvalidRequestError(
                    f"size {name} must be a whole number of at least 2 pixels; got {value!r}",
                    param="size",
                )
            if "420" in settings.pix_fmt and value % 2:
                raise InvalidRequestError(
                    f"size {name} must be even for {settings.pix_fmt}; got {value!r}",
                    param="size",
                )
        if isinstance(fps, bool) or not isinstance(fps, int) or fps < 1:
            raise InvalidRequestError(
                f"fps must be a whole number of at least 1; got {fps!r}", param="fps"
            )
        self._shape = (height, width, 3)
        self._fps = fps
        self._audio: AudioEncoder | None = None
        self._wants_audio = audio
        self._settings = settings
        self._frames = 0
        self._final: Path | None = None
        self._temp = partial_path(self._path)
        self._reformatter = VideoReformatter()
        # Only YUV streams carry colour matrix tags; yuvj* formats are full range by definition.
        self._yuv = settings.pix_fmt.startswith("yuv")
        self._range = ColorRange.JPEG if settings.pix_fmt.startswith("yuvj") else ColorRange.MPEG
        # OpenCV's RGB -> I420 is BT.601 at limited range: exactly yuv420p as tagged below.
        self._opencv_yuv = settings.pix_fmt == "yuv420p"
        self._container: OutputContainer | None = None
        try:
            container = av.open(
                str(self._temp),
                mode="w",
                format="mp4",
                options={"movflags": "+faststart"} if settings.faststart else {},
            )
        except _FOREIGN_ERRORS as exc:
            _remove_quietly(self._temp)
            raise MediaError(f"cannot create video file next to '{self._path}': {exc}") from exc
        self._container = container
        # Encoding runs on its own thread: x264 blocks the caller whenever all its frame
        # threads are busy, and a caller that renders frames would sit idle through each
        # block. With a short queue between them the caller renders the next frames while
        # x264 works; measured in benchmarks/sketch.py. The queue bounds memory to a few
        # converted frames.
        self._pending: queue.Queue[av.VideoFrame | None] = queue.Queue(maxsize=_QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        try:
            self._stream = self._open_stream(container, width, height, fps)
            self._thread = threading.Thread(
                target=self._encode_loop, name="openreel-encoder", daemon=True
            )
            self._thread.start()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, _FOREIGN_ERRORS):
                raise MediaError(
                    f"cannot start writing '{self._path}' with encoder {settings.codec!r} "
                    f"({width}x{height} {settings.pix_fmt} at {fps} fps): {exc}"
                ) from exc
            raise

    def _open_stream(
        self, container: OutputContainer, width: int, height: int, fps: int
    ) -> VideoStream:
        settings = self._settings
        stream = container.add_stream(settings.codec, rate=fps, options=settings.codec_options())
        if not isinstance(stream, VideoStream):
            raise MediaError(f"encoder {settings.codec!r} is not a video encoder")
        stream.width = width
        stream.height = height
        stream.pix_fmt = settings.pix_fmt
        context = stream.codec_context
        context.thread_count = settings.threads
        if self._yuv:
            context.colorspace = Colorspace.SMPTE170M  # the BT.601 matrix
            context.color_range = self._range
            context.color_primaries = ColorPrimaries.BT709
            context.color_trc = ColorTrc.BT709
        if self._wants_audio:
            self._audio = AudioEncoder(container)
            self._audio.open()
        # PyAV would open the encoder and create the file on the first muxed packet, which
        # x264's look-ahead delays by a dozen frames. Doing both now reports a bad codec,
        # option or disk here, before the caller has spent time rendering.
        context.open()
        container.start_encoding()
        return stream

    @property
    def path(self) -> Path:
        """Where the finished video will be (or was) committed."""
        return self._path

    @property
    def has_audio(self) -> bool:
        """Whether the file gets a sound stream."""
        return self._audio is not None

    def provide_soundtrack(self, track: Soundtrack) -> None:
        """The sound of the whole clip, given once, before :meth:`close`, at any point of the
        writing: what the picture has reached is encoded at once, the rest as it advances.
        A writer opened with ``audio`` whose soundtrack never comes gets silence.

        Raises:
            MediaError: The writer was opened without ``audio``.
        """
        if self._audio is None:
            raise MediaError(f"'{self._path}' was opened without a sound stream")
        self._audio.provide(track)

    @property
    def frames_written(self) -> int:
        """Number of frames handed to the encoder so far."""
        return self._frames

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, frame: NDArray[np.uint8]) -> None:
        """Encodes one frame.

        Args:
            frame: RGB pixels shaped ``(height, width, 3)``, dtype ``uint8``. The array is
                read, never kept or modified.

        Raises:
            MediaError: The frame has the wrong shape or type (nothing is written and the
                writer stays usable), the writer is closed, or encoding failed (the partial
                file is then already deleted).
        """
        container = self._container
        if container is None:
            raise MediaError(f"cannot write to '{self._path}': the writer is already closed")
        if frame.shape != self._shape or frame.dtype != np.uint8:
            raise MediaError(
                f"frame must be uint8 shaped {self._shape}; "
                f"got {frame.dtype} shaped {tuple(frame.shape)}"
            )
        self._raise_encoder_error()
        try:
            if self._opencv_yuv:
                # One pass from the caller's RGB to planar 4:2:0 into a new buffer that FFmpeg
                # wraps (from_numpy_buffer) instead of copying; the caller's array is not kept.
                planar = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
                video_frame = av.VideoFrame.from_numpy_buffer(planar, format="yuv420p")
            else:
                video_frame = self._convert_with_ffmpeg(frame)
        except _FOREIGN_ERRORS as exc:
            self.abort()
            raise MediaError(
                f"converting frame {self._frames} of '{self._path}' failed: {exc}"
            ) from exc
        video_frame.pts = self._frames
        while True:
            try:
                self._pending.put(video_frame, timeout=0.1)
                break
            except queue.Full:
                self._raise_encoder_error()
        self._frames += 1

    def splice(self, source: Path, visit: Callable[[int, av.VideoFrame], None]) -> int:
        """Starts the video with ``source``'s coded pictures, copied as they are, when its
        stream is what this writer's encoder makes; returns the frames copied, or 0 when it is
        not (nothing is written then).

        "What this encoder makes" means H.264 from x264 at the same size, pixel format and
        frame rate with byte-identical parameter sets (the SPS and PPS: profile, level,
        reference frames, colour tags): then one decoder reads the copied pictures and the
        ones encoded after them, which start with a key frame of their own, so an extension
        of a video this server made need not decode and encode its source again
        (benchmarks/edits.py). Frames written afterwards follow on in time.

        Args:
            source: A video file.
            visit: Shown each decoded picture with its index, in order (previews,
                fingerprints, a check of the label); what it raises stops the copy and goes
                to the caller, who must then :meth:`abort` this writer.

        Raises:
            MediaError: Called after a frame was written, or reading or writing failed
                (the writer is then aborted).
        """
        container = self._container
        if container is None or self._frames:
            raise MediaError(f"'{self._path}' can start with another video only before any frame")
        try:
            with av.open(str(source)) as reading:
                stream = reading.streams.video[0]
                if not self._codes_like(stream):
                    return 0
                stream.thread_type = "AUTO"
                # The file's packets hold length-prefixed units; the muxer expects what the
                # encoder hands it (start codes) and converts those itself.
                annexb = BitStreamFilterContext("h264_mp4toannexb", stream)
                offset: int | None = None
                copied = decoded = 0
                for packet in reading.demux(stream):
                    for frame in packet.decode():
                        visit(decoded, frame)
                        decoded += 1
                    if packet.size == 0 or packet.pts is None or packet.dts is None:
                        continue  # the demuxer's closing empty packet
                    offset = packet.pts if offset is None else offset
                    pts, dts, base = packet.pts - offset, packet.dts - offset, packet.time_base
                    for unit in annexb.filter(packet):
                        unit.pts, unit.dts, unit.time_base = pts, dts, base
                        unit.stream = self._stream
                        container.mux(unit)
                    copied += 1
        except _FOREIGN_ERRORS as exc:
            self.abort()
            raise MediaError(f"copying '{source}' into '{self._path}' failed: {exc}") from exc
        if decoded != copied:
            self.abort()
            raise MediaError(f"'{source}' decoded to {decoded} pictures from {copied} packets")
        self._frames = copied
        return copied

    def _codes_like(self, stream: VideoStream) -> bool:
        """Whether ``stream`` is coded as this writer's encoder codes (see :meth:`splice`)."""
        ours = self._stream.codec_context
        theirs = stream.codec_context
        if self._settings.codec != "libx264" or theirs.name != "h264":
            return False
        if (theirs.width, theirs.height, theirs.format.name if theirs.format else None) != (
            ours.width,
            ours.height,
            self._settings.pix_fmt,
        ):
            return False
        if stream.average_rate is None or stream.average_rate != ours.framerate:
            return False
        mine = _parameter_sets(ours.extradata)
        return bool(mine) and mine == _parameter_sets(theirs.extradata)

    def _encode_loop(self) -> None:
        """The encoder thread: encodes and muxes queued frames until the None sentinel."""
        container = self._container
        while True:
            item = self._pending.get()
            if item is None or self._error is not None or container is None:
                return
            try:
                for packet in self._stream.encode(item):
                    container.mux(packet)
                if self._audio is not None and item.pts is not None:
                    # The sound up to this frame's end goes in beside it (interleaved).
                    end = samples_for(item.pts + 1, self._fps)
                    for packet in self._audio.packets_until(end):
                        container.mux(packet)
            except BaseException as exc:
                self._error = exc
                return

    def _stop_thread(self) -> None:
        """Ends the encoder thread after the frames already queued (or at once if aborting).

        On close every queued frame is encoded before the sentinel is seen. On abort,
        ``_error`` is already set, so the thread drops whatever it takes next; queued frames
        are discarded here so a thread blocked on a full queue is never stuck.
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        while thread.is_alive():
            try:
                self._pending.put(None, timeout=0.05)
            except queue.Full:
                if self._error is not None:
                    with contextlib.suppress(queue.Empty):
                        self._pending.get_nowait()
                continue
            thread.join()

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            exc = self._error
            self.abort()
            raise MediaError(
                f"encoding frame {self._frames} of '{self._path}' failed: {exc}"
            ) from exc

    def _convert_with_ffmpeg(self, frame: NDArray[np.uint8]) -> av.VideoFrame:
        """Converts with FFmpeg's scaler, for the pixel formats OpenCV cannot produce."""
        try:
            rgb = av.VideoFrame.from_numpy_buffer(frame, format="rgb24")
        except ValueError:  # rows not contiguous (a view or a crop): one copy is needed
            rgb = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(frame), format="rgb24")
        if not self._yuv:
            # The frame is encoded later on the encoder thread: give it its own copy.
            return av.VideoFrame.from_numpy_buffer(np.array(frame), format="rgb24")
        return self._reformatter.reformat(
            rgb,
            format=self._settings.pix_fmt,
            dst_colorspace=Colorspace.SMPTE170M,
            dst_color_range=self._range,
            threads=self._settings.threads,
        )

    def close(self) -> Path:
        """Flushes the encoder, closes the file and renames it onto the requested path.

        Calling it again after success returns the same path.

        Returns:
            The path of the finished video.

        Raises:
            MediaError: No frame was written, the writer was aborted, or flushing, closing or
                renaming failed; the partial file is deleted in every case.
        """
        if self._final is not None:
            return self._final
        container = self._container
        if container is None:
            raise MediaError(f"cannot finish '{self._path}': the writer was aborted")
        if self._frames == 0:
            self.abort()
            raise MediaError(f"cannot finish '{self._path}': no frames were written")
        try:
            self._stop_thread()
            if self._error is not None:
                raise MediaError(f"encoding '{self._path}' failed: {self._error}") from self._error
            for packet in self._stream.encode(None):
                container.mux(packet)
            if self._audio is not None:
                for packet in self._audio.finish(samples_for(self._frames, self._fps)):
                    container.mux(packet)
            self._container = None
            container.close()
            os.replace(self._temp, self._path)
        except BaseException as exc:
            self._container = container
            self.abort()
            if isinstance(exc, _FOREIGN_ERRORS):
                raise MediaError(f"finishing '{self._path}' failed: {exc}") from exc
            raise
        self._final = self._path
        return self._path

    def abort(self) -> None:
        """Closes the container, ignoring its errors, and deletes the partial file.

        Safe to call at any time and more than once; after a successful :meth:`close` it
        does nothing, so a committed video is never deleted.
        """
        self._error = self._error or _AbortedError()
        self._stop_thread()
        container, self._container = self._container, None
        try:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.close()
        finally:
            if self._final is None:
                _remove_quietly(self._temp)


def _parameter_sets(extradata: bytes | None) -> tuple[bytes, ...]:
    """The SPS and PPS units of an H.264 stream's extradata, in either form FFmpeg keeps it:
    ``avcC`` (from an MP4 file) or Annex B start codes (from an encoder opened for one)."""
    if not extradata:
        return ()
    data = bytes(extradata)
    if data[0] == 1 and len(data) > 6:  # avcC: version 1, then counted, sized units
        units: list[bytes] = []
        at = 5
        for mask in (0x1F, 0xFF):  # the SPS count keeps 3 reserved bits; the PPS count none
            if at >= len(data):
                return ()
            count = data[at] & mask
            at += 1
            for _ in range(count):
                size = int.from_bytes(data[at : at + 2], "big")
                units.append(data[at + 2 : at + 2 + size])
                at += 2 + size
        return tuple(units)
    parts = data.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")
    return tuple(part.rstrip(b"\x00") for part in parts if part)


def encode_video(
    frames: Iterable[NDArray[np.uint8]],
    path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    settings: EncoderSettings = EncoderSettings(),
) -> int:
    """Encodes every frame of ``frames`` into an MP4 at ``path``, atomically.

    Args:
        frames: RGB ``uint8`` arrays shaped ``(height, width, 3)``, consumed one at a time.
        path: Where the finished video goes.
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Frames per second.
        settings: Encoder settings.

    Returns:
        The number of frames written.

    Raises:
        InvalidRequestError: The output path, size or frame rate cannot work.
        MediaError: Encoding failed; no file is left behind.
    """
    with VideoWriter(path, width=width, height=height, fps=fps, settings=settings) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.frames_written
