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

It reports seconds per denoising step (the time between scheduler steps in the bare run),
the peak GPU memory of each run, and the backend's overhead: its wall time beyond the bare call's, as a
share of the bare call (the goal is at most 3% at native size). Runs alternate ABBA after a
warm-up; medians are printed.

Text encoders are cut to their first layer or two at their real width, heads and
feed-forward size (the caption embedding the transformer reads keeps its real size) over
small in-memory vocabularies: a text encoder runs once per call, not per step, and a 5-12B
random encoder would cost minutes to build for nothing the per-step figure uses. Each
component is built in the dtype the catalogue loads it in (Wan's VAE in float32). The clip
is short (``FRAMES``) and the step count small (``STEPS``): the per-step time and the
overhead share are what is measured, not a full clip.

Families not built here yet: LTX-2 (video, audio VAE, vocoder and Gemma 3 connectors),
HunyuanVideo 13B (Llama and CLIP encoders with their prompt template), Stable Video
Diffusion and Wan 2.2 TI2V 5B; their catalogue entries are checked on tiny pipelines only.

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
sys.path.insert(0, str(ROOT))  # the tiny sizes and the in-memory tokenizer live with the tests

from tests.support import tiny_diffusers as tiny  # noqa: E402

STEPS = 4
"""Denoising steps per run (the per-step time is what is compared)."""

FRAMES = 17
"""Native frames per run (valid for 8k+1 and 4k+1 families)."""

# Architecture sizes as published: each family's comment names the file every number comes
# from. "convert_*" is diffusers' scripts/convert_*_to_diffusers.py (huggingface/diffusers
# @58eb52c), the script that wrote the repos' config.json files from the makers' checkpoints;
# a constructor's defaults are cited where the script builds the component with none. Text
# encoders keep their real width, heads and feed-forward size but only their first layers
# (``num_layers``), over ByT5's 384 byte tokens (the module docstring says why); their
# config.json values (google/t5-v1_1-xxl, google/umt5-xxl, google/byt5-small,
# Qwen/Qwen2.5-VL-7B-Instruct: the repos the scripts load) were read where public code quotes
# those files whole, the hub itself being out of reach when this was written.
REAL: dict[str, dict[str, Any]] = {
    # LTX-Video 0.9.7 (13B): convert_ltx_to_diffusers.py get_transformer_config("0.9.7") and
    # get_vae_config("0.9.7") (the 0.9.5-style VAE: 32x spatial, 8x temporal, timestep-
    # conditioned decoder); scheduler FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=
    # False) for 0.9.5 and 0.9.7 (same script). Text: google/t5-v1_1-xxl config.json (the
    # script's text_encoder_id): d_model 4096, d_ff 10240, d_kv 64, 64 heads, 24 layers.
    "ltx": {
        "catalogue": "ltx-video-distilled",
        "transformer": {
            "in_channels": 128,
            "out_channels": 128,
            "patch_size": 1,
            "patch_size_t": 1,
            "num_attention_heads": 32,
            "attention_head_dim": 128,
            "cross_attention_dim": 4096,
            "num_layers": 48,
            "activation_fn": "gelu-approximate",
            "qk_norm": "rms_norm_across_heads",
            "norm_elementwise_affine": False,
            "norm_eps": 1e-6,
            "caption_channels": 4096,
            "attention_bias": True,
            "attention_out_bias": True,
        },
        "vae": {
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 128,
            "block_out_channels": (128, 256, 512, 1024, 2048),
            "down_block_types": ("LTXVideo095DownBlock3D",) * 4,
            "decoder_block_out_channels": (256, 512, 1024),
            "layers_per_block": (4, 6, 6, 2, 2),
            "decoder_layers_per_block": (5, 5, 5, 5),
            "spatio_temporal_scaling": (True, True, True, True),
            "decoder_spatio_temporal_scaling": (True, True, True),
            "decoder_inject_noise": (False, False, False, False),
            "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
            "upsample_residual": (True, True, True),
            "upsample_factor": (2, 2, 2),
            "timestep_conditioning": True,
            "patch_size": 4,
            "patch_size_t": 1,
            "resnet_norm_eps": 1e-6,
            "scaling_factor": 1.0,
            "encoder_causal": True,
            "decoder_causal": False,
            "spatial_compression_ratio": 32,
            "temporal_compression_ratio": 8,
        },
        "text": {
            "d_model": 4096,
            "d_ff": 10240,
            "d_kv": 64,
            "num_heads": 64,
            "num_layers": 1,
            "relative_attention_num_buckets": 32,
        },
    },
    # Wan 2.1 T2V 1.3B: convert_wan_to_diffusers.py, model_type "Wan-T2V-1.3B"; its VAE is
    # AutoencoderKLWan() with the constructor's defaults (the script's convert_vae); scheduler
    # UniPCMultistepScheduler(flow_prediction, use_flow_sigmas, flow_shift 3.0) (same script,
    # T2V). Text: google/umt5-xxl config.json (the script's text encoder): d_model 4096,
    # d_ff 10240, d_kv 64, 64 heads, 24 layers.
    "wan21": {
        "catalogue": "wan2.1-t2v-1.3b",
        "transformer": {
            "patch_size": (1, 2, 2),
            "num_attention_heads": 12,
            "attention_head_dim": 128,
            "in_channels": 16,
            "out_channels": 16,
            "text_dim": 4096,
            "freq_dim": 256,
            "ffn_dim": 8960,
            "num_layers": 30,
            "cross_attn_norm": True,
            "qk_norm": "rms_norm_across_heads",
            "eps": 1e-6,
            "added_kv_proj_dim": None,
        },
        "vae": {},
        "text": {
            "d_model": 4096,
            "d_ff": 10240,
            "d_kv": 64,
            "num_heads": 64,
            "num_layers": 1,
            "relative_attention_num_buckets": 32,
        },
    },
    # Wan 2.2 T2V A14B: convert_wan_to_diffusers.py, model_type "Wan2.2-T2V-A14B" (both
    # experts the same shape), boundary_ratio 0.875, the Wan 2.1 VAE and UMT5-XXL, flow_shift
    # 3.0 (same script).
    "wan22_a14b": {
        "catalogue": "wan2.2-t2v-a14b",
        "transformer": {
            "patch_size": (1, 2, 2),
            "num_attention_heads": 40,
            "attention_head_dim": 128,
            "in_channels": 16,
            "out_channels": 16,
            "text_dim": 4096,
            "freq_dim": 256,
            "ffn_dim": 13824,
            "num_layers": 40,
            "cross_attn_norm": True,
            "qk_norm": "rms_norm_across_heads",
            "eps": 1e-6,
            "added_kv_proj_dim": None,
        },
        "two_experts": True,
        "vae": {},
        "text": {
            "d_model": 4096,
            "d_ff": 10240,
            "d_kv": 64,
            "num_heads": 64,
            "num_layers": 1,
            "relative_attention_num_buckets": 32,
        },
    },
    # CogVideoX-5B: convert_cogvideox_to_diffusers.py get_transformer_init_kwargs("1.0")
    # (patch 2, sample 480/8 x 720/8, 49 frames) and its argument notes for 5B (42 layers,
    # 48 heads, rotary positions, VAE scaling_factor 0.7); attention_head_dim 64 and
    # text_embed_dim 4096 are CogVideoXTransformer3DModel's defaults (the script passes
    # neither); the VAE is AutoencoderKLCogVideoX's defaults plus that scaling factor. Text:
    # google/t5-v1_1-xxl (the script's text_encoder_id), as for LTX.
    "cogvideox": {
        "catalogue": "cogvideox-5b",
        "transformer": {
            "num_attention_heads": 48,
            "attention_head_dim": 64,
            "in_channels": 16,
            "out_channels": 16,
            "text_embed_dim": 4096,
            "num_layers": 42,
            "use_rotary_positional_embeddings": True,
            "patch_size": 2,
            "patch_size_t": None,
            "patch_bias": True,
            "sample_width": 90,
            "sample_height": 60,
            "sample_frames": 49,
        },
        "vae": {"scaling_factor": 0.7},
        "text": {
            "d_model": 4096,
            "d_ff": 10240,
            "d_kv": 64,
            "num_heads": 64,
            "num_layers": 1,
            "relative_attention_num_buckets": 32,
        },
    },
    # HunyuanVideo 1.5 480p T2V (8.3B): convert_hunyuan_video1_5_to_diffusers.py builds the
    # transformer as HunyuanVideo15Transformer3DModel(target_size=640) (TRANSFORMER_CONFIGS;
    # every other size is the constructor's default: 54 layers of 16 heads x 128, 65 in /
    # 32 out channels, text widths 3584 and 1472, image width 1152), the VAE as
    # AutoencoderKLHunyuanVideo15() (defaults: 32 latent channels, x16 spatial, x4 temporal),
    # the scheduler with shift 5.0 (SCHEDULER_CONFIGS) and the guider with scale 6.0
    # (GUIDANCE_CONFIGS). Text: Qwen/Qwen2.5-VL-7B-Instruct's text model (the script's
    # load_mllm): hidden 3584, 28 heads (4 key/value), intermediate 18944, 28 layers, mrope
    # sections (16, 24, 24); glyphs: google/byt5-small's encoder (the script's load_byt5):
    # d_model 1472, d_ff 3584, d_kv 64, 6 heads, 12 layers. The pipeline reads the Qwen
    # model's third-last hidden state, so two layers are kept.
    "hunyuan15": {
        "catalogue": "hunyuanvideo-1.5-480p",
        "transformer": {"target_size": 640, "task_type": "t2v"},
        "vae": {},
        "text": {
            "hidden_size": 3584,
            "intermediate_size": 18944,
            "num_hidden_layers": 2,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default"},
            "rope_theta": 1000000.0,
        },
        "glyph": {
            "d_model": 1472,
            "d_ff": 3584,
            "d_kv": 64,
            "num_heads": 6,
            "num_layers": 1,
            "relative_attention_num_buckets": 32,
        },
    },
}

TINY: dict[str, dict[str, Any]] = {
    # The sizes tests/support/tiny_diffusers.py builds the test suite's pipelines from
    # (diffusers' own get_dummy_components).
    "ltx": {
        "catalogue": "ltx-video-distilled",
        "size": (32, 32),
        "transformer": tiny.LTX_TRANSFORMER_TINY,
        "vae": tiny.LTX_VAE_TINY,
        "text": tiny.T5_TINY,
    },
    "wan21": {
        "catalogue": "wan2.1-t2v-1.3b",
        "size": (16, 16),
        "transformer": tiny.WAN_TRANSFORMER_TINY,
        "vae": tiny.WAN_VAE_TINY,
        "text": tiny.T5_TINY,
    },
    "wan22_a14b": {
        "catalogue": "wan2.2-t2v-a14b",
        "size": (16, 16),
        "transformer": tiny.WAN_TRANSFORMER_TINY,
        "two_experts": True,
        "vae": tiny.WAN_VAE_TINY,
        "text": tiny.T5_TINY,
    },
    "hunyuan15": {
        "catalogue": "hunyuanvideo-1.5-480p",
        "size": (48, 32),
        "transformer": tiny.HUNYUAN15_TRANSFORMER_TINY,
        "vae": tiny.HUNYUAN15_VAE_TINY,
        "text": tiny.QWEN25VL_TEXT_TINY,
        "glyph": tiny.T5_TINY,
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


def build_pipeline(
    family: str,
    spec: dict[str, Any],
    device: str,
    dtype: Any,
    dtypes: dict[str, Any] | None = None,
    guidance: float = 1.0,
) -> Any:
    """The family's pipeline with random weights at ``spec``'s sizes, on ``device``: each
    component in its ``dtypes`` entry (as the catalogue loads it), else ``dtype``.
    ``guidance`` is for pipelines that keep the scale in a guider component."""
    import diffusers
    import transformers
    from transformers import ByT5Tokenizer

    def made(component: str, build: Callable[[], Any]) -> Any:
        with _built_on(device, (dtypes or {}).get(component, dtype)):
            return build()

    def t5(cls: str, sizes: dict[str, Any]) -> Any:
        config = getattr(transformers, cls.replace("EncoderModel", "Config"))
        return getattr(transformers, cls)(config(**(sizes | {"vocab_size": 384}))).eval()

    text = spec["text"]
    if family == "ltx":
        return diffusers.LTXConditionPipeline(
            transformer=made(
                "transformer", lambda: diffusers.LTXVideoTransformer3DModel(**spec["transformer"])
            ),
            vae=made("vae", lambda: diffusers.AutoencoderKLLTXVideo(**spec["vae"])),
            scheduler=diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False),
            text_encoder=made("text_encoder", lambda: t5("T5EncoderModel", text)),
            tokenizer=ByT5Tokenizer(),
        )
    if family in ("wan21", "wan22_a14b"):

        def expert() -> Any:
            return diffusers.WanTransformer3DModel(**spec["transformer"])

        second = made("transformer_2", expert) if spec.get("two_experts") else None
        return diffusers.WanPipeline(
            transformer=made("transformer", expert),
            transformer_2=second,
            boundary_ratio=0.875 if second is not None else None,
            vae=made("vae", lambda: diffusers.AutoencoderKLWan(**spec["vae"])),
            scheduler=diffusers.UniPCMultistepScheduler(
                prediction_type="flow_prediction",
                use_flow_sigmas=True,
                num_train_timesteps=1000,
                flow_shift=3.0,
            ),
            text_encoder=made("text_encoder", lambda: t5("UMT5EncoderModel", text)),
            tokenizer=ByT5Tokenizer(),
        )
    if family == "cogvideox":
        return diffusers.CogVideoXPipeline(
            transformer=made(
                "transformer", lambda: diffusers.CogVideoXTransformer3DModel(**spec["transformer"])
            ),
            vae=made("vae", lambda: diffusers.AutoencoderKLCogVideoX(**spec["vae"])),
            scheduler=diffusers.CogVideoXDPMScheduler(timestep_spacing="trailing"),
            text_encoder=made("text_encoder", lambda: t5("T5EncoderModel", text)),
            tokenizer=ByT5Tokenizer(),
        )
    if family == "hunyuan15":
        from diffusers.guiders import ClassifierFreeGuidance

        tokenizer: Any = tiny.qwen2_tokenizer()
        qwen = transformers.Qwen2_5_VLTextConfig(
            vocab_size=len(tokenizer), **tiny.QWEN_SPECIAL_IDS, **text
        )
        return diffusers.HunyuanVideo15Pipeline(
            transformer=made(
                "transformer",
                lambda: diffusers.HunyuanVideo15Transformer3DModel(**spec["transformer"]),
            ),
            vae=made("vae", lambda: diffusers.AutoencoderKLHunyuanVideo15(**spec["vae"])),
            scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=5.0),
            text_encoder=made(
                "text_encoder", lambda: transformers.Qwen2_5_VLTextModel(qwen).eval()
            ),
            tokenizer=tokenizer,
            text_encoder_2=made("text_encoder_2", lambda: t5("T5EncoderModel", spec["glyph"])),
            tokenizer_2=ByT5Tokenizer(),
            guider=ClassifierFreeGuidance(guidance_scale=guidance),
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


def _stamp_steps(pipe: Any, device: str, stamps: list[float]) -> None:
    """Appends the time of every scheduler step to ``stamps`` (after a device sync): one
    step per denoising step in every family, with or without step-end callbacks
    (HunyuanVideo 1.5's pipeline has none). Both sides of the comparison pay for it."""
    step = pipe.scheduler.step

    def stamped(*args: Any, **kwargs: Any) -> Any:
        result = step(*args, **kwargs)
        _sync(device)
        stamps.append(time.perf_counter())
        return result

    pipe.scheduler.step = stamped


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

    from openreel.backends.diffusers.backend import DiffusersBackend
    from openreel.backends.diffusers.calls import accepted
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
    dtypes = {} if device == "cpu" else {k: getattr(torch, v) for k, v in shipped.dtypes.items()}
    pipe = build_pipeline(family, spec, device, dtype, dtypes, guidance=shipped.guidance)
    stamps: list[float] = []
    _stamp_steps(pipe, device, stamps)
    backend = DiffusersBackend(Catalogue((entry,), "benchmark"), LocalConfig(device=device))
    backend.cache.adopt(entry, pipe)
    seconds = (frames - 1) / entry.fps
    # Requests are at least 64 pixels a side: tiny models make less (same aspect) and their
    # frames are scaled up.
    scale = max(1, -(-64 // min(width, height)))
    request = VideoRequest(
        prompt="a red kite over a windy beach at dusk",
        seconds=seconds,
        width=width * scale,
        height=height * scale,
        fps=entry.fps,
        seed=7,
        model=entry.id,
    )
    plan = backend.plan(request)
    assert plan.segments.frames == (frames,), plan.segments
    assert (plan.width, plan.height) == (width, height), plan

    def step_end(
        pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        return tensors  # the backend passes its own (progress and cancel): so does bare

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
            "callback_on_step_end": step_end,
            "frame_rate": plan.fps,
            **entry.call,
        }
        return pipe(**accepted(pipe, kwargs))

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
                backend_runs.append(_measured(device, through_backend, stamps, steps))
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
