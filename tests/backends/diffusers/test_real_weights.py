"""What a first run on real weights would meet: each check here is a defect the local backend
had when it had only met tiny random pipelines (diffusers 0.42.1's sources and docs, the models'
own repositories), kept from coming back.

The tiny pipelines are the session's (tests/conftest.py); catalogue checks need no torch.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.support.tiny_diffusers import (
    TINY_LTX,
    TINY_LTX_DISTILLED,
    TINY_LTX_UP,
    TINY_SVD,
    TINY_WAN,
    TINY_WAN_A14B,
    TINY_WAN_TI2V,
)

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import FAMILIES, load_catalogue
from openreel.backends.diffusers.plan import make_plan
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import LocalConfig, Settings
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import ConfigurationError, InvalidRequestError

GIB = 1024**3


def _request(model: str, **kw: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "a red kite over a beach",
        "seconds": 1.0,
        "width": 64,
        "height": 64,
        "fps": 8,
        "seed": 5,
        "model": model,
    }
    return VideoRequest(**(args | kw))


def _backend(registry: BackendRegistry, model: str) -> DiffusersBackend:
    backend = registry.for_model(model)
    assert isinstance(backend, DiffusersBackend)
    return backend


def _image(colour: tuple[int, int, int]) -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, format="PNG")
    return ImageInput(buffer.getvalue(), "image/png", 64, 64)


def _entry_backend(
    tmp_path: Path, tiny_catalogue: Path, model: str, extra: str
) -> DiffusersBackend:
    """A backend on one tiny entry with ``extra`` TOML lines added to it."""
    tables = tiny_catalogue.read_text().split("[[model]]")
    table = next(t for t in tables if f'id = "{model}"' in t)
    path = tmp_path / "catalogue.toml"
    path.write_text("[[model]]" + table.rstrip() + "\n" + extra + "\n")
    return _backend(
        build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu"))), model
    )


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], list[dict[str, Any]]]:
    """Records the keyword arguments of every call of a pipeline class."""

    def watch(cls: type) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []
        original = cls.__call__

        @functools.wraps(original)
        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(dict(kwargs))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", recorded)
        return calls

    return watch


# diffusers' LTXConditionPipeline hands the scheduler its timesteps as a torch tensor, which
# numpy 2 converts with this notice; it is diffusers' own, and harmless.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword"
)


def test_ltx_upsampler_takes_the_first_pass_latents_then_a_short_refine(
    tiny_registry: BackendRegistry, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    """Not decoded uint8 frames (the video processor does not scale numpy input, so a pixel
    of 200 reached the VAE as 399.0): latents, adain_factor=1.0, then a refine pass."""
    import diffusers

    upsampled = spy(diffusers.LTXLatentUpsamplePipeline)
    conditioned = spy(diffusers.LTXConditionPipeline)
    backend = _backend(tiny_registry, TINY_LTX_UP)
    request = _request(TINY_LTX_UP, width=64, height=64)
    plan = backend.describe(request)
    frames = list(backend.generate(request))
    assert len(frames) == 8
    assert frames[0].shape == (64, 64, 3)
    assert len(upsampled) == 1
    assert "video" not in upsampled[0]
    assert upsampled[0]["adain_factor"] == 1.0
    assert upsampled[0]["output_type"] == "latent"
    first, refine = conditioned
    assert first["output_type"] == "latent"
    assert (first["width"], first["height"]) == (32, 32)
    assert refine["latents"] is not None
    assert (refine["width"], refine["height"]) == (64, 64)
    assert refine["denoise_strength"] == 0.5
    assert plan["scaling"]["upsampled"] == "64x64"
    # The shipped entry refines with the documented distilled schedule.
    entry = load_catalogue().get("ltx-video-distilled")
    assert entry is not None
    assert entry.refine == {"timesteps": [1000, 909, 725, 421, 0], "denoise_strength": 0.999}


def test_ltx_distilled_runs_its_distilled_timesteps_through_the_condition_pipeline(
    tiny_registry: BackendRegistry, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    import diffusers

    entry = load_catalogue().get("ltx-video-distilled")
    assert entry is not None
    assert entry.pipeline_class == "LTXConditionPipeline"
    assert entry.call["timesteps"] == [1000, 993, 987, 981, 975, 909, 725, 0.03]
    assert entry.guidance == 1.0
    calls = spy(diffusers.LTXConditionPipeline)
    seen: list[tuple[int, int]] = []
    backend = _backend(tiny_registry, TINY_LTX_DISTILLED)
    frames = list(
        backend.generate(_request(TINY_LTX_DISTILLED), progress=lambda d, t: seen.append((d, t)))
    )
    assert len(frames) == 8
    assert calls[0]["timesteps"] == [1000, 909, 0.03]
    assert "sigmas" not in calls[0]
    # LTXPipeline, which passes sigmas itself, cannot take the schedule at all.
    pipe = backend.cache.loaded
    assert pipe is not None
    with pytest.raises(ValueError, match="timesteps"):
        diffusers.LTXPipeline(**pipe.pipe.components)(
            prompt="x",
            width=32,
            height=32,
            num_frames=9,
            timesteps=[1000, 909, 0.03],
            max_sequence_length=16,
            output_type="np",
        )


def test_min_vram_covers_the_largest_component_on_the_gpu() -> None:
    """The 13B LTX transformer is about 26 GB in bf16; Wan 2.1's UMT5 encoder 11.4 GB;
    CogVideoX-5B's transformer 11.1 GB (its README's 5 GB needs sequential offload)."""
    catalogue = load_catalogue()
    largest = {"ltx-video-distilled": 26e9, "wan2.1-t2v-1.3b": 11.4e9, "cogvideox-5b": 11.1e9}
    for model, size in largest.items():
        entry = catalogue.get(model)
        assert entry is not None
        assert entry.min_vram_gb * GIB > size, model


def test_wan22_ti2v_sides_are_multiples_of_32_and_the_plan_says_what_is_made() -> None:
    backend = DiffusersBackend(load_catalogue())
    for size in ((1920, 1080), (1080, 1920), (1000, 1000), (1280, 704)):
        request = VideoRequest(
            prompt="a harbour",
            seed=1,
            model="wan2.2-ti2v-5b",
            seconds=5,
            width=size[0],
            height=size[1],
        )
        native = backend.describe(request)["native"]
        assert native["width"] % 32 == 0, size
        assert native["height"] % 32 == 0, size
    path_error = load_catalogue().get("wan2.2-ti2v-5b")
    assert path_error is not None
    assert path_error.side_multiple == 32


def test_catalogue_refuses_sides_off_the_entrys_multiple(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[model]]\nid = "m"\nfamily = "wan"\nsource = "/x"\nsteps = 2\nguidance = 1.0\n'
        "width = 48\nheight = 32\nfps = 8\nmax_frames = 9\nmultiple = 32\n"
    )
    with pytest.raises(ConfigurationError, match="width must be a positive multiple of 32"):
        load_catalogue(path)


def test_component_dtypes_follow_the_entry(tmp_path: Path, tiny_catalogue: Path) -> None:
    """Wan's VAE runs in float32 (diffusers' wan docs) under bf16 weights elsewhere."""
    import torch

    backend = _entry_backend(tmp_path, tiny_catalogue, TINY_WAN, 'dtypes = { vae = "float32" }')
    text = (
        (tmp_path / "catalogue.toml").read_text().replace('dtype = "float32"', 'dtype = "bfloat16"')
    )
    (tmp_path / "catalogue.toml").write_text(text)
    backend = _backend(
        build_registry(
            Settings(local=LocalConfig(catalogue=tmp_path / "catalogue.toml", device="cpu"))
        ),
        TINY_WAN,
    )
    assert len(list(backend.generate(_request(TINY_WAN)))) == 8
    loaded = backend.cache.loaded
    assert loaded is not None
    assert loaded.pipe.vae.dtype == torch.float32
    assert loaded.pipe.transformer.dtype == torch.bfloat16
    shipped = load_catalogue()
    for model in ("wan2.1-t2v-1.3b", "wan2.2-ti2v-5b", "wan2.2-t2v-a14b", "wan2.2-i2v-a14b"):
        entry = shipped.get(model)
        assert entry is not None, model
        assert entry.dtypes == {"vae": "float32"}, model
    hunyuan = shipped.get("hunyuanvideo")
    assert hunyuan is not None
    assert hunyuan.dtypes["vae"] == hunyuan.dtypes["text_encoder"] == "float16"


def test_cogvideox_frame_rule_scheduler_and_dynamic_cfg(
    tmp_path: Path, tiny_catalogue: Path
) -> None:
    assert FAMILIES["cogvideox"].rule.is_valid(49)
    assert not FAMILIES["cogvideox"].rule.is_valid(45)  # 4k+1, not 8N+1
    entry = load_catalogue().get("cogvideox-5b")
    assert entry is not None
    assert entry.scheduler == {"class": "CogVideoXDPMScheduler", "timestep_spacing": "trailing"}
    assert entry.call["use_dynamic_cfg"] is True
    # The loader swaps the scheduler in from the loaded one's config, with the overrides.
    backend = _entry_backend(
        tmp_path,
        tiny_catalogue,
        TINY_WAN,
        'scheduler = { class = "UniPCMultistepScheduler", flow_shift = 3.0 }',
    )
    list(backend.generate(_request(TINY_WAN)))
    loaded = backend.cache.loaded
    assert loaded is not None
    assert type(loaded.pipe.scheduler).__name__ == "UniPCMultistepScheduler"
    assert loaded.pipe.scheduler.config.flow_shift == 3.0


def test_recommended_negative_prompt_is_used_unless_the_request_has_one(
    tmp_path: Path, tiny_catalogue: Path, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    import diffusers

    calls = spy(diffusers.WanPipeline)
    backend = _entry_backend(
        tmp_path, tiny_catalogue, TINY_WAN, 'negative_prompt = "static, blurred"'
    )
    list(backend.generate(_request(TINY_WAN)))
    list(backend.generate(_request(TINY_WAN, negative_prompt="fog")))
    assert [c["negative_prompt"] for c in calls] == ["static, blurred", "fog"]
    wan = load_catalogue().get("wan2.1-t2v-1.3b")
    assert wan is not None
    assert wan.negative_prompt.startswith("Bright tones, overexposed")


def test_a_model_that_cannot_continue_offers_one_call_and_says_so(
    tiny_registry: BackendRegistry,
) -> None:
    """No more independent clips cross-faded at a scene jump: a text-only family makes one
    call; a family with image-to-video continues from the previous call's frames."""
    backend = _backend(tiny_registry, TINY_WAN)
    caps = backend.capabilities(TINY_WAN)
    assert caps.max_seconds == 1.0  # 9 frames at 8 fps
    assert "cannot continue" in caps.length_note
    assert caps.to_dict()["length_note"] == caps.length_note  # what /v1/models shows
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(TINY_WAN, seconds=3.0))
    assert info.value.param == "seconds"
    chained = _backend(tiny_registry, TINY_WAN_TI2V).describe(_request(TINY_WAN_TI2V, seconds=3.0))
    assert chained["segments"]["chained_by"] == "first_frame"
    shipped = DiffusersBackend(load_catalogue())
    for model in ("wan2.1-t2v-1.3b", "cogvideox-5b", "hunyuanvideo"):
        entry = shipped.entry(model)
        assert shipped.capabilities(model).max_seconds <= entry.one_call_seconds, model


