"""GPU check: each family's pipeline at its real size, random weights, no download.

For the day a GPU machine is lent: one command, sized to finish within 8 minutes on one H100
(four steps of a 17-frame clip per run; not yet run on a GPU). For every family
below it builds the pipeline at the architecture sizes its makers published (written down in
:data:`REAL`, each with its source) with random weights straight on the GPU, then makes the
same short clip twice, side by side:

- **bare**: ``pipe(...)`` with the keyword arguments the backend would pass (size, frames,
  steps, guidance, seed, the catalogue's extra arguments), output as float arrays;
- **backend**: ``DiffusersBackend.generate`` on the catalogue entry (memory profile ``none``:
  all on the GPU), at the model's native size and rate, the built pipeline adopted as the
  warm one (``PipelineCache.adopt``).

It reports seconds per denoising step (from step-end callbacks in the bare run), the peak
GPU memory of each run, and the backend's overhead: its wall time beyond the bare call's, as a
share of the bare call (the goal is at most 3% at native size). Runs alternate ABBA after a
warm-up; medians are printed.

Text encoders are cut to one layer at their real width (the caption embedding the
transformer reads keeps its real size): a text encoder runs once per call, not per step, and
a 5-12B random encoder would cost minutes to build for nothing the per-step figure uses. The
clip is short (``FRAMES``) and the step count small (``STEPS``): the per-step time and the
overhead share are what is measured, not a full clip.

Run on the GPU machine: ``python benchmarks/gpu.py [--families ltx wan21 ...] [--runs 3]``.
On the CPU, ``--tiny`` runs the same code on tiny configs (what the test suite does).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

STEPS = 4
"""Denoising steps per run (the per-step time is what is compared)."""

FRAMES = 17
"""Native frames per run (valid for 8k+1 and 4k+1 families)."""

# Architecture sizes as published. Each value's source is the file named beside it.
REAL: dict[str, dict[str, Any]] = {
    # Lightricks/LTX-Video-0.9.7-distilled, transformer/config.json (13B): 48 layers of
    # 32 heads x 128, 128 latent channels, T5-XXL captions of 4096.
    "ltx": {
        "catalogue": "ltx-video-distilled",
        "transformer": dict(
            in_channels=128,
            out_channels=128,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=32,
            attention_head_dim=128,
            cross_attention_dim=4096,
            num_layers=48,
            caption_channels=4096,
        ),
        "vae": {},  # AutoencoderKLLTXVideo's defaults: the LTX-Video VAE (vae/config.json)
        "text_dim": 4096,  # google/t5-v1_1-xxl d_model
    },
    # Wan-AI/Wan2.1-T2V-1.3B-Diffusers, transformer/config.json: 30 layers of 12 heads x 128
    # (dim 1536), ffn 8960, 16 latent channels, UMT5-XXL text of 4096.
    "wan21": {
        "catalogue": "wan2.1-t2v-1.3b",
        "transformer": dict(
            patch_size=(1, 2, 2),
            num_attention_heads=12,
            attention_head_dim=128,
            in_channels=16,
            out_channels=16,
            text_dim=4096,
            freq_dim=256,
            ffn_dim=8960,
            num_layers=30,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
        ),
        "vae": {},  # AutoencoderKLWan's defaults: the Wan 2.1 VAE (vae/config.json)
        "text_dim": 4096,
    },
    # Wan-AI/Wan2.2-T2V-A14B-Diffusers, transformer/config.json and transformer_2 (each
    # 14B): 40 layers of 40 heads x 128 (dim 5120), ffn 13824; boundary_ratio 0.875
    # (model_index.json).
    "wan22_a14b": {
        "catalogue": "wan2.2-t2v-a14b",
        "transformer": dict(
            patch_size=(1, 2, 2),
            num_attention_heads=40,
            attention_head_dim=128,
            in_channels=16,
            out_channels=16,
            text_dim=4096,
            freq_dim=256,
            ffn_dim=13824,
            num_layers=40,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
        ),
        "two_experts": True,
        "vae": {},
        "text_dim": 4096,
    },
    # THUDM/CogVideoX-5b, transformer/config.json: 42 layers of 48 heads x 64, 16 latent
    # channels, rotary positions, T5-XXL text of 4096, sample 60x90 latents.
    "cogvideox": {
        "catalogue": "cogvideox-5b",
        "transformer": dict(
            num_attention_heads=48,
            attention_head_dim=64,
            in_channels=16,
            out_channels=16,
            text_embed_dim=4096,
            num_layers=42,
            use_rotary_positional_embeddings=True,
            sample_width=90,
            sample_height=60,
        ),
        "vae": {},  # AutoencoderKLCogVideoX's defaults (vae/config.json of CogVideoX)
        "text_dim": 4096,
    },
}

TINY: dict[str, dict[str, Any]] = {
    # The sizes of diffusers' own get_dummy_components (tests/support/tiny_diffusers.py).
    "ltx": {
        "catalogue": "ltx-video-distilled",
        "size": (32, 32),
        "transformer": dict(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=4,
            attention_head_dim=8,
            cross_attention_dim=32,
            num_layers=1,
            caption_channels=32,
        ),
        "vae": dict(
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, False, False),
            decoder_spatio_temporal_scaling=(True, True, False, False),
            decoder_inject_noise=(False, False, False, False, False),
            upsample_residual=(False, False, False, False),
            upsample_factor=(1, 1, 1, 1),
            timestep_conditioning=False,
        ),
        "text_dim": 32,
    },
    "wan21": {
        "catalogue": "wan2.1-t2v-1.3b",
        "size": (16, 16),
        "transformer": dict(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        ),
        "vae": dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1),
        "text_dim": 32,
    },
    "wan22_a14b": {
        "catalogue": "wan2.2-t2v-a14b",
        "size": (16, 16),
        "transformer": dict(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        ),
        "two_experts": True,
        "vae": dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1),
        "text_dim": 32,
    },
}


@contextmanager
def _built_on(device: str, dtype: Any) -> Iterator[None]:
    """Parameters created directly on ``device`` in ``dtype`` (a 14B model never exists in
    float32 on the host)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(previous)


