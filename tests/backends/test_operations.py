"""Which models can edit or take a character, and the refusals at admission of those that
cannot: every hosted provider's models (keys configured; nothing is called). An upstream
passes edits through to its own ``/videos/edits`` (tests/e2e/test_upstream.py); the providers
refuse them."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace

import pytest
from PIL import Image
from pydantic import SecretStr

from openreel.backends.base import VideoBackend
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import ProviderKeys, Settings, UpstreamConfig
from openreel.domain import CharacterRef, ImageInput, SourceVideo, VideoRequest
from openreel.errors import InvalidRequestError

_KEY = SecretStr("k-test")


def _registry() -> BackendRegistry:
    keys = ProviderKeys(runway=_KEY, fal=_KEY, replicate=_KEY, luma=_KEY, upstream=_KEY)
    upstream = UpstreamConfig(url="http://127.0.0.1:9", models=["up-1"])
    return build_registry(Settings(providers=keys, upstream=upstream))


def _accepted(
    backend: VideoBackend, model: str, width: int, height: int, fps_range: tuple[int, int]
) -> VideoRequest:
    """A plain request the model accepts (providers allow only some lengths), so what the
    test adds to it is refused for itself."""
    fps = max(fps_range[0], min(24, fps_range[1]))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buffer, "PNG")
    picture = ImageInput(buffer.getvalue(), "image/png", width, height)
    for seconds, image in itertools.product((4.0, 5.0, 6.0, 8.0, 10.0), (None, picture)):
        request = VideoRequest(
            prompt="Mira on a beach",
            model=model,
            width=width,
            height=height,
            seconds=seconds,
            fps=fps,
            input_reference=image,
        )
        try:
            backend.check(request)
        except InvalidRequestError:
            continue
        return request
    raise AssertionError(f"no plain request found that {model} accepts")


HOSTED = [entry.model for entry in _registry().models() if entry.hosted]
EDITORS = {"runway/aleph2"}
"""Hosted models that edit with their provider's own video-to-video (and only edit)."""


def test_every_kind_of_hosted_model_is_checked_below() -> None:
    backends = {entry.backend for entry in _registry().models() if entry.hosted}
    assert backends >= {"runway", "fal", "replicate", "luma", "upstream"}


@pytest.mark.parametrize("model", sorted(EDITORS))
def test_a_video_to_video_model_admits_edits_and_refuses_creates_naming_itself(
    model: str,
) -> None:
    backend = _registry().for_model(model)
    caps = backend.capabilities(model)
    assert caps.operations == ["edit"]
    assert caps.edit_note
    source = SourceVideo(path="jobs/x/source.mp4", frames=96, fps=24.0, width=1280, height=720)
    edit = VideoRequest(
        prompt="make it snow", model=model, width=1280, height=720, seconds=4.0, fps=24
    )
    backend.check(replace(edit, operation="edit", source=source))
    for operation in ("create", "extend"):
        with pytest.raises(InvalidRequestError) as refused:
            backend.check(replace(edit, operation=operation))
        assert refused.value.param == "model"
        assert model in refused.value.message
        assert "only edits" in refused.value.message


@pytest.mark.parametrize("model", [m for m in HOSTED if m not in EDITORS])
def test_a_hosted_model_refuses_an_edit_and_a_character_naming_them(model: str) -> None:
    backend = _registry().for_model(model)
    caps = backend.capabilities(model)
    upstream = backend.name == "upstream"
    assert ("edit" in caps.operations) is upstream
    assert "character" not in caps.inputs
    width, height = (int(side) for side in caps.sizes[0].split("x"))
    plain = _accepted(backend, model, width, height, caps.fps_range)
    source = SourceVideo(path="jobs/x/source.mp4", frames=96, fps=24.0, width=width, height=height)
    if upstream:
        backend.check(replace(plain, operation="edit", source=source))
    else:
        with pytest.raises(InvalidRequestError) as edit:
            backend.check(replace(plain, operation="edit", source=source))
        assert edit.value.param == "model"
        assert model in edit.value.message
    mira = CharacterRef(id="char_" + "0" * 32, name="Mira", cutout="c.png", frame="f.png")
    with pytest.raises(InvalidRequestError) as character:
        backend.check(replace(plain, character=mira))
    assert character.value.param == "prompt"
    assert "'Mira'" in character.value.message
    assert model in character.value.message