def test_an_incomplete_local_folder_gets_advice_about_that_folder(
    tmp_path: Path, tiny_catalogue: Path
) -> None:
    import shutil

    folder = tmp_path / "wan-weights"
    source = re.search(
        r'source = "([^"]*)"',
        next(t for t in tiny_catalogue.read_text().split("[[model]]") if f'id = "{TINY_WAN}"' in t),
    )
    assert source is not None
    shutil.copytree(source.group(1), folder)
    shutil.rmtree(folder / "transformer")  # half a download
    tables = tiny_catalogue.read_text().split("[[model]]")
    table = next(t for t in tables if f'id = "{TINY_WAN}"' in t)
    path = tmp_path / "catalogue.toml"
    path.write_text("[[model]]" + re.sub(r'source = "[^"]*"', f'source = "{folder}"', table))
    backend = _backend(
        build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu"))), TINY_WAN
    )
    with pytest.raises(ConfigurationError) as info:
        list(backend.generate(_request(TINY_WAN)))
    message = info.value.message
    assert str(folder) in message
    assert f"hf download {folder}" not in message
    assert f"--local-dir {folder}" in message


def test_last_native_frame_reaches_the_last_output_frame() -> None:
    """2 s at 24 fps from an 8 fps model: 17 native frames (0 to 2.0 s), not 16 (to 1.875 s,
    with the last 125 ms a held frame)."""
    from dataclasses import replace

    entry = load_catalogue().get("cogvideox-5b")
    assert entry is not None
    for seconds, fps in ((2.0, 24), (1.0, 30), (3.0, 25), (2.0, 8)):
        request = VideoRequest(prompt="x", seed=1, model=entry.id, seconds=seconds, fps=fps)
        plan = make_plan(replace(entry, max_frames=97), request)
        last_out = (plan.out_frames - 1) / fps
        assert (plan.native_frames - 1) / entry.fps >= last_out - 1e-9, (seconds, fps)
        assert (plan.native_frames - 2) / entry.fps < last_out, (seconds, fps)
    plan = make_plan(entry, VideoRequest(prompt="x", seed=1, model=entry.id, seconds=2, fps=24))
    assert plan.native_frames == 17


