"""Generation: one request in, one finished video file (and its previews) out.

This is the path every video takes, from ``openreel generate`` and from the queue's workers:
check the request against its backend, fix the seed, stream frames from the backend straight
into the encoder (never the whole clip in memory), and commit the file atomically. A failure
or cancellation at any point leaves no file behind.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from openreel.backends.base import (
    CancelCheck,
    Frame,
    ProgressCallback,
    VideoBackend,
    never_cancelled,
    no_progress,
    soundtrack_of,
)
from openreel.backends.hosted.base import HostedBackend
from openreel.domain import Artifact, GenerationResult, VideoRequest
from openreel.errors import CancelledError
from openreel.media.audio import Soundtrack, join, read_soundtrack, samples_for
from openreel.media.encode import EncoderSettings, VideoWriter, check_output_path
from openreel.media.fingerprint import SecondSampler
from openreel.media.label import Labeler, LabelSpec
from openreel.media.partial import partial_path
from openreel.media.preview_check import PreviewCheck, previews_beside
from openreel.media.previews import PreviewCollector
from openreel.media.probe import luma
from openreel.services.relay import (
    NotRelayableError,
    counted,
    relay,
    signed_with_label,
    vouched,
)
from openreel.trust.provenance import Provenance

__all__ = ["PreviewPaths", "render_video"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreviewPaths:
    """Where to write the previews of a video.

    Attributes:
        thumbnail: WebP still.
        spritesheet: JPEG grid of evenly spaced frames (for hover scrubbing).
    """

    thumbnail: Path
    spritesheet: Path

    def paths(self) -> tuple[Path, Path]:
        """Both files."""
        return self.thumbnail, self.spritesheet

    @classmethod
    def beside(cls, video: Path) -> PreviewPaths:
        """Previews next to ``video``: ``clip.thumbnail.webp`` and ``clip.spritesheet.jpg``."""
        return cls(*previews_beside(video))


def render_video(
    backend: VideoBackend,
    request: VideoRequest,
    output: Path,
    *,
    encoder: EncoderSettings,
    previews: PreviewPaths | None = None,
    progress: ProgressCallback = no_progress,
    cancelled: CancelCheck = never_cancelled,
    on_plan: Callable[[GenerationResult], None] | None = None,
    prefix: Iterable[Frame] = (),
    prefix_frames: int = 0,
    prefix_file: Path | None = None,
    label: LabelSpec | None = None,
    provenance: Provenance | None = None,
    sampler: SecondSampler | None = None,
    parent: Path | None = None,
    prefix_sound: Path | None = None,
) -> GenerationResult:
    """Generates ``request`` with ``backend`` and writes it to ``output`` atomically.

    Args:
        backend: The backend that serves ``request.model``.
        request: What to make; a random seed is chosen when it has none.
        output: Final path of the MP4; its folder must exist.
        encoder: H.264 settings.
        previews: Where to write a thumbnail and spritesheet, or None for none.
        progress: Called with (frames done, total).
        cancelled: Checked before every frame, and once more before anything is kept.
        on_plan: Called once before rendering with a result that has no artifacts yet, so
            callers can show what the backend understood while it works.
        prefix: Frames to write before the backend's (an extension starts with its source).
        prefix_frames: How many frames ``prefix`` yields (for progress).
        prefix_file: The file ``prefix`` is read from. When its stream is coded as this
            encoder codes and every one of its frames shows the label (a video this server
            made, uploaded or not), its packets are copied instead of decoded and encoded
            again (``VideoWriter.splice``), and ``prefix`` is not read.
        label: The visible "AI-generated" label to burn into the backend's frames, or None
            for none; prefix frames get it where they do not show it yet (a foreign upload).
        provenance: Signs the finished MP4 with C2PA as the very last step, or None.
        sampler: Fed every frame as written (label included) for the content registry's
            per-second hashes; it hashes only the one frame a second it wants.
        parent: The video this one is made from (an edit's or extension's source), named in
            the signature as its parent ingredient.
        prefix_sound: The file whose sound goes under ``prefix`` (an extension's source);
            the backend's sound follows it with a short cross-fade at the seam. Silence
            where it has none.

    Returns:
        The request as run (seed fixed), the files written and the backend's interpretation.

    Raises:
        InvalidRequestError: The request or the output path is unusable (nothing written).
        CancelledError: ``cancelled()`` turned True (nothing written).
        MediaError: Encoding failed (nothing written).
    """
    backend.check(request)
    request = request.with_seed()
    output = check_output_path(output)
    interpretation = dict(backend.describe(request))
    if on_plan is not None:
        on_plan(GenerationResult(request=request, artifacts=(), interpretation=interpretation))
    total = prefix_frames + request.frame_count
    started = time.perf_counter()

    def overall(done: int, _: int) -> None:
        progress(prefix_frames + done, total)

    with contextlib.ExitStack() as scope:
        generated: Iterable[Frame] | None = None
        if isinstance(backend, HostedBackend) and prefix_frames == 0:
            # The provider's file is fetched first: an OpenReel upstream's may be passed on
            # as it is (services.relay); any other is fitted and labelled frame by frame.
            downloaded = scope.enter_context(backend.fetched(request, overall, cancelled))
            if label is not None and provenance is not None:
                try:
                    return _relayed(
                        backend,
                        request,
                        output,
                        downloaded,
                        label=label,
                        provenance=provenance,
                        previews=previews,
                        sampler=sampler,
                        cancelled=cancelled,
                        interpretation=interpretation,
                        started=started,
                    )
                except NotRelayableError as exc:
                    if exc.claimed:  # it said it was labelled so, and is not
                        log.warning("%s: re-rendering the upstream's video: %s", request.model, exc)
            generated = backend.fitted(downloaded, request, overall, cancelled)
        return _rendered(
            backend,
            request,
            output,
            generated
            if generated is not None
            else (lambda run: backend.generate(run, overall, cancelled)),
            encoder=encoder,
            previews=previews,
            progress=progress,
            cancelled=cancelled,
            prefix=prefix,
            prefix_file=prefix_file,
            prefix_frames=prefix_frames,
            total=total,
            label=label,
            provenance=provenance,
            sampler=sampler,
            parent=parent,
            prefix_sound=prefix_sound,
            interpretation=interpretation,
            started=started,
        )


def _rendered(
    backend: VideoBackend,
    request: VideoRequest,
    output: Path,
    generated: Iterable[Frame] | Callable[[VideoRequest], Iterable[Frame]],
    *,
    encoder: EncoderSettings,
    previews: PreviewPaths | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
    prefix: Iterable[Frame],
    prefix_file: Path | None,
    prefix_frames: int,
    total: int,
    label: LabelSpec | None,
    provenance: Provenance | None,
    sampler: SecondSampler | None,
    parent: Path | None,
    prefix_sound: Path | None,
    interpretation: dict[str, Any],
    started: float,
) -> GenerationResult:
    """Encodes the prefix and the backend's frames (labelled) with their sound, then previews
    and signature. ``generated`` is the backend's frames, or the call that makes them from
    the request: made after a copied prefix, which hands its last picture on."""
    sound = _Sound(request, prefix_frames, prefix_sound) if request.audio else None

    size = {"width": request.width, "height": request.height, "fps": request.fps}
    collector = PreviewCollector(total) if previews is not None else None
    labeler = None if label is None else Labeler(label, request.width, request.height)
    with _staging(output, previews) as staged:
        spliced, last_picture = None, None
        if prefix_file is not None and prefix_frames:
            copied = _spliced(
                VideoWriter(staged[0], **size, settings=encoder, audio=sound is not None),
                prefix_file,
                prefix_frames,
                labeler,
                collector=collector,
                sampler=sampler,
                progress=progress,
                cancelled=cancelled,
                total=total,
            )
            if copied is not None:
                spliced, last_picture = copied
        made = iter(
            generated(_continuing(request, last_picture)) if callable(generated) else generated
        )

        def frames() -> Iterator[Frame]:
            if sound is not None:  # a sound made from the request alone is known at once
                sound.learn(made)
            if spliced is None:  # the prefix frame by frame, labelled where it is not yet
                for done, frame in enumerate(prefix, start=1):
                    if cancelled():
                        raise CancelledError("generation was cancelled")
                    if labeler is not None and not labeler.shown_in(frame):
                        labeler.apply(frame)
                    yield frame
                    progress(done, total)
            for frame in made:
                if sound is not None:  # the backend's sound is known once its first frame is
                    sound.learn(made)
                yield frame if labeler is None else labeler.apply(frame)
            if sound is not None:
                sound.learn(made, last=True)

        stream = frames()
        # The encoder (and its threads and buffers) opens with the first frame, not before: a
        # hosted backend may wait minutes on its provider before yielding one, and a server
        # following hundreds of such jobs must not hold hundreds of idle encoders.
        first = next(stream, None) if spliced is None else None
        ordered = stream if first is None else itertools.chain((first,), stream)
        start = 0 if spliced is None else prefix_frames
        with spliced or VideoWriter(
            staged[0], **size, settings=encoder, audio=sound is not None
        ) as writer:
            for index, frame in enumerate(ordered, start=start):
                if sound is not None:
                    sound.give(writer)
                writer.write(frame)
                if collector is not None and collector.wants(index):
                    collector.add(index, frame)
                if sampler is not None and sampler.wants(index):
                    sampler.add(index, frame)
            if sound is not None:
                sound.give(writer)
        if collector is not None:
            collector.write_thumbnail(staged[1])
            collector.write_spritesheet(staged[2])
        if provenance is not None:
            # An unsigned video must not be handed out as if it were signed.
            provenance.sign(
                staged[0],
                backend,
                request,
                title=output.name,
                parent=parent,
                label=label,
                fingerprint=None if sampler is None else sampler.hashes(),
            )
        # Asked once more before anything is kept: a cancel that came with the last frame or
        # while the encoder finished, the previews were made or the video was signed. For a
        # render process this is where the worker's verdict is read (services.render_process):
        # asked for with the last frame, it has come back while this process did that work.
        if cancelled():
            raise CancelledError("generation was cancelled")
    return GenerationResult(
        request=request,
        artifacts=_artifacts(output, previews),
        interpretation=interpretation,
        frames=writer.frames_written,
        render_seconds=time.perf_counter() - started,
    )


class _Sound:
    """The soundtrack of one render: the prefix's sound, then the backend's, handed to the
    writer once, as soon as the backend has it (a backend with none gives silence)."""

    def __init__(
        self, request: VideoRequest, prefix_frames: int, prefix_sound: Path | None
    ) -> None:
        self._request = request
        self._prefix_frames = prefix_frames
        self._prefix_sound = prefix_sound
        self._track: Soundtrack | None = None
        self._given = False

    def learn(self, made: Iterator[Frame], *, last: bool = False) -> None:
        """Makes the whole track once the backend's part is known (or it ended without)."""
        if self._track is not None:
            return
        own = soundtrack_of(made)
        if own is None and not last:
            return
        request = self._request
        track = (own or Soundtrack.silence(0)).fitted(samples_for(request.frame_count, request.fps))
        if self._prefix_frames:
            before = None
            if self._prefix_sound is not None:
                before = read_soundtrack(self._prefix_sound)
            length = samples_for(self._prefix_frames, request.fps)
            track = join((before or Soundtrack.silence(0)).fitted(length), track)
        self._track = track

    def give(self, writer: VideoWriter) -> None:
        """Hands the track to the writer, once, when it is known."""
        if self._track is not None and not self._given:
            self._given = True
            writer.provide_soundtrack(self._track)


class _NoLabelError(Exception):
    """A frame of a prefix being copied does not show the label: it is encoded instead."""


def _continuing(request: VideoRequest, last: Frame | None) -> VideoRequest:
    """``request`` with its source's last picture, when copying the source's packets has
    decoded it already (a continuation starts from it: decoding a 10 s 1080p file again cost
    the extension a tenth of a fresh render's time)."""
    if request.source is None or last is None:
        return request
    return replace(request, source=replace(request.source, last_picture=last))


def _spliced(
    writer: VideoWriter,
    source: Path,
    count: int,
    labeler: Labeler | None,
    *,
    collector: PreviewCollector | None,
    sampler: SecondSampler | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
    total: int,
) -> tuple[VideoWriter, Frame | None] | None:
    """``writer`` started with ``source``'s ``count`` pictures copied (see
    :meth:`VideoWriter.splice`), each checked for the label and handed to the previews and
    fingerprints that want it, and the last of them in RGB; None (the writer aborted) when
    they cannot be copied."""

    last: list[av.VideoFrame] = []

    def visit(index: int, frame: av.VideoFrame) -> None:
        if cancelled():
            raise CancelledError("generation was cancelled")
        last[:] = [frame]
        if labeler is not None and not labeler.shown_in(luma(frame)):
            raise _NoLabelError(index)
        wanted = (collector is not None and collector.wants(index)) or (
            sampler is not None and sampler.wants(index)
        )
        if wanted:
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            if collector is not None:
                collector.add(index, rgb)
            if sampler is not None:
                sampler.add(index, rgb)
        progress(index + 1, total)

    try:
        copied = writer.splice(source, visit)
    except _NoLabelError:
        writer.abort()
        return None
    except BaseException:
        writer.abort()
        raise
    if copied != count:
        writer.abort()
        return None
    picture = np.asarray(last[0].to_ndarray(format="rgb24"), dtype=np.uint8) if last else None
    return writer, picture


def _relayed(
    backend: VideoBackend,
    request: VideoRequest,
    output: Path,
    downloaded: Path,
    *,
    label: LabelSpec,
    provenance: Provenance,
    previews: PreviewPaths | None,
    sampler: SecondSampler | None,
    cancelled: CancelCheck,
    interpretation: dict[str, Any],
    started: float,
) -> GenerationResult:
    """Keeps an upstream's labelled video as it is (services.relay), signed here with it as
    the parent ingredient, with the upstream's previews (else made here) and fingerprints:
    taken on a pinned signer's word (``relay.vouched``), else from one reading of the frames."""
    collector = PreviewCollector(request.frame_count) if previews is not None else None
    signers = backend.signers if isinstance(backend, HostedBackend) else ()
    with _staging(output, previews) as staged:

        def sign(fingerprint: tuple[int, ...] | None = None) -> None:
            shutil.copyfile(downloaded, staged[0])
            provenance.sign(
                staged[0],
                backend,
                request,
                title=output.name,
                parent=downloaded,
                label=label,
                relayed=True,
                fingerprint=fingerprint,
            )

        with ThreadPoolExecutor(2, thread_name_prefix="openreel-relay") as pool:
            # The upstream's own previews, lent beside its video, are kept when each shows
            # the frame it stands for (media.preview_check): making them again was most of
            # what a relay cost after the reading itself. Read meanwhile, as is the index of
            # a video a pinned signer may vouch for.
            loading = pool.submit(_lent_previews, downloaded, collector, request)
            counting = pool.submit(counted, downloaded, request) if signers else None
            hashes = vouched(downloaded, request, label, signers)
            if hashes is not None:
                sign(hashes)
            given = loading.result()
            wait([] if counting is None else [counting])
        if counting is not None and hashes is not None and (collector is None or given is not None):
            # Signed under a certificate the operator pinned: the signer's word that the
            # label is on every frame, and its recorded fingerprint, are taken; nothing is
            # decoded (its previews are its own too).
            counting.result()  # the streams and the frame count, from the file's index
            if sampler is not None:
                sampler.adopt(hashes)
            frames, checked = request.frame_count, "signature"
        else:
            frames = _read_and_signed(
                downloaded, request, label, sign, collector, given, sampler, cancelled
            )
            checked = "frames"
        if given is not None:
            shutil.copyfile(given.thumbnail, staged[1])
            shutil.copyfile(given.spritesheet, staged[2])
        elif collector is not None:
            collector.write_thumbnail(staged[1])
            collector.write_spritesheet(staged[2])
        if cancelled():
            raise CancelledError("generation was cancelled")
    return GenerationResult(
        request=request,
        artifacts=_artifacts(output, previews),
        interpretation=interpretation | {"relayed": True, "label_checked": checked},
        frames=frames,
        render_seconds=time.perf_counter() - started,
    )


def _lent_previews(
    downloaded: Path, collector: PreviewCollector | None, request: VideoRequest
) -> PreviewCheck | None:
    """The upstream's previews lent beside its video, when laid out as ``collector``'s."""
    if collector is None:
        return None
    return PreviewCheck.load(*previews_beside(downloaded), collector, request.width, request.height)


def _read_and_signed(
    downloaded: Path,
    request: VideoRequest,
    label: LabelSpec,
    sign: Callable[[], None],
    collector: PreviewCollector | None,
    given: PreviewCheck | None,
    sampler: SecondSampler | None,
    cancelled: CancelCheck,
) -> int:
    """An upstream's video checked frame by frame (services.relay.relay), while its manifest
    is verified and the copy signed (``sign``) on another thread; the number of frames."""

    def signed() -> None:
        if not signed_with_label(downloaded, label):
            raise NotRelayableError(
                "its manifest is missing, invalid or names another label", claimed=False
            )
        sign()

    # The signature covers the file, which the reading does not change; both mostly wait
    # outside the interpreter. A manifest that does not claim the label, or a frame without
    # it, throws both away.
    with ThreadPoolExecutor(1, thread_name_prefix="openreel-relay-sign") as pool:
        signing = pool.submit(signed)
        try:
            frames = relay(
                downloaded,
                request,
                label,
                previews=collector if given is None else None,
                given=given,
                sampler=sampler,
                cancelled=cancelled,
            )
        except NotRelayableError:
            wait([signing])
            signing.result()  # a file that never claimed the label says so first
            raise
        finally:
            wait([signing])
        signing.result()
    return frames


@contextlib.contextmanager
def _staging(output: Path, previews: PreviewPaths | None) -> Iterator[list[Path]]:
    """Hidden staging names for the video and its previews (swept as partial files after a
    crash), renamed into place, the video last, when the block ends; removed when it raises.

    Everything is made under these names and renamed only when all of it is done: a process
    killed while it writes the previews or signs leaves no file under a finished video's names.
    """
    finals = [output] if previews is None else [output, *previews.paths()]
    staged = [partial_path(path) for path in finals]
    try:
        yield staged
        for final, stage in reversed(list(zip(finals, staged, strict=True))):  # video last
            stage.replace(final)
    except BaseException:
        for path in staged:
            path.unlink(missing_ok=True)
        raise


def _artifacts(output: Path, previews: PreviewPaths | None) -> tuple[Artifact, ...]:
    """The files of a finished video: the MP4, then its previews when it has them."""
    artifacts = [_artifact("video", output, "video/mp4")]
    if previews is not None:
        artifacts.append(_artifact("thumbnail", previews.thumbnail, "image/webp"))
        artifacts.append(_artifact("spritesheet", previews.spritesheet, "image/jpeg"))
    return tuple(artifacts)


def _artifact(kind: str, path: Path, media_type: str) -> Artifact:
    return Artifact(kind, str(path), media_type, path.stat().st_size)
