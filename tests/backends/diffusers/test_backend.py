"""DiffusersBackend on tiny random pipelines loaded through the real catalogue and loader.

Everything here shares the session's tiny models (tests/conftest.py), on the CPU, offline.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.support.clips import field_clip
from tests.support.tiny_diffusers import (
    TINY_LTX,
    TINY_LTX_UP,
    TINY_WAN,
    TINY_WAN_SLOW,
    TINY_WAN_TI2V,
)

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import LocalConfig, Settings
from openreel.domain import ImageInput, SourceVideo, VideoRequest
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    ConfigurationError,
    InvalidRequestError,
)


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


@pytest.fixture
def fresh(tiny_catalogue: Path) -> Callable[..., DiffusersBackend]:
    """A new backend (own cache) on the tiny catalogue, with settings overrides."""

    def make(**config: Any) -> DiffusersBackend:
        local = LocalConfig(**({"catalogue": tiny_catalogue, "device": "cpu"} | config))
        return _backend(build_registry(Settings(local=local)), TINY_WAN)

    return make


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], list[int]]:
    """Counts calls of a pipeline class (frames asked per call), keeping its signature."""

    def spy(cls: type) -> list[int]:
        calls: list[int] = []
        original = cls.__call__

        @functools.wraps(original)
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(kwargs["num_frames"] if "num_frames" in kwargs else len(kwargs["video"]))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", counted)
        return calls

    return spy


@pytest.mark.parametrize("model", [TINY_LTX, TINY_WAN_TI2V])
def test_diffusers_ten_seconds_are_chained_from_overlapping_segments(
    tiny_registry: BackendRegistry,
    model: str,
    count_calls: Callable[[type], list[int]],
) -> None:
    import diffusers

    backend = _backend(tiny_registry, model)
    request = _request(model, seconds=10.0)
    plan = backend.describe(request)
    pipeline_class = "LTXImageToVideoPipeline" if model == TINY_LTX else "WanImageToVideoPipeline"
    calls = count_calls(getattr(diffusers, pipeline_class))
    seen: list[tuple[int, int]] = []
    frames = list(backend.generate(request, progress=lambda d, t: seen.append((d, t))))
    assert len(frames) == request.frame_count == 80
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    segments = plan["segments"]
    assert len(segments["frames"]) > 1
    rule = 8 if model == TINY_LTX else 4
    assert all((n - 1) % rule == 0 for n in segments["frames"])
    assert plan["native"]["frames"] >= 80
    # Later segments start from the previous one's frames (image-to-video); the first
    # is text-to-video.
    assert segments["chained_by"] == "first_frame"
    assert calls == segments["frames"][1:]
    # Progress moved on every denoising step of every segment, and reached the total.
    dones = [d for d, _ in seen]
    assert dones == sorted(dones)
    assert dones[-1] == seen[-1][1] == 80
    steps = 2 * len(segments["frames"])
    assert len(set(dones)) >= steps


def test_diffusers_low_native_rate_is_interpolated_up(
    fresh: Callable[..., DiffusersBackend],
) -> None:
    backend = fresh(interpolation="blend")
    request = _request(TINY_WAN_SLOW, seconds=2.0, fps=8)
    plan = backend.describe(request)
    assert plan["interpolation"] == {"from_fps": 4, "to_fps": 8, "method": "blend"}
    assert plan["native"]["fps"] == 4
    frames = [f.astype(np.int16) for f in backend.generate(request)]
    assert len(frames) == 16
    # Odd frames sit halfway between native frames: the mix of their neighbours (after
    # the same Lanczos scale, so only rounding differs).
    for index in (1, 3, 5):
        middle = (frames[index - 1] + frames[index + 1]) / 2
        assert np.abs(frames[index] - middle).mean() < 2.0
        assert not np.array_equal(frames[index], frames[index - 1])


def test_diffusers_scales_to_1080p(tiny_registry: BackendRegistry) -> None:
    backend = _backend(tiny_registry, TINY_WAN)
    request = _request(TINY_WAN, seconds=0.25, width=1920, height=1080)
    plan = backend.describe(request)
    assert plan["scaling"]["from"] == "16x16"
    assert plan["scaling"]["to"] == "1920x1080"
    frames = list(backend.generate(request))
    assert len(frames) == 2
    assert frames[0].shape == (1080, 1920, 3)
    assert frames[0].dtype == np.uint8


def test_diffusers_cancel_mid_denoising_interrupts_the_pipeline(
    tiny_registry: BackendRegistry,
) -> None:
    backend = _backend(tiny_registry, TINY_LTX)
    request = _request(TINY_LTX, seconds=6.0)  # several segments
    asked = 0
    cancel_at = 3  # before load, first segment, first step: then stop

    def cancelled() -> bool:
        nonlocal asked
        asked += 1
        return asked >= cancel_at

    progress: list[int] = []
    got: list[np.ndarray] = []
    frames = backend.generate(
        request, progress=lambda d, t: progress.append(d), cancelled=cancelled
    )
    with pytest.raises(CancelledError):
        got.extend(frames)
    assert got == []
    assert asked == cancel_at  # nothing asked (or done) after the cancel
    loaded = backend.cache.loaded
    assert loaded is not None  # the model stays warm for the next job
    assert loaded.pipe.interrupt is True
    assert progress[-1] < request.frame_count


def test_diffusers_cancel_while_delivering_stops_at_once(tiny_registry: BackendRegistry) -> None:
    backend = _backend(tiny_registry, TINY_WAN)
    got: list[np.ndarray] = []
    frames = backend.generate(_request(TINY_WAN, seconds=1.0), cancelled=lambda: len(got) >= 5)
    with pytest.raises(CancelledError):
        got.extend(frames)
    assert len(got) == 5


def test_diffusers_same_seed_same_frames_after_a_reload(
    tiny_registry: BackendRegistry, fresh: Callable[..., DiffusersBackend]
) -> None:
    request = _request(TINY_LTX, seconds=3.0)
    first = list(_backend(tiny_registry, TINY_LTX).generate(request))
    again = list(fresh().generate(request))  # loaded from disk anew
    assert len(first) == len(again) == 24
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_diffusers_image_to_video_starts_from_the_reference(
    tiny_registry: BackendRegistry,
) -> None:
    backend = _backend(tiny_registry, TINY_LTX)
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (220, 30, 30)).save(buffer, format="PNG")
    image = ImageInput(buffer.getvalue(), "image/png", 80, 64)
    with_image = _request(TINY_LTX, input_reference=image)
    assert backend.describe(with_image)["image_to_video"] is True
    guided = list(backend.generate(with_image))
    plain = list(backend.generate(_request(TINY_LTX)))
    assert len(guided) == 8
    assert not np.array_equal(guided[0], plain[0])


def test_diffusers_refuses_image_input_for_text_only_models(
    tiny_registry: BackendRegistry,
) -> None:
    backend = _backend(tiny_registry, TINY_WAN)
    assert backend.capabilities(TINY_WAN).image_input is False


def test_diffusers_keeps_one_model_warm_and_releases_it_for_another(
    tiny_registry: BackendRegistry,
) -> None:
    ltx = _backend(tiny_registry, TINY_LTX)
    list(ltx.generate(_request(TINY_LTX)))
    warm = ltx.cache.loaded
    assert warm is not None
    list(ltx.generate(_request(TINY_LTX, seed=6)))
    assert ltx.cache.loaded is warm  # same pipeline object: nothing reloaded
    list(ltx.generate(_request(TINY_WAN)))
    wan = ltx.cache.loaded
    assert wan is not None
    assert wan is not warm  # another model's job released the first
    list(ltx.generate(_request(TINY_WAN_SLOW)))
    assert ltx.cache.loaded is wan  # same weights under another id: shared


def test_diffusers_releases_after_each_job_when_not_kept_warm(
    fresh: Callable[..., DiffusersBackend],
) -> None:
    backend = fresh(keep_warm=False)
    list(backend.generate(_request(TINY_WAN)))
    assert backend.cache.loaded is None


def test_diffusers_failure_becomes_a_backend_error_and_frees_the_model(
    fresh: Callable[..., DiffusersBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers

    def out_of_memory(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    backend = fresh()
    list(backend.generate(_request(TINY_WAN)))
    monkeypatch.setattr(diffusers.WanPipeline, "__call__", out_of_memory)
    with pytest.raises(BackendError) as info:
        list(backend.generate(_request(TINY_WAN)))
    assert info.value.code == "out_of_memory"
    assert TINY_WAN in info.value.message
    assert "Traceback" not in info.value.message
    assert backend.cache.loaded is None


def _write(tmp_path: Path, tiny_catalogue: Path, source: str) -> Path:
    """A catalogue with only the tiny Wan entry, its weights moved to ``source``."""
    import re

    tables = tiny_catalogue.read_text().split("[[model]]")
    text = next(t for t in tables if f'id = "{TINY_WAN}"' in t)
    path = tmp_path / "catalogue.toml"
    path.write_text("[[model]]" + re.sub(r'source = "[^"]*"', f'source = "{source}"', text))
    return path


@pytest.mark.parametrize("source", ["/srv/models/absent-wan", "no-org/no-such-model"])
def test_diffusers_missing_weights_name_the_folder_or_repo(
    tmp_path: Path,
    tiny_catalogue: Path,
    source: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = _write(tmp_path, tiny_catalogue, source)
    registry = build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu")))
    backend = _backend(registry, TINY_WAN)
    with pytest.raises(ConfigurationError) as info:
        list(backend.generate(_request(TINY_WAN)))
    assert source in info.value.message
    assert TINY_WAN in info.value.message
    assert "Traceback" not in info.value.message


def test_diffusers_missing_extra_gives_the_install_command(
    fresh: Callable[..., DiffusersBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = fresh()
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers -> ImportError
    with pytest.raises(ConfigurationError) as info:
        list(backend.generate(_request(TINY_WAN)))
    assert "pip install 'openreel[local]'" in info.value.message


def test_diffusers_absent_device_is_a_clear_configuration_error(
    fresh: Callable[..., DiffusersBackend],
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.fail("this check needs a machine without CUDA; run it on the CPU suite")
    backend = fresh(device="cuda")
    with pytest.raises(ConfigurationError) as info:
        list(backend.generate(_request(TINY_WAN)))
    assert "OPENREEL_LOCAL__DEVICE" in info.value.message


def test_diffusers_job_record_carries_the_plan(
    tiny_registry: BackendRegistry, tmp_path: Path
) -> None:
    from openreel.media.encode import EncoderSettings
    from openreel.services.generation import render_video

    backend = _backend(tiny_registry, TINY_WAN_TI2V)
    result = render_video(
        backend,
        _request(TINY_WAN_TI2V, seconds=2.0),
        tmp_path / "v.mp4",
        encoder=EncoderSettings(),
    )
    plan = result.interpretation
    assert plan["engine"] == "diffusers"
    assert plan["native"] == {"width": 16, "height": 16, "fps": 8, "frames": 17}
    assert plan["segments"] == {"frames": [9, 9], "overlap": 1, "chained_by": "first_frame"}
    assert plan["scaling"]["method"] == "lanczos"
    assert result.frames == 16


def test_diffusers_model_too_large_to_load_is_a_clear_refusal(
    fresh: Callable[..., DiffusersBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers

    def too_large(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("CUDA out of memory. Tried to allocate 26.00 GiB")

    monkeypatch.setattr(diffusers.WanPipeline, "from_pretrained", too_large)
    backend = fresh()
    with pytest.raises(BackendUnavailableError) as info:
        list(backend.generate(_request(TINY_WAN)))
    assert info.value.code == "model_too_large"
    assert TINY_WAN in info.value.message
    assert "group_offload" in info.value.message
    assert backend.cache.loaded is None


def test_diffusers_image_pipeline_keeps_the_weights_dtype(
    tmp_path: Path, tiny_catalogue: Path
) -> None:
    import torch

    ltx = tiny_catalogue.read_text().split("[[model]]")[1].replace('"float32"', '"bfloat16"')
    path = tmp_path / "catalogue.toml"
    path.write_text("[[model]]" + ltx)
    backend = _backend(
        build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu"))), TINY_LTX
    )
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 200, 30)).save(buffer, format="PNG")
    image = ImageInput(buffer.getvalue(), "image/png", 64, 64)
    frames = list(backend.generate(_request(TINY_LTX, input_reference=image)))
    assert len(frames) == 8
    loaded = backend.cache.loaded
    assert loaded is not None
    # from_pipe shares the modules; it must not have cast them to float32 for both.
    assert loaded.pipe.transformer.dtype == torch.bfloat16


def test_diffusers_model_upsampler_doubles_each_segment_before_lanczos(
    tiny_registry: BackendRegistry, count_calls: Callable[[type], list[int]]
) -> None:
    import diffusers

    backend = _backend(tiny_registry, TINY_LTX_UP)
    upsampled = count_calls(diffusers.LTXConditionPipeline)
    request = _request(TINY_LTX_UP, seconds=3.0, width=96, height=96)
    plan = backend.describe(request)
    assert plan["scaling"]["model_upsampler_used"] is True
    assert plan["scaling"]["upsampled"] == "64x64"
    assert plan["scaling"]["method"] == "lanczos"
    frames = list(backend.generate(request))
    assert len(frames) == 24
    assert frames[0].shape == (96, 96, 3)
    # Two passes (first, then the refine after the latent upsampler) per segment.
    assert len(upsampled) == 2 * len(plan["segments"]["frames"]) == 4
    # Exactly twice native: the upsampler alone makes the size, no Lanczos after it.
    exact = backend.describe(_request(TINY_LTX_UP, width=64, height=64))
    assert exact["scaling"]["upsampled"] == "64x64"
    assert exact["scaling"]["method"] is None
    # A model without an upsampler says so.
    plain = backend.describe(_request(TINY_LTX, width=96, height=96))
    assert plain["scaling"]["model_upsampler_used"] is False


def test_diffusers_missing_upsampler_weights_name_the_folder(
    tmp_path: Path, tiny_catalogue: Path
) -> None:
    entry = tiny_catalogue.read_text().split("[[model]]")[2]
    assert TINY_LTX_UP in entry
    import re

    path = tmp_path / "catalogue.toml"
    path.write_text(
        "[[model]]" + re.sub(r'upsampler = "[^"]*"', 'upsampler = "/srv/no-upsampler"', entry)
    )
    backend = _backend(
        build_registry(Settings(local=LocalConfig(catalogue=path, device="cpu"))), TINY_LTX_UP
    )
    with pytest.raises(ConfigurationError) as info:
        list(backend.generate(_request(TINY_LTX_UP, width=96, height=96)))
    assert "/srv/no-upsampler" in info.value.message
    assert "upsampler" in info.value.message


def test_diffusers_wan_ti2v_starts_from_the_image_and_chains_by_frames(
    tiny_registry: BackendRegistry, count_calls: Callable[[type], list[int]]
) -> None:
    import diffusers

    backend = _backend(tiny_registry, TINY_WAN_TI2V)
    assert backend.capabilities(TINY_WAN_TI2V).image_input is True
    image_calls = count_calls(diffusers.WanImageToVideoPipeline)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 30, 220)).save(buffer, format="PNG")
    image = ImageInput(buffer.getvalue(), "image/png", 64, 64)
    request = _request(TINY_WAN_TI2V, seconds=2.0, input_reference=image)
    plan = backend.describe(request)
    assert plan["image_to_video"] is True
    assert plan["segments"]["chained_by"] == "first_frame"
    guided = list(backend.generate(request))
    assert len(guided) == 16
    # Every segment is image-conditioned: the first on the reference, the rest on the
    # previous segment's frames.
    assert image_calls == plan["segments"]["frames"]
    plain = list(backend.generate(_request(TINY_WAN_TI2V, seconds=2.0)))
    assert not np.array_equal(guided[0], plain[0])


# diffusers' LTXConditionPipeline hands the scheduler its timesteps as a torch tensor, which
# numpy 2 converts with this notice; it is diffusers' own, and harmless.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_diffusers_edits_with_the_familys_video_to_video_pipeline(
    tiny_registry: BackendRegistry, tmp_path: Path
) -> None:
    """LTX edits from the source's frames (LTXConditionPipeline, from the same weights); Wan's
    base weights have no video-to-video, so it refuses at admission naming the model."""
    backend = _backend(tiny_registry, TINY_LTX)
    assert "edit" in backend.capabilities(TINY_LTX).operations
    assert "edit" not in backend.capabilities(TINY_WAN).operations
    clip = tmp_path / "source.mp4"
    field_clip(clip, frames=8, size=(64, 64))
    source = SourceVideo(path=str(clip), frames=8, fps=8.0, width=64, height=64)
    edit = _request(TINY_LTX, prompt="at night", operation="edit", source=source)
    plan = backend.describe(edit)
    assert plan["edit"]["pipeline"] == "LTXConditionPipeline"
    edited = list(backend.generate(edit))
    plain = list(backend.generate(_request(TINY_LTX, prompt="at night")))
    assert len(edited) == len(plain) == 8
    assert edited[0].shape == (64, 64, 3)
    assert not np.array_equal(edited[0], plain[0])  # the source's frames went in
    with pytest.raises(InvalidRequestError) as refused:
        _backend(tiny_registry, TINY_WAN).check(
            _request(TINY_WAN, prompt="at night", operation="edit", source=source)
        )
    assert refused.value.param == "model"
    long = _request(TINY_LTX, prompt="at night", operation="edit", source=source, seconds=30.0)
    with pytest.raises(InvalidRequestError) as too_long:
        backend.check(long)
    assert too_long.value.param in ("video", "seconds")
