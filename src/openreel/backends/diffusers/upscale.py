"""A family's own x2 upsampler: over the first pass's latents then a short refine pass (LTX
0.9.x and LTX-2, each as diffusers documents it), or over finished frames where a family's
upsampler has no refine pass."""

from __future__ import annotations

from typing import Any

import numpy as np

from openreel.backends.base import Frame
from openreel.backends.diffusers.calls import accepted, library_warnings_to_log
from openreel.backends.diffusers.catalogue import ModelEntry
from openreel.backends.diffusers.loader import LoadedPipeline
from openreel.backends.diffusers.outputs import to_frames
from openreel.backends.diffusers.plan import RenderPlan

__all__ = ["refine", "upsample_frames"]


def refine(
    loaded: LoadedPipeline,
    entry: ModelEntry,
    plan: RenderPlan,
    pipe: Any,
    first: dict[str, Any],
    output: Any,
) -> Any:
    """The upsampler over the first pass's latents, then a short refine at twice the size.

    LTX 0.9.x (diffusers docs ltx_video): ``adain_factor=1.0``, then the condition
    pipeline with ``denoise_strength`` and the refine schedule, its generator seeded
    again. LTX-2 (diffusers docs ltx2, "Two-stages Generation"): the upsampler over the
    denormalised latents (``latents_normalized=False``), then the first pass's own
    pipeline with the upsampled video latents, the first pass's audio latents (so the
    sound is refined with the picture and lasts as long), the catalogue's ``refine``
    (the stage-2 sigmas, ``noise_scale`` of the first of them, guidance 1.0) and the
    same generator, threaded through both stages; the full model runs this pass
    through its distilled LoRA.
    """
    upsampler = loaded.upsampler(entry)
    if entry.spec.refine_in_place:
        upscaled = upsampler(
            latents=output.frames,
            latents_normalized=False,
            output_type="latent",
            return_dict=True,
        ).frames
        second = dict(first)
        second.pop("conditions", None)  # the docs' stage 2 takes the latents alone
        second.update(
            width=plan.width * 2,
            height=plan.height * 2,
            latents=upscaled,
            audio_latents=output.audio,
            output_type="np",
            **entry.refine,
        )
        with loaded.refine_adapter(entry, pipe):
            return pipe(**accepted(pipe, second))
    latents = output.frames
    upscaled = upsampler(
        latents=latents, adain_factor=1.0, output_type="latent", return_dict=True
    ).frames
    kwargs = dict(first)
    kwargs.pop("timesteps", None)
    kwargs.update(
        width=plan.width * 2,
        height=plan.height * 2,
        latents=upscaled,
        output_type="np",
        generator=loaded.runtime.torch.Generator("cpu").manual_seed(
            int(first["generator"].initial_seed())
        ),
        **entry.refine,
    )
    return pipe(**accepted(pipe, kwargs))


def upsample_frames(
    loaded: LoadedPipeline,
    entry: ModelEntry,
    plan: RenderPlan,
    frames: list[Frame],
    seed: int,
) -> list[Frame]:
    """Doubles each side of one segment through a family's upsampler that has no refine
    pipeline: the frames go in as floats in [0, 1] (the video processor does not scale
    numpy input)."""
    upsampler = loaded.upsampler(entry)
    kwargs: dict[str, Any] = {
        "video": [frame.astype(np.float32) / 255.0 for frame in frames],
        "height": plan.height,
        "width": plan.width,
        "num_frames": len(frames),
        "generator": loaded.runtime.torch.Generator("cpu").manual_seed(seed),
        "output_type": "np",
        **entry.call,
    }
    with library_warnings_to_log():
        output = upsampler(**accepted(upsampler, kwargs))
    return to_frames(output.frames, len(frames))
