"""LTX-2's upsampled path is the two stages diffusers documents for LTX-2 (docs ltx2,
"Two-stages Generation" and "Distilled checkpoint generation"): latents out of the first pass,
the latent upsampler over them, then the same pipeline again with the upsampled video latents,
the first pass's audio latents and the stage-2 sigmas. Driven on a tiny random LTX-2 (built
offline, tests/conftest.py) through the real catalogue, loader and backend."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.tiny_diffusers import TINY_LTX2_RATE, TINY_LTX2_UP

from openreel.backends.diffusers import loader
from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import load_catalogue
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import LocalConfig, Settings
from openreel.domain import VideoRequest
from openreel.errors import ConfigurationError
from openreel.media.audio import Soundtrack


def _request(**changes: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "thunder over a harbour",
        "seconds": 1.0,
        "width": 64,
        "height": 64,
        "fps": 8,
        "seed": 3,
        "model": TINY_LTX2_UP,
        "audio": True,
    }
    return VideoRequest(**(args | changes))


def _backend(registry: BackendRegistry) -> DiffusersBackend:
    found = registry.for_model(TINY_LTX2_UP)
    assert isinstance(found, DiffusersBackend)
    return found


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any], Any]]:
    """(class, keyword arguments, output) of every LTX-2 pipeline and upsampler call, in order,
    with the scheduler's config at the time of each pipeline call."""
    import diffusers

    seen: list[tuple[str, dict[str, Any], Any]] = []
    for name in ("LTX2Pipeline", "LTX2LatentUpsamplePipeline"):
        cls = getattr(diffusers, name)
        original = cls.__call__

        def spied(
            self: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any
        ) -> Any:
            scheduler = getattr(self, "scheduler", None)
            noted = dict(kwargs, _scheduler=dict(scheduler.config) if scheduler else None)
            output = _original(self, *args, **kwargs)
            seen.append((_name, noted, output))
            return output

        monkeypatch.setattr(cls, "__call__", functools.wraps(original)(spied))
    return seen


def test_ltx2_upsampled_clip_is_the_documented_two_stages(
    tiny_registry: BackendRegistry, calls: list[tuple[str, dict[str, Any], Any]]
) -> None:
    from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

    backend = _backend(tiny_registry)
    request = _request()
    plan = backend.plan(request)
    assert (plan.upsample, plan.made_size, plan.scales) == (2, (64, 64), False)
    assert plan.refine_steps == 3  # the three stage-2 sigmas
    clip = backend.generate(request)
    frames = list(clip)
    assert [name for name, _, _ in calls] == [
        "LTX2Pipeline",
        "LTX2LatentUpsamplePipeline",
        "LTX2Pipeline",
    ]
    (_, first, stage1), (_, upsample, upsampled), (_, second, _) = calls
    # Stage 1: latents at the native size.
    assert (first["width"], first["height"], first["output_type"]) == (32, 32, "latent")
    video_latents, audio_latents = stage1.frames, stage1.audio
    assert video_latents.ndim == 5
    assert audio_latents.ndim == 4
    # The upsampler takes those latents (not decoded frames), as denormalised latents.
    assert upsample["latents"] is video_latents
    assert "video" not in upsample
    assert upsample["latents_normalized"] is False
    assert upsample["output_type"] == "latent"
    assert upsample.get("adain_factor", 0.0) == 0.0  # LTX-2's recipe has no AdaIN
    assert upsampled.frames.shape[-2:] == tuple(2 * s for s in video_latents.shape[-2:])
    # Stage 2: the same pipeline, the upsampled video latents and stage 1's audio latents,
    # the stage-2 distilled sigmas, renoised at the first of them, unguided, same generator.
    assert second["latents"] is upsampled.frames
    assert second["audio_latents"] is audio_latents
    assert second["sigmas"] == STAGE_2_DISTILLED_SIGMA_VALUES
    assert second["noise_scale"] == STAGE_2_DISTILLED_SIGMA_VALUES[0]
    assert second["num_inference_steps"] == 3
    assert second["guidance_scale"] == 1.0
    assert (second["width"], second["height"], second["output_type"]) == (64, 64, "np")
    assert second["generator"] is first["generator"]
    assert second["num_frames"] == first["num_frames"]
    # Frames doubled by the model itself (no Lanczos), all delivered.
    assert len(frames) == request.frame_count
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    # The sound is stage 2's waveform (its audio refined with the picture), as long as the
    # call's native frames.
    sound = clip.soundtrack()
    assert sound is not None
    wave = calls[2][2].audio.detach().float().numpy()[0]
    np.testing.assert_array_equal(sound.samples, Soundtrack.of(wave, TINY_LTX2_RATE).samples)
    native = plan.segments.frames[0]
    assert abs(sound.seconds - native / plan.fps) < 0.1