def _text_encoder(width: int, cls_name: str) -> Any:
    """A one-layer T5-family encoder at the real width over ByT5's 384 byte tokens."""
    import transformers

    config_cls = getattr(transformers, cls_name.replace("EncoderModel", "Config"))
    heads = max(1, width // 64)
    config = config_cls(
        vocab_size=384,
        d_model=width,
        d_ff=width * 5 // 2 if width > 64 else 37,
        d_kv=64 if width > 64 else 8,
        num_layers=1 if width > 64 else 2,
        num_heads=heads if width > 64 else 4,
        relative_attention_num_buckets=32 if width > 64 else 8,
    )
    return getattr(transformers, cls_name)(config).eval()


def build_pipeline(family: str, spec: dict[str, Any], device: str, dtype: Any) -> Any:
    """The family's pipeline with random weights at ``spec``'s sizes, on ``device``."""
    import diffusers
    from transformers import ByT5Tokenizer

    with _built_on(device, dtype):
        if family == "ltx":
            return diffusers.LTXConditionPipeline(
                transformer=diffusers.LTXVideoTransformer3DModel(**spec["transformer"]),
                vae=diffusers.AutoencoderKLLTXVideo(**spec["vae"]),
                scheduler=diffusers.FlowMatchEulerDiscreteScheduler(),
                text_encoder=_text_encoder(spec["text_dim"], "T5EncoderModel"),
                tokenizer=ByT5Tokenizer(),
            )
        if family in ("wan21", "wan22_a14b"):
            second = (
                diffusers.WanTransformer3DModel(**spec["transformer"])
                if spec.get("two_experts")
                else None
            )
            return diffusers.WanPipeline(
                transformer=diffusers.WanTransformer3DModel(**spec["transformer"]),
                transformer_2=second,
                boundary_ratio=0.875 if second is not None else None,
                vae=diffusers.AutoencoderKLWan(**spec["vae"]),
                scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=5.0),
                text_encoder=_text_encoder(spec["text_dim"], "UMT5EncoderModel"),
                tokenizer=ByT5Tokenizer(),
            )
        if family == "cogvideox":
            return diffusers.CogVideoXPipeline(
                transformer=diffusers.CogVideoXTransformer3DModel(**spec["transformer"]),
                vae=diffusers.AutoencoderKLCogVideoX(**spec["vae"]),
                scheduler=diffusers.CogVideoXDPMScheduler(timestep_spacing="trailing"),
                text_encoder=_text_encoder(spec["text_dim"], "T5EncoderModel"),
                tokenizer=ByT5Tokenizer(),
            )
    raise ValueError(f"unknown family {family!r}")


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run: wall seconds, peak GPU bytes (0 on the CPU), seconds per step."""

    wall: float
    peak: int
    per_step: float


@dataclass(frozen=True, slots=True)
class Result:
    """A family's side-by-side figures (medians)."""

    family: str
    size: str
    frames: int
    bare: Run
    backend: Run

    @property
    def overhead(self) -> float:
        """The backend's time beyond the bare call, as a share of the bare call."""
        return (self.backend.wall - self.bare.wall) / self.bare.wall

    def line(self) -> str:
        """One row of the report."""
        gib = 1024**3
        return (
            f"{self.family:<11} {self.size:>9} {self.frames:>3}f  "
            f"step {self.bare.per_step:7.3f}s  bare {self.bare.wall:7.2f}s  "
            f"backend {self.backend.wall:7.2f}s  overhead {self.overhead * 100:+6.2f}%  "
            f"peak {self.bare.peak / gib:6.1f} / {self.backend.peak / gib:6.1f} GiB"
        )


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _measured(device: str, fn: Callable[[], Any], stamps: list[float], steps: int) -> Run:
    import torch

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stamps.clear()
    _sync(device)
    started = time.perf_counter()
    fn()
    _sync(device)
    wall = time.perf_counter() - started
    peak = int(torch.cuda.max_memory_allocated()) if device == "cuda" else 0
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return Run(wall, peak, statistics.median(gaps) if gaps else wall / steps)


