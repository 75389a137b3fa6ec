"""GPU-only checks of the local backend (``RUN_GPU=1 pytest -m gpu``; deselected otherwise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.support.tiny_diffusers import TINY_LTX, TINY_WAN

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.providers import build_registry
from openreel.config import LocalConfig, Settings
from openreel.domain import VideoRequest
from openreel.errors import BackendError

pytestmark = pytest.mark.gpu


def _cuda_backend(tiny_catalogue: Path, model: str) -> DiffusersBackend:
    local = LocalConfig(catalogue=tiny_catalogue, device="cuda")
    backend = build_registry(Settings(local=local)).for_model(model)
    assert isinstance(backend, DiffusersBackend)
    return backend


def _request(model: str, seed: int = 3) -> VideoRequest:
    return VideoRequest(
        prompt="a kite", seconds=1.0, width=128, height=72, fps=8, seed=seed, model=model
    )


@pytest.mark.parametrize("model", [TINY_LTX, TINY_WAN])
def test_gpu_same_seed_same_frames_on_cuda(tiny_catalogue: Path, model: str) -> None:
    backend = _cuda_backend(tiny_catalogue, model)
    loaded_device = None
    a = list(backend.generate(_request(model)))
    loaded = backend.cache.loaded
    assert loaded is not None
    loaded_device = loaded.device
    b = list(backend.generate(_request(model)))
    c = list(backend.generate(_request(model, seed=4)))
    assert loaded_device == "cuda"
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_gpu_memory_is_returned_after_a_failure_and_a_release(
    tiny_catalogue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers
    import torch

    torch.cuda.empty_cache()
    baseline = torch.cuda.memory_allocated()
    backend = _cuda_backend(tiny_catalogue, TINY_WAN)
    list(backend.generate(_request(TINY_WAN)))
    assert torch.cuda.memory_allocated() > baseline  # the warm model

    original = diffusers.WanPipeline.__call__

    def fail_after_denoising(self: object, *args: object, **kwargs: object) -> object:
        original(self, *args, **kwargs)
        raise RuntimeError("CUDA out of memory. Tried to allocate 80.00 GiB")

    monkeypatch.setattr(diffusers.WanPipeline, "__call__", fail_after_denoising)
    with pytest.raises(BackendError):
        list(backend.generate(_request(TINY_WAN)))
    assert backend.cache.loaded is None
    assert torch.cuda.memory_allocated() == baseline


@pytest.mark.parametrize("family", ["wan21", "ltx"])
def test_gpu_backend_overhead_at_native_size_is_at_most_three_percent(family: str) -> None:
    """benchmarks/gpu.py at the real size with random weights: the backend's wall time beyond
    the bare pipeline call stays within 3% of it."""
    from benchmarks import gpu

    result = gpu.measure_family(family, runs=3, device="cuda")
    assert result.bare.peak > 0
    assert result.overhead <= 0.03, result.line()