def test_library_warnings_go_to_the_log_not_the_terminal(
    tiny_registry: BackendRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import diffusers

    original = diffusers.WanPipeline.__call__

    @functools.wraps(original)
    def warns(self: Any, *args: Any, **kwargs: Any) -> Any:
        warnings.warn("the frobnicator is deprecated", FutureWarning, stacklevel=1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.WanPipeline, "__call__", warns)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as outside pytest: shown once on stderr
        list(_backend(tiny_registry, TINY_WAN).generate(_request(TINY_WAN)))
    out, err = capfd.readouterr()
    assert "frobnicator" not in out + err
    assert any("frobnicator" in r.getMessage() for r in caplog.records)


def test_wan_a14b_two_experts_and_first_and_last_frame(
    tiny_registry: BackendRegistry, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    """Wan 2.2 A14B's shape: transformer_2 with a boundary_ratio from the entry's load
    arguments, guidance_scale_2, an image-only pipeline that starts from the sketch engine's
    frame when no image is given, and a last image (FLF2V)."""
    import diffusers

    calls = spy(diffusers.WanImageToVideoPipeline)
    backend = _backend(tiny_registry, TINY_WAN_A14B)
    caps = backend.capabilities(TINY_WAN_A14B)
    assert caps.image_input
    assert caps.last_frame
    assert "last_frame" in caps.inputs
    text_only = _request(TINY_WAN_A14B)
    assert backend.describe(text_only)["first_frame"] == "sketch"
    plain = list(backend.generate(text_only))
    loaded = backend.cache.loaded
    assert loaded is not None
    assert loaded.pipe.transformer_2 is not None
    assert loaded.pipe.config.boundary_ratio == 0.5
    assert calls[0]["guidance_scale_2"] == 3.0
    assert isinstance(calls[0]["image"], Image.Image)
    both = _request(
        TINY_WAN_A14B, input_reference=_image((200, 30, 30)), last_frame=_image((30, 30, 200))
    )
    plan = backend.describe(both)
    assert plan["first_frame"] == "input_reference"
    assert plan["last_frame"] == "last_image"
    ended = list(backend.generate(both))
    assert calls[-1]["last_image"] is not None
    assert len(ended) == len(plain) == 8
    # Random tiny weights barely heed their conditions; the clip still changes.
    assert any(not np.array_equal(x, y) for x, y in zip(ended, plain, strict=True))


def test_ltx_last_frame_is_a_condition_at_the_last_index(
    tiny_registry: BackendRegistry, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    import diffusers

    calls = spy(diffusers.LTXConditionPipeline)
    backend = _backend(tiny_registry, TINY_LTX)
    request = _request(
        TINY_LTX, input_reference=_image((20, 200, 20)), last_frame=_image((250, 250, 0))
    )
    assert backend.describe(request)["last_frame"] == "conditions"
    frames = list(backend.generate(request))
    assert len(frames) == 8
    conditions = calls[-1]["conditions"]
    assert [c.frame_index for c in conditions] == [0, calls[-1]["num_frames"] - 1]
    # A model whose family cannot end on an image refuses it, naming last_frame.
    with pytest.raises(InvalidRequestError) as info:
        _backend(tiny_registry, TINY_WAN).check(_request(TINY_WAN, last_frame=_image((1, 2, 3))))
    assert info.value.param == "last_frame"


def test_stable_video_diffusion_starts_from_the_sketch_frame_or_the_reference(
    tiny_registry: BackendRegistry, spy: Callable[[type], list[dict[str, Any]]]
) -> None:
    """SVD takes no text: a prompt alone gets a first frame drawn by the sketch engine; a
    reference image is used as it is; longer clips continue from the last frames."""
    import diffusers

    calls = spy(diffusers.StableVideoDiffusionPipeline)
    backend = _backend(tiny_registry, TINY_SVD)
    assert backend.capabilities(TINY_SVD).image_input
    longer = backend.describe(_request(TINY_SVD, seconds=2.0))
    assert longer["segments"]["chained_by"] == "first_frame"
    assert len(longer["segments"]["frames"]) == 2
    sketched = _request(TINY_SVD)
    assert backend.describe(sketched)["first_frame"] == "sketch"
    frames = list(backend.generate(sketched))
    assert len(frames) == 8
    assert len(calls) == 1
    assert isinstance(calls[0]["image"], Image.Image)
    assert "prompt" not in calls[0]  # SVD has no text input; the prompt shaped the frame
    assert calls[0]["fps"] == 8
    guided = _request(TINY_SVD, input_reference=_image((240, 20, 20)))
    assert backend.describe(guided)["first_frame"] == "input_reference"
    list(backend.generate(guided))
    first = np.asarray(calls[-1]["image"])
    assert first[..., 0].mean() > 200  # the red reference, not a sketch frame
