"""benchmarks/gpu.py's own functions, on the CPU at tiny size (the GPU run is its script and
``RUN_GPU=1 pytest -m gpu``): the same code builds each family's pipeline from a config,
adopts it into the backend and times both sides."""

from __future__ import annotations

import pytest
from benchmarks import gpu


# diffusers' LTXConditionPipeline hands the scheduler its timesteps as a torch tensor, which
# numpy 2 converts with this notice; it is diffusers' own, and harmless.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
@pytest.mark.parametrize(("family", "size"), [("ltx", "32x32"), ("hunyuan15", "48x32")])
def test_gpu_benchmark_builds_times_and_reports_at_tiny_size(
    monkeypatch: pytest.MonkeyPatch, family: str, size: str
) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    result = gpu.measure_family(family, tiny=True, runs=1, device="cpu", steps=2, frames=9)
    assert result.family == family
    assert result.size == size
    assert result.frames == 9
    assert result.bare.wall > 0
    assert result.backend.wall > 0
    assert 0 < result.bare.per_step < result.bare.wall
    assert result.bare.peak == result.backend.peak == 0  # no GPU memory on the CPU
    assert "overhead" in result.line()
    assert family in result.line()


# The transformer sizes the makers publish, in billions of parameters: LTX-Video 0.9.7 13B
# (Lightricks/LTX-Video README), Wan 2.1 T2V 1.3B and Wan 2.2 A14B 14B per expert (Wan READMEs),
# CogVideoX-5B (THUDM/CogVideo README), HunyuanVideo 1.5 8.3B (HunyuanVideo-1.5 README).
PUBLISHED = {"ltx": 13.0, "wan21": 1.3, "wan22_a14b": 14.0, "cogvideox": 5.0, "hunyuan15": 8.3}
TRANSFORMERS = {
    "ltx": "LTXVideoTransformer3DModel",
    "wan21": "WanTransformer3DModel",
    "wan22_a14b": "WanTransformer3DModel",
    "cogvideox": "CogVideoXTransformer3DModel",
    "hunyuan15": "HunyuanVideo15Transformer3DModel",
}


@pytest.mark.parametrize("family", sorted(PUBLISHED))
def test_gpu_benchmark_real_sizes_make_the_published_parameter_counts(family: str) -> None:
    """The sizes written down in the script, built on torch's meta device (no memory), have
    the parameter counts the makers publish (to their rounding: 15%)."""
    import diffusers
    import torch

    with torch.device("meta"):
        model = getattr(diffusers, TRANSFORMERS[family])(**gpu.REAL[family]["transformer"])
    billions = sum(p.numel() for p in model.parameters()) / 1e9
    assert abs(billions / PUBLISHED[family] - 1) < 0.15, billions
    assert gpu.REAL[family]["catalogue"] == gpu.TINY.get(family, gpu.REAL[family])["catalogue"]


def test_gpu_benchmark_describes_every_family_at_tiny_size_too() -> None:
    assert set(gpu.TINY) <= set(gpu.REAL)
    assert gpu.REAL["wan22_a14b"]["two_experts"] is True
    # The text encoders keep their real width: the transformer reads it.
    assert gpu.REAL["ltx"]["text"]["d_model"] == gpu.REAL["ltx"]["transformer"]["caption_channels"]
    assert gpu.REAL["wan21"]["text"]["d_model"] == gpu.REAL["wan21"]["transformer"]["text_dim"]
    assert gpu.REAL["hunyuan15"]["text"]["hidden_size"] == 3584  # the constructor's default
    assert gpu.REAL["hunyuan15"]["glyph"]["d_model"] == 1472
