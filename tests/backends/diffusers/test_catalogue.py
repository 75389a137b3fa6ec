"""The local model catalogue, its registration and planning (no torch needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import FAMILIES, load_catalogue
from openreel.backends.providers import build_registry
from openreel.config import LocalConfig, Settings
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import ConfigurationError, InvalidRequestError

SHIPPED = {
    "ltx-video-distilled": "ltx",
    "ltx-2": "ltx2",
    "ltx-2-distilled": "ltx2",
    "wan2.1-t2v-1.3b": "wan",
    "wan2.2-ti2v-5b": "wan",
    "wan2.2-t2v-a14b": "wan",
    "wan2.2-i2v-a14b": "wan",
    "cogvideox-5b": "cogvideox",
    "hunyuanvideo": "hunyuan",
    "hunyuanvideo-1.5-480p": "hunyuan15",
    "hunyuanvideo-1.5-720p": "hunyuan15",
    "hunyuanvideo-1.5-480p-i2v": "hunyuan15",
    "hunyuanvideo-1.5-720p-i2v": "hunyuan15",
    "stable-video-diffusion-xt": "svd",
}

ENTRY = """
[[model]]
id = "m"
family = "wan"
source = "/nowhere"
steps = 2
guidance = 1.0
width = 32
height = 32
fps = 8
max_frames = 9
overlap = 1
"""


def test_catalogue_shipped_lists_every_family_with_valid_native_clips() -> None:
    catalogue = load_catalogue()
    assert {e.id: e.family for e in catalogue.entries} == SHIPPED
    for entry in catalogue.entries:
        family = FAMILIES[entry.family]
        assert family.rule.is_valid(entry.max_frames), entry.id
        assert entry.width % entry.side_multiple == 0
        assert entry.height % entry.side_multiple == 0
        # Ten seconds where the model can continue from frames, one call's worth otherwise.
        assert entry.longest_seconds >= (10 if entry.continues else entry.one_call_seconds - 0.5)
        assert entry.min_vram_gb > 0, entry.id


def test_catalogue_new_families_carry_their_documented_settings() -> None:
    catalogue = load_catalogue()
    ltx2 = catalogue.get("ltx-2")
    assert ltx2 is not None
    assert ltx2.audio
    assert ltx2.last_frame_by == "conditions"
    assert ltx2.pipeline_class == "LTX2Pipeline"
    assert ltx2.image_pipeline_class == "LTX2ImageToVideoPipeline"
    assert FAMILIES["ltx2"].condition_pipeline == "LTX2ConditionPipeline"
    assert FAMILIES["ltx2"].upsample_pipeline == "LTX2LatentUpsamplePipeline"
    a14b = catalogue.get("wan2.2-t2v-a14b")
    assert a14b is not None
    assert a14b.load == {"boundary_ratio": 0.875}
    assert a14b.call["guidance_scale_2"] == 3.0
    i2v = catalogue.get("wan2.2-i2v-a14b")
    assert i2v is not None
    assert i2v.needs_image
    assert i2v.last_frame_by == "last_image"
    svd = catalogue.get("stable-video-diffusion-xt")
    assert svd is not None
    assert svd.needs_image
    assert svd.image_pipeline_class == "StableVideoDiffusionPipeline"
    sizes = {(e.width, e.height) for e in catalogue.entries if e.family == "hunyuan15"}
    assert sizes == {(848, 480), (1280, 720)}
    backend = DiffusersBackend(catalogue)
    plan = backend.describe(VideoRequest(prompt="a harbour", seed=1, model=svd.id, seconds=3))
    assert plan["first_frame"] == "sketch"


def test_catalogue_ltx_distilled_makes_ten_seconds_natively_and_wan_chains() -> None:
    backend = DiffusersBackend(load_catalogue())
    request = VideoRequest(prompt="a lighthouse", seed=1, model="ltx-video-distilled")
    ltx = backend.describe(request)
    assert ltx["segments"]["frames"] == [241]
    assert ltx["output"] == {"width": 1920, "height": 1080, "fps": 24, "frames": 240}
    wan = backend.describe(
        VideoRequest(prompt="a lighthouse", seed=1, model="wan2.2-ti2v-5b", fps=30)
    )
    assert len(wan["segments"]["frames"]) > 1
    assert all((n - 1) % 4 == 0 for n in wan["segments"]["frames"])
    assert wan["interpolation"] == {"from_fps": 24, "to_fps": 30, "method": "flow"}
    assert wan["scaling"]["to"] == "1920x1080"
    cog = backend.describe(
        VideoRequest(prompt="a lighthouse", seed=1, model="cogvideox-5b", seconds=6)
    )
    assert cog["native"]["width"] == 720  # CogVideoX only works at its trained size


@pytest.mark.parametrize(
    "change",
    [
        ("family", '"wan"', '"sora"'),
        ("max_frames", "9", "10"),
        ("width", "32", "33"),
        ("overlap", "1", "8"),
    ],
)
def test_catalogue_rejects_a_broken_entry_naming_the_field(
    tmp_path: Path, change: tuple[str, str, str]
) -> None:
    name, old, new = change
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY.replace(f"{name} = {old}", f"{name} = {new}"))
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(path)
    assert name in info.value.message
    assert str(path) in info.value.message


def test_catalogue_missing_file_names_the_path_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(tmp_path / "absent.toml")
    assert "absent.toml" in info.value.message
    assert "OPENREEL_LOCAL__CATALOGUE" in info.value.message


def test_catalogue_rejects_duplicate_ids(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY + ENTRY)
    with pytest.raises(ConfigurationError, match="more than once"):
        load_catalogue(path)


def test_registry_offers_local_models_only_when_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "diffusers" not in {m.backend for m in build_registry(Settings()).models()}
    monkeypatch.setenv("OPENREEL_LOCAL__ENABLED", "1")
    served = {m.model: m.backend for m in build_registry(Settings()).models()}
    assert {m for m, b in served.items() if b == "diffusers"} == set(SHIPPED)


def test_registry_offers_only_the_named_models(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(ENTRY + ENTRY.replace('id = "m"', 'id = "n"'))
    config = LocalConfig(catalogue=path, models=["n"])
    served = [m.model for m in build_registry(Settings(local=config)).models()]
    assert served == ["openreel-sketch", "n"]


def test_backend_check_names_the_parameter() -> None:
    backend = DiffusersBackend(load_catalogue())
    with pytest.raises(InvalidRequestError) as info:
        backend.check(VideoRequest(prompt="x", seconds=30, model="wan2.1-t2v-1.3b"))
    assert info.value.param == "seconds"
    image = ImageInput(b"png", "image/png", 64, 64)
    with pytest.raises(InvalidRequestError) as info:
        backend.check(
            VideoRequest(prompt="x", model="wan2.1-t2v-1.3b", seconds=5, input_reference=image)
        )
    assert info.value.param == "input_reference"
    assert backend.capabilities("ltx-video-distilled").image_input


def test_import_of_openreel_with_local_models_enabled_loads_no_torch() -> None:
    code = (
        "import sys\n"
        "from openreel.config import Settings, LocalConfig\n"
        "from openreel.backends.providers import build_registry\n"
        "from openreel.domain import ImageInput, VideoRequest\n"
        "r = build_registry(Settings(local=LocalConfig(enabled=True)))\n"
        "b = r.for_model('hunyuanvideo')\n"
        "b.check(VideoRequest(prompt='x', model='hunyuanvideo', seconds=5))\n"
        "b.describe(VideoRequest(prompt='x', model='hunyuanvideo', seconds=5))\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_catalogue_refuses_an_upsampler_for_a_family_without_one(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY + 'upsampler = "/srv/up"\n')
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(path)
    assert "upsampler" in info.value.message
    assert "wan" in info.value.message
