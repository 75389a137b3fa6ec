"""benchmarks/gpu.py's own functions, on the CPU at tiny size (the GPU run is its script and
``RUN_GPU=1 pytest -m gpu``): the same code builds each family's pipeline from a config,
adopts it into the backend and times both sides."""

from __future__ import annotations

import pytest
from benchmarks import gpu


# diffusers' LTXConditionPipeline hands the scheduler its timesteps as a torch tensor, which
# numpy 2 converts with this notice; it is diffusers' own, and harmless.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_gpu_benchmark_builds_times_and_reports_at_tiny_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    result = gpu.measure_family("ltx", tiny=True, runs=1, device="cpu", steps=2, frames=9)
    assert result.family == "ltx"
    assert result.size == "32x32"
    assert result.frames == 9
    assert result.bare.wall > 0
    assert result.backend.wall > 0
    assert 0 < result.bare.per_step < result.bare.wall
    assert result.bare.peak == result.backend.peak == 0  # no GPU memory on the CPU
    assert "overhead" in result.line()
    assert "ltx" in result.line()
    # Every family the GPU run measures is also described at tiny size.
    assert set(gpu.TINY) <= set(gpu.REAL)


def test_gpu_benchmark_real_sizes_are_the_published_ones() -> None:
    """The figures written down in the script, against the parameter counts the makers
    publish (13B LTX 0.9.7, 1.3B Wan 2.1, 14B per Wan 2.2 A14B expert, 5B CogVideoX)."""
    ltx = gpu.REAL["ltx"]["transformer"]
    assert ltx["num_layers"] * ltx["num_attention_heads"] * ltx["attention_head_dim"] == 48 * 4096
    wan = gpu.REAL["wan21"]["transformer"]
    assert wan["num_attention_heads"] * wan["attention_head_dim"] == 1536
    a14b = gpu.REAL["wan22_a14b"]["transformer"]
    assert a14b["num_attention_heads"] * a14b["attention_head_dim"] == 5120
    assert gpu.REAL["wan22_a14b"]["two_experts"] is True
