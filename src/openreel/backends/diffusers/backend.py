"""DiffusersBackend: local open models (LTX-Video, LTX-2, Wan, CogVideoX, HunyuanVideo,
Stable Video Diffusion) as a VideoBackend.

One generate() call follows its :class:`~openreel.backends.diffusers.plan.RenderPlan`: one or
more pipeline calls at the model's native size and frame rate (later segments start from the
previous one's frames; a model that cannot continue from frames makes one call, no more),
stitched, interpolated to the requested rate and scaled to the requested size, one frame at
a time. Progress counts denoising steps over every segment and
then delivered frames; cancel is checked in ``callback_on_step_end`` and stops the pipeline
through its ``_interrupt`` flag, so a loaded model is never thrown away.

Progress is reported on the scale of the request's frames (``total`` is ``frame_count``),
as every backend does: denoising fills the first 90% of it, delivering frames the rest.

A family whose pipeline makes sound in the same call (LTX-2: ``output.audio``) hands each
call's waveform over with the frames (a :class:`~openreel.backends.base.Clip`), joined at
the same seams as the frames, when the request asks for sound.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from openreel.backends.base import (
    BackendCapabilities,
    CancelCheck,
    Clip,
    Frame,
    ProgressCallback,
    check_against_capabilities,
    never_cancelled,
    no_progress,
)
from openreel.backends.diffusers.calls import accepted, library_warnings_to_log
from openreel.backends.diffusers.catalogue import Catalogue, ModelEntry
from openreel.backends.diffusers.frames import retime, stitch
from openreel.backends.diffusers.inputs import decode_reference, sketch_first_frame, source_frames
from openreel.backends.diffusers.loader import LoadedPipeline, PipelineCache, free_memory
from openreel.backends.diffusers.outputs import joined_sound, soundtrack_of_call, to_frames
from openreel.backends.diffusers.plan import RenderPlan, make_plan
from openreel.backends.diffusers.upscale import refine, upsample_frames
from openreel.config import LocalConfig
from openreel.domain import MAX_SEED, VideoRequest
from openreel.errors import (
    BackendError,
    CancelledError,
    InvalidRequestError,
    ModelNotFoundError,
    OpenReelError,
)
from openreel.media.audio import Soundtrack
from openreel.media.fit import cover

__all__ = ["DiffusersBackend"]

log = logging.getLogger(__name__)

_DENOISE_SHARE = 0.9
"""Share of the progress bar that denoising fills; delivering frames fills the rest."""

_MIN_SIDE = 64
_SIZES = ("1920x1080", "1080x1920", "1280x720", "720x1280")


class _Progress:
    """Turns denoising steps and delivered frames into monotonic (done, total) reports.

    Segments are generated while earlier frames are delivered, so the bar is the sum of two
    shares that only grow: steps done (90%) and frames delivered (10%).
    """

    def __init__(self, report: ProgressCallback, total: int, steps: int) -> None:
        self._report = report
        self._total = total
        self._steps = max(steps, 1)
        self._stepped = 0
        self._delivered = 0
        self._done = -1

    def _emit(self) -> None:
        if self._delivered >= self._total:
            done = self._total
        else:
            share = (
                _DENOISE_SHARE * self._stepped / self._steps
                + (1 - _DENOISE_SHARE) * self._delivered / self._total
            )
            done = min(self._total - 1, int(self._total * share))
        if done > self._done:
            self._done = done
            self._report(done, self._total)

    def start(self) -> None:
        """Reports (0, total)."""
        self._emit()

    def step(self) -> None:
        """One denoising step of any segment is done."""
        self._stepped = min(self._stepped + 1, self._steps)
        self._emit()

    def frame(self, delivered: int) -> None:
        """``delivered`` frames have been yielded."""
        self._delivered = delivered
        self._emit()


def _cancelled() -> CancelledError:
    return CancelledError("generation was cancelled", code="cancelled")


def _is_out_of_memory(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


class DiffusersBackend:
    """Local open models through diffusers; one pipeline kept warm between jobs.

    Jobs are served one at a time (a lock around generation): a GPU holds one model's
    working set, and a second job would only fight the first for its memory.
    """

    name = "diffusers"
    digital_source_type = "trainedAlgorithmicMedia"
    """IPTC term for C2PA: made by a trained model (the sketch engine is ``algorithmicMedia``)."""

    def __init__(
        self,
        catalogue: Catalogue,
        config: LocalConfig | None = None,
        *,
        cache: PipelineCache | None = None,
    ) -> None:
        self._config = config or LocalConfig()
        offered = set(self._config.models)
        self._entries = {e.id: e for e in catalogue.entries if not offered or e.id in offered}
        # A text-only model's image-to-video pair continues its clips even where the operator
        # does not offer the pair on its own.
        self._catalogue = {e.id: e for e in catalogue.entries}
        self._cache = cache or PipelineCache(self._config.device, keep_warm=self._config.keep_warm)
        self._lock = threading.Lock()

    @property
    def models(self) -> tuple[str, ...]:
        """The catalogue's model ids (those named by ``OPENREEL_LOCAL__MODELS`` when set)."""
        return tuple(self._entries)

    @property
    def cache(self) -> PipelineCache:
        """The warm-pipeline cache (for tests and for releasing memory on demand)."""
        return self._cache

    def entry(self, model: str) -> ModelEntry:
        """The catalogue entry of ``model``.

        Raises:
            ModelNotFoundError: No local model has that id.
        """
        entry = self._entries.get(model)
        if entry is None:
            raise ModelNotFoundError.for_value(
                "model", model, f"is not a local model here ({', '.join(self._entries)})"
            )
        return entry

    def pair(self, entry: ModelEntry) -> ModelEntry | None:
        """The image-to-video model that continues ``entry``'s clips (``continue_with``)."""
        return self._catalogue.get(entry.continue_with) if entry.continue_with else None

    def capabilities(self, model: str) -> BackendCapabilities:
        """Any size and rate (scaled and interpolated from native), up to the entry's length:
        a model that cannot continue from frames offers only what one call makes."""
        entry = self.entry(model)
        native = f"{entry.width}x{entry.height}"
        preferred = (native,) if min(entry.width, entry.height) >= _MIN_SIDE else ()
        pair = self.pair(entry)
        if pair is not None:
            length_note = (
                f"one call makes {entry.one_call_seconds:g} s; longer clips continue from "
                f"the previous call's last frame through {pair.id} (image-to-video, same "
                f"family), loaded after this model; both must fit the GPU"
                + (f" (about {pair.min_vram_gb:g} GiB)" if pair.min_vram_gb else "")
            )
        elif entry.image_pipeline_class is not None:
            length_note = (
                f"one call makes {entry.one_call_seconds:g} s; longer clips continue from "
                "the previous call's frames (image-to-video)"
            )
        else:
            length_note = (
                f"one call makes at most {entry.one_call_seconds:g} s and this model cannot "
                "continue from frames, so that is its longest clip"
            )
        continues = pair is not None or entry.image_pipeline_class is not None
        return BackendCapabilities(
            # A pair named but absent from the catalogue continues nothing: one call.
            max_seconds=entry.max_seconds
            if continues
            else min(entry.max_seconds, entry.one_call_seconds),
            min_side=_MIN_SIDE,
            max_side=3840,
            fps_range=(1, 60),
            sizes=(*preferred, *(s for s in _SIZES if s != native)),
            any_size=True,
            image_input=entry.image_pipeline_class is not None,
            # LTX-2 makes sound in the same call; its waveform goes to the writer.
            audio=entry.audio,
            deterministic=True,
            # A character's clearest frame becomes the image condition (input_reference) of
            # a family that takes one.
            characters=entry.image_pipeline_class is not None,
            character_as_image=entry.image_pipeline_class is not None,
            edit=entry.video_pipeline_class is not None,
            edit_note=""
            if entry.video_pipeline_class is None
            else f"video-to-video with {entry.video_pipeline_class} from the source's frames "
            f"(strength {self._config.edit_strength:g}), up to {entry.max_frames} native frames",
            last_frame=entry.last_frame_by is not None,
            length_note=length_note,
        )

    def check(self, request: VideoRequest) -> None:
        """Rejects what the model's catalogue entry does not allow, naming the parameter."""
        check_against_capabilities(request, self.capabilities(request.model))
        if request.operation == "edit":
            plan = self.plan(request)
            if len(plan.segments.frames) > 1:
                entry = self.entry(request.model)
                raise InvalidRequestError(
                    f"video is {request.seconds:g} s long; model {request.model} edits at most "
                    f"{(entry.max_frames - 1) / entry.fps:g} s in one pass",
                    param="video",
                )

    def plan(self, request: VideoRequest) -> RenderPlan:
        """How ``request`` will be made (no weights are loaded)."""
        entry = self.entry(request.model)
        return make_plan(entry, request, self._config.interpolation, self.pair(entry))

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """The plan as JSON: native size, rate and frames, segments, interpolation, scaling,
        and the character used, if any."""
        described = self.plan(request).to_dict()
        if request.operation == "edit":
            described["operation"] = "edit"
            spec = self.entry(request.model).spec
            described["edit"] = {
                "pipeline": self.entry(request.model).video_pipeline_class,
                "strength": self._config.edit_strength,
                # What the pipeline is given for it (Wan VACE: how much of the source is kept).
                spec.video_strength: spec.strength_value(self._config.edit_strength),
                "from": "the source video's frames, resampled to the model's native size and rate",
            }
        if request.character is not None:
            described["character"] = {
                "id": request.character.id,
                "name": request.character.name,
                "how": "its clip's clearest frame is the image the video starts from "
                "(the image condition, as input_reference)",
            }
        return described

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Clip:
        """The clip's frames one at a time at the requested size and rate, with the
        pipeline's sound when the model makes one and ``request.audio`` is true (known once
        the last pipeline call is done, before the last frames are out).

        Raises (while the frames are taken):
            InvalidRequestError: The request fails :meth:`check` or its seed is not fixed.
            CancelledError: ``cancelled()`` turned True (checked every denoising step and
                before every frame).
            ConfigurationError: The ``local`` extra or the model's weights are missing.
            BackendUnavailableError: The model cannot fit the GPU.
            BackendError: The pipeline failed (out of memory included); memory is freed.
        """
        clip = Clip()
        clip.frames = self._frames(request, progress, cancelled, clip)
        return clip

    def _frames(
        self, request: VideoRequest, progress: ProgressCallback, cancelled: CancelCheck, clip: Clip
    ) -> Iterator[Frame]:
        """:meth:`generate`'s frames; sets ``clip.sound`` once the pipeline calls are done."""
        self.check(request)
        if request.seed is None:
            raise InvalidRequestError("seed must be fixed before generating", param="seed")
        entry = self.entry(request.model)
        plan = self.plan(request)
        reporter = _Progress(progress, plan.out_frames, plan.total_steps)
        reporter.start()
        if cancelled():
            raise _cancelled()
        with self._lock:
            yield from self._generate_locked(entry, plan, request, reporter, cancelled, clip)

    def _generate_locked(
        self,
        entry: ModelEntry,
        plan: RenderPlan,
        request: VideoRequest,
        reporter: _Progress,
        cancelled: CancelCheck,
        clip: Clip,
    ) -> Iterator[Frame]:
        pair = self.pair(entry) if plan.continued_with else None
        if pair is not None:
            self._cache.check_chain(entry, pair)
        loaded = self._cache.get(entry)
        runtime, device = loaded.runtime, loaded.device
        failure: BackendError | None = None
        sounds: list[Soundtrack] | None = [] if entry.audio and request.audio else None

        def made(first: LoadedPipeline | None) -> Iterator[Sequence[Frame]]:
            calls = len(plan.segments.frames)
            assert first is not None
            run = self._segments(first, entry, plan, request, reporter, cancelled, sounds=sounds)
            # Only the segments hold the pipeline, so a pair taking over can release it.
            first = None
            for segment in run:
                # Set with the last call's frames, not after them: retiming stops taking
                # frames once it has enough, so the stream may never be run to its end.
                if sounds is not None and len(sounds) == calls:
                    clip.sound = joined_sound(sounds, plan)
                yield segment

        try:
            segments = made(loaded)
            del loaded
            native = stitch(segments, plan.segments.overlap)
            timed = retime(native, plan.fps, plan.out_fps, plan.out_frames, plan.interpolation)
            for index, frame in enumerate(timed):
                if cancelled():
                    raise _cancelled()
                yield cover(frame, plan.out_width, plan.out_height) if plan.scales else frame
                reporter.frame(index + 1)
        except OpenReelError:
            free_memory(runtime, device)
            raise
        except Exception as exc:
            log.warning("local model %s failed", entry.id, exc_info=True)
            failure = self._failure(exc, entry, plan)
        finally:
            self._cache.done()
        if failure is not None:
            # Outside the except block, so the traceback (and the tensors its frames hold)
            # is gone before the memory is returned.
            free_memory(runtime, device)
            raise failure

    def _segments(
        self,
        loaded: LoadedPipeline,
        entry: ModelEntry,
        plan: RenderPlan,
        request: VideoRequest,
        reporter: _Progress,
        cancelled: CancelCheck,
        sounds: list[Soundtrack] | None = None,
    ) -> Iterator[Sequence[Frame]]:
        """Runs each planned pipeline call; later calls start from the previous frames, made
        by the entry's image-to-video pair when it has one (loaded through the cache, which
        releases the entry first). Each call's sound is appended to ``sounds`` when that is a
        list."""
        from PIL import Image

        previous: list[Frame] = []
        seed = request.seed or 0
        if request.operation == "edit" and request.source is not None:
            count = plan.segments.frames[0]  # check() allows one pass only
            source = source_frames(Path(request.source.path), plan.width, plan.height, count)
            yield self._call(
                loaded,
                entry,
                plan,
                request,
                count=count,
                seed=seed,
                image=None,
                video=[Image.fromarray(frame) for frame in source],
                reporter=reporter,
                cancelled=cancelled,
                sounds=sounds,
            )
            return
        last = len(plan.segments.frames) - 1
        for index, count in enumerate(plan.segments.frames):
            if cancelled():
                raise _cancelled()
            image = None
            if index == 0 and plan.first_frame == "input_reference":
                assert request.input_reference is not None
                image = decode_reference(request.input_reference, plan.width, plan.height)
            elif index == 0 and plan.first_frame == "sketch":
                image = sketch_first_frame(request, plan.width, plan.height)
            elif index > 0:
                # plan_segments makes several calls only for models that continue from frames.
                image = Image.fromarray(previous[-max(plan.segments.overlap, 1)])
                if index == 1 and plan.continued_with is not None:
                    pair = self._catalogue[plan.continued_with]
                    loaded, entry = self._cache.get(pair), pair
            end_image = None
            if index == last and plan.last_frame is not None and request.last_frame is not None:
                end_image = decode_reference(
                    request.last_frame, plan.width, plan.height, "last_frame"
                )
            frames = self._call(
                loaded,
                entry,
                plan,
                request,
                count=count,
                seed=(seed + index) % (MAX_SEED + 1),
                image=image,
                last_image=end_image,
                reporter=reporter,
                cancelled=cancelled,
                sounds=sounds,
            )
            previous = frames
            yield frames

    def _call(
        self,
        loaded: LoadedPipeline,
        entry: ModelEntry,
        plan: RenderPlan,
        request: VideoRequest,
        *,
        count: int,
        seed: int,
        image: Any,
        reporter: _Progress,
        cancelled: CancelCheck,
        video: list[Any] | None = None,
        last_image: Any = None,
        sounds: list[Soundtrack] | None = None,
    ) -> list[Frame]:
        """One pipeline call of ``count`` native frames (from ``video``'s, for an edit).

        With the model's upsampler the call is the family's documented two-stage path:
        latents out of the first pass, the latent x2 upsampler, then a short refine pass at
        twice the size (see :func:`upscale.refine`). LTX-2's pipelines return ``(video, audio)``:
        the sound is ``output.audio`` (a waveform tensor at the vocoder's rate), appended to
        ``sounds``.
        """
        image_class = entry.image_pipeline_class
        video_class = entry.video_pipeline_class
        two_stage = plan.upsample > 1 and entry.spec.refines
        if video is not None and video_class is not None:
            # Wan VACE edits with the very class it loaded; others build theirs alongside.
            same = video_class == entry.pipeline_class
            pipe = loaded.pipe if same else loaded.image_pipe(video_class)
        elif two_stage and entry.spec.refine_pipeline is not None:
            pipe = loaded.image_pipe(entry.spec.refine_pipeline)
        elif last_image is not None and entry.last_frame_by == "conditions":
            pipe = loaded.image_pipe(entry.spec.condition_pipeline or "")
        else:
            pipe = (
                loaded.pipe
                if image is None or image_class is None
                else loaded.image_pipe(image_class)
            )
        stopped = False

        def on_step_end(
            pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            nonlocal stopped
            reporter.step()
            if cancelled():
                stopped = True
                pipeline._interrupt = True
            return tensors

        torch = loaded.runtime.torch
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or entry.negative_prompt or None,
            "width": plan.width,
            "height": plan.height,
            "num_frames": count,
            # A pair continuing the clip runs at its own steps and guidance.
            "num_inference_steps": plan.steps if entry.id == plan.model else entry.steps,
            "guidance_scale": plan.guidance if entry.id == plan.model else entry.guidance,
            # A CPU generator draws the same noise whatever the device, so a seed means the
            # same clip on every machine of the same kind.
            "generator": torch.Generator("cpu").manual_seed(seed),
            "output_type": "latent" if two_stage else "np",
            "callback_on_step_end": on_step_end,
            "frame_rate": plan.fps,
            "fps": plan.fps,  # Stable Video Diffusion's micro-conditioning
            **entry.call,
        }
        if image is not None:
            kwargs["image"] = image
        if last_image is not None:
            _end_on(kwargs, pipe, entry.last_frame_by, image, last_image, count)
        if video is not None and video_class is not None:
            kwargs["video"] = video
            strength = entry.spec.strength_value(self._config.edit_strength)
            kwargs[entry.spec.video_strength] = strength
            if entry.spec.video_mask:
                from PIL import Image

                kwargs["mask"] = [Image.new("L", frame.size, 255) for frame in video]
        with library_warnings_to_log():
            output = pipe(**accepted(pipe, kwargs))
            if stopped:
                raise _cancelled()
            if two_stage:
                if cancelled():
                    raise _cancelled()
                output = refine(loaded, entry, plan, pipe, kwargs, output)
                if stopped:
                    raise _cancelled()
        frames = to_frames(output.frames, count)
        if sounds is not None:
            sounds.append(soundtrack_of_call(output, pipe, entry))
        if plan.upsample > 1 and not two_stage:
            if cancelled():
                raise _cancelled()
            frames = upsample_frames(loaded, entry, plan, frames, seed)
        return frames

    def _failure(self, exc: Exception, entry: ModelEntry, plan: RenderPlan) -> BackendError:
        """Our error for a pipeline's failure: a sentence, never a stack trace."""
        if _is_out_of_memory(exc):
            self._cache.release()
            return BackendError(
                f"model {entry.id} ran out of memory making {plan.width}x{plan.height} "
                f"segments of {max(plan.segments.frames)} frames; try a shorter or smaller "
                "clip, or a leaner memory profile (model_cpu_offload, group_offload, "
                "vae_tiling) in the catalogue",
                code="out_of_memory",
            )
        first = str(exc).strip().splitlines()
        detail = first[0][:200] if first else ""
        return BackendError(f"model {entry.id} failed: {type(exc).__name__}: {detail}")


def _end_on(
    kwargs: dict[str, Any], pipe: Any, how: str | None, first: Any, last: Any, count: int
) -> None:
    """Makes one call end on the image ``last``: Wan's ``last_image`` (FLF2V), or condition
    frames (LTX's ``LTXVideoCondition``, LTX-2's ``LTX2VideoCondition``) at index 0 when
    there is a first image and at the last frame."""
    if how == "last_image":
        kwargs["last_image"] = last
        return
    import sys

    module = sys.modules[type(pipe).__module__]
    if hasattr(module, "LTX2VideoCondition"):
        make = module.LTX2VideoCondition
        items = [make(frames=last, index=count - 1)]
        if first is not None:
            items.insert(0, make(frames=first, index=0))
    else:
        make = module.LTXVideoCondition
        items = [make(image=last, frame_index=count - 1)]
        if first is not None:
            items.insert(0, make(image=first, frame_index=0))
    kwargs.pop("image", None)
    kwargs["conditions"] = items