def _with_lora(tmp_path: Path, tiny_catalogue: Path) -> tuple[DiffusersBackend, Path]:
    """The tiny upsampled LTX-2 with a refine LoRA folder, as the full model's entry has."""
    lora = tmp_path / "lora"
    lora.mkdir()
    table = next(
        t for t in tiny_catalogue.read_text().split("[[model]]") if f'id = "{TINY_LTX2_UP}"' in t
    )
    table += f'refine_lora = {{ source = "{lora}", weight_name = "distilled-lora.safetensors" }}\n'
    path = tmp_path / "catalogue.toml"
    path.write_text("[[model]]" + table)
    registry = build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu")))
    return _backend(registry), lora


def test_ltx2_full_model_refines_through_its_distilled_lora_only(
    tmp_path: Path,
    tiny_catalogue: Path,
    monkeypatch: pytest.MonkeyPatch,
    calls: list[tuple[str, dict[str, Any], Any]],
) -> None:
    """The full model's stage 2 loads the distilled LoRA once, runs with it active and the
    scheduler taking the sigmas as given (use_dynamic_shifting=False, shift_terminal=None),
    and the first pass (and the next job's) runs without either."""
    import diffusers

    monkeypatch.setattr(loader, "_has_peft", lambda: True)
    backend, lora = _with_lora(tmp_path, tiny_catalogue)
    # peft is not in the test environment: the LoRA methods diffusers' LTX2LoraLoaderMixin
    # gives the pipeline are recorded, in order, beside the pipeline calls.
    events: list[Any] = []
    cls = diffusers.LTX2Pipeline
    monkeypatch.setattr(
        cls,
        "load_lora_weights",
        lambda self, source, **kw: events.append(("load", source, kw)),
        raising=False,
    )
    monkeypatch.setattr(
        cls, "set_adapters", lambda self, *a, **kw: events.append(("set", a)), raising=False
    )
    monkeypatch.setattr(cls, "enable_lora", lambda self: events.append("enable"), raising=False)
    monkeypatch.setattr(cls, "disable_lora", lambda self: events.append("disable"), raising=False)
    original = cls.__call__

    def noted(self: Any, *args: Any, **kwargs: Any) -> Any:
        events.append(("call", kwargs["output_type"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__call__", functools.wraps(original)(noted))
    for _ in range(2):
        assert len(list(backend.generate(_request()))) == 8
    load = (
        "load",
        str(lora),
        {"weight_name": "distilled-lora.safetensors", "adapter_name": "refine"},
    )
    job = [("call", "latent"), "enable", ("set", ("refine", 1.0)), ("call", "np"), "disable"]
    assert events == [("call", "latent"), load, *job[1:], *job]
    schedulers = [kwargs["_scheduler"] for name, kwargs, _ in calls if name == "LTX2Pipeline"]
    stage1, stage2 = schedulers[:2]
    assert stage2["use_dynamic_shifting"] is False
    assert stage2["shift_terminal"] is None
    assert stage1 == dict(backend.cache.loaded.pipe.scheduler.config)  # restored after


def test_ltx2_refine_lora_without_peft_names_the_install(
    tmp_path: Path, tiny_catalogue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # peft found nowhere (diffusers itself imports it when installed, so hiding the module
    # from sys.modules would break loading the pipeline rather than test this refusal).
    monkeypatch.setattr(loader, "_has_peft", lambda: False)
    backend, _ = _with_lora(tmp_path, tiny_catalogue)
    with pytest.raises(ConfigurationError, match=r"needs peft.*openreel\[local\]"):
        list(backend.generate(_request()))


def test_shipped_ltx2_entries_carry_the_documented_second_stage() -> None:
    from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

    catalogue = load_catalogue()
    for model in ("ltx-2", "ltx-2-distilled"):
        entry = catalogue.get(model)
        assert entry is not None
        assert entry.upsampler == entry.source
        assert entry.upsampler_subfolder == "latent_upsampler"
        assert entry.refine["sigmas"] == STAGE_2_DISTILLED_SIGMA_VALUES
        assert entry.refine["noise_scale"] == STAGE_2_DISTILLED_SIGMA_VALUES[0]
        assert entry.refine["guidance_scale"] == 1.0
    full = catalogue.get("ltx-2")
    assert full is not None
    assert full.refine_lora == {
        "source": "Lightricks/LTX-2",
        "weight_name": "ltx-2-19b-distilled-lora-384.safetensors",
    }
    distilled = catalogue.get("ltx-2-distilled")
    assert distilled is not None
    assert not distilled.refine_lora
    assert re.fullmatch(r"\w[\w.-]*/[\w.-]+", full.source)
