"""Wan VACE edits on a tiny random WanVACEPipeline (offline, on the CPU): the source's frames
go in as its control video with a white mask, and the edit strength as its
``conditioning_scale`` (how much of the source holds: 1 - strength)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.clips import field_clip
from tests.support.tiny_diffusers import TINY_WAN_VACE, write_vace_catalogue

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.inputs import source_frames
from openreel.backends.providers import build_registry
from openreel.config import LocalConfig, Settings
from openreel.domain import SourceVideo, VideoRequest


@pytest.fixture(scope="module")
def vace_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_vace_catalogue(tmp_path_factory.mktemp("tiny-vace"))


def _backend(catalogue: Path, **config: Any) -> DiffusersBackend:
    local = LocalConfig(catalogue=catalogue, device="cpu", **config)
    backend = build_registry(Settings(local=local)).for_model(TINY_WAN_VACE)
    assert isinstance(backend, DiffusersBackend)
    return backend


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every WanVACEPipeline call."""
    from diffusers import WanVACEPipeline

    seen: list[dict[str, Any]] = []
    original = WanVACEPipeline.__call__

    @functools.wraps(original)
    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WanVACEPipeline, "__call__", spy)
    return seen


def _request(**kw: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "the field at night",
        "seconds": 1.0,
        "width": 64,
        "height": 64,
        "fps": 8,
        "seed": 5,
        "model": TINY_WAN_VACE,
    }
    return VideoRequest(**(args | kw))


def test_wan_vace_edits_from_the_sources_frames_with_the_strength_as_conditioning(
    vace_catalogue: Path, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    backend = _backend(vace_catalogue)
    caps = backend.capabilities(TINY_WAN_VACE).to_dict()  # what /v1/models lists
    assert "edit" in caps["operations"]
    assert "WanVACEPipeline" in caps["edit_note"]
    clip = tmp_path / "source.mp4"
    field_clip(clip, frames=8, size=(64, 64))
    source = SourceVideo(path=str(clip), frames=8, fps=8.0, width=64, height=64)
    edit = _request(operation="edit", source=source)
    backend.check(edit)
    plan = backend.describe(edit)
    assert plan["edit"]["pipeline"] == "WanVACEPipeline"
    assert plan["edit"]["conditioning_scale"] == pytest.approx(0.4)  # 1 - the default 0.6
    edited = list(backend.generate(edit))
    assert len(edited) == 8
    assert edited[0].shape == (64, 64, 3)
    (call,) = calls
    count = call["num_frames"]
    # The control video is the source's frames at the model's native size, every pixel to
    # be remade (a white mask), held by the source as much as the strength leaves.
    expected = source_frames(clip, 16, 16, count)
    assert len(call["video"]) == len(call["mask"]) == count
    for picture, frame in zip(call["video"], expected, strict=True):
        assert np.array_equal(np.asarray(picture), frame)
    assert all(np.asarray(mask).min() == 255 for mask in call["mask"])
    assert call["conditioning_scale"] == pytest.approx(0.4)
    # Text-to-video with the same weights and seed takes no video, and makes other frames.
    plain = list(backend.generate(_request()))
    assert "video" not in calls[1]
    assert not np.array_equal(edited[0], plain[0])


def test_wan_vace_honours_the_operators_strength(
    vace_catalogue: Path, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    backend = _backend(vace_catalogue, edit_strength=0.9)
    clip = tmp_path / "source.mp4"
    field_clip(clip, frames=8, size=(64, 64))
    source = SourceVideo(path=str(clip), frames=8, fps=8.0, width=64, height=64)
    edit = _request(operation="edit", source=source)
    assert backend.describe(edit)["edit"]["conditioning_scale"] == pytest.approx(0.1)
    list(backend.generate(edit))
    assert calls[0]["conditioning_scale"] == pytest.approx(0.1)