def measure_family(
    family: str,
    *,
    tiny: bool = False,
    runs: int = 3,
    device: str | None = None,
    steps: int = STEPS,
    frames: int = FRAMES,
) -> Result:
    """Builds ``family``'s pipeline and times bare ``pipe(...)`` and the backend, ABBA."""
    import torch

    from openreel.backends.diffusers.backend import DiffusersBackend, _accepted
    from openreel.backends.diffusers.catalogue import Catalogue, load_catalogue
    from openreel.config import LocalConfig
    from openreel.domain import VideoRequest

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    spec = (TINY if tiny else REAL)[family]
    shipped = load_catalogue().get(spec["catalogue"])
    assert shipped is not None
    dtype = torch.float32 if device == "cpu" else getattr(torch, shipped.dtype)
    width, height = spec.get("size", (shipped.width, shipped.height))
    call = dict(shipped.call)
    if tiny:
        call["max_sequence_length"] = 16
    entry = replace(
        shipped,
        source=f"benchmark:{family}",
        memory=("none",),
        dtype="float32" if device == "cpu" else shipped.dtype,
        dtypes={},
        steps=steps,
        width=width,
        height=height,
        multiple=0,
        upsampler=None,
        call={k: v for k, v in call.items() if k != "timesteps"},
        min_vram_gb=0.0,
    )
    pipe = build_pipeline(family, spec, device, dtype)
    backend = DiffusersBackend(Catalogue((entry,), "benchmark"), LocalConfig(device=device))
    backend.cache.adopt(entry, pipe)
    seconds = (frames - 1) / entry.fps
    request = VideoRequest(
        prompt="a red kite over a windy beach at dusk",
        seconds=seconds,
        # Requests are at least 64 pixels a side; tiny models make less and are scaled up.
        width=max(width, 64),
        height=max(height, 64),
        fps=entry.fps,
        seed=7,
        model=entry.id,
    )
    plan = backend.plan(request)
    assert plan.segments.frames == (frames,), plan.segments
    stamps: list[float] = []

    def stamp(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        _sync(device)
        stamps.append(time.perf_counter())
        return tensors

    def bare() -> Any:
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": entry.negative_prompt or None,
            "width": plan.width,
            "height": plan.height,
            "num_frames": frames,
            "num_inference_steps": steps,
            "guidance_scale": plan.guidance,
            "generator": torch.Generator("cpu").manual_seed(7),
            "output_type": "np",
            "callback_on_step_end": stamp,
            "frame_rate": plan.fps,
            **entry.call,
        }
        return pipe(**_accepted(pipe, kwargs))

    def through_backend() -> Any:
        return list(backend.generate(request))

    bare(), through_backend()  # warm-up: kernels, allocator
    bare_runs: list[Run] = []
    backend_runs: list[Run] = []
    for index in range(runs):
        for side in "ab" if index % 2 == 0 else "ba":
            if side == "a":
                bare_runs.append(_measured(device, bare, stamps, steps))
            else:
                backend_runs.append(_measured(device, through_backend, [], steps))
    backend.cache.release()  # the adopted pipeline's memory, before the next family
    return Result(
        family=family,
        size=f"{plan.width}x{plan.height}",
        frames=frames,
        bare=_median(bare_runs),
        backend=_median(backend_runs),
    )


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        max(r.peak for r in runs),
        statistics.median(r.per_step for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", nargs="*", default=list(REAL))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="tiny configs (CPU check)")
    args = parser.parse_args()

    import os
    import platform

    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu"
    print(f"# {name}, torch {torch.__version__}, {STEPS} steps, {FRAMES} frames, {args.runs} runs")
    families = [f for f in args.families if f in (TINY if args.tiny else REAL)]
    for family in families:
        started = time.perf_counter()
        result = measure_family(family, tiny=args.tiny, runs=args.runs, device=device)
        print(result.line(), f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
