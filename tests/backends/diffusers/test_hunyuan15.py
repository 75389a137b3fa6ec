"""HunyuanVideo 1.5 through the real backend: the shipped catalogue entries (classes,
guidance, size rules) over tiny random pipelines built offline (tests/support/tiny_diffusers.py).

diffusers 0.42.1's HunyuanVideo15Pipeline takes no ``guidance_scale`` (its guider component
holds the scale) and its image-to-video pipeline takes no size at all (it makes the bucket of
its ``target_size`` nearest the image's aspect): these tests hold the backend to both.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.support.tiny_diffusers import TINY_HUNYUAN15, TINY_HUNYUAN15_I2V

from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import load_catalogue
from openreel.backends.registry import BackendRegistry
from openreel.domain import ImageInput, VideoRequest

Calls = list[tuple[dict[str, Any], tuple[int, ...]]]


def _request(model: str, **kw: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": 'a red kite over a beach, a sign reading "OPEN"',
        "seconds": 1.0,
        "width": 96,
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
def calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], Calls]:
    """Records each call of a pipeline class: its keyword arguments and the frames' shape."""

    def spy(cls: type) -> Calls:
        seen: Calls = []
        original = cls.__call__

        @functools.wraps(original)
        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            output = original(self, *args, **kwargs)
            seen.append((kwargs, tuple(np.asarray(output.frames).shape)))
            return output

        monkeypatch.setattr(cls, "__call__", recorded)
        return seen

    return spy


def _png(colour: tuple[int, int, int], width: int, height: int) -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return ImageInput(buffer.getvalue(), "image/png", width, height)


def test_text_to_video_makes_the_frames_asked_at_the_planned_size(
    tiny_registry: BackendRegistry, calls: Callable[[type], Calls]
) -> None:
    import diffusers

    backend = _backend(tiny_registry, TINY_HUNYUAN15)
    seen = calls(diffusers.HunyuanVideo15Pipeline)
    request = _request(TINY_HUNYUAN15)
    plan = backend.plan(request)
    frames = list(backend.generate(request))
    assert len(frames) == request.frame_count == 8
    assert all(f.shape == (64, 96, 3) and f.dtype == np.uint8 for f in frames)
    [(kwargs, shape)] = seen
    # One call of 4k+1 frames at the native size the plan reports (48x32: 3:2 at the tiny
    # model's pixel count), with the prompt and no argument the pipeline lacks.
    assert (kwargs["width"], kwargs["height"]) == (plan.width, plan.height) == (48, 32)
    assert shape == (1, kwargs["num_frames"], 32, 48, 3)
    assert (kwargs["num_frames"] - 1) % 4 == 0
    assert kwargs["prompt"] == request.prompt
    assert "guidance_scale" not in kwargs
    assert "callback_on_step_end" not in kwargs
    # The same seed makes the same clip; another seed another.
    again = list(backend.generate(request))
    other = list(backend.generate(_request(TINY_HUNYUAN15, seed=6)))
    assert all(np.array_equal(a, b) for a, b in zip(frames, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(frames, other, strict=True))


def test_the_catalogue_guidance_reaches_the_guider(tiny_registry: BackendRegistry) -> None:
    """The pipeline ignores a guidance_scale argument; the scale is its guider's."""
    backend = _backend(tiny_registry, TINY_HUNYUAN15)
    list(backend.generate(_request(TINY_HUNYUAN15, seconds=0.25)))
    loaded = backend.cache.loaded
    assert loaded is not None
    shipped = load_catalogue().get("hunyuanvideo-1.5-480p")
    assert shipped is not None
    # The tiny weights were saved with guidance 1.0 (off); the shipped entry says 6.0.
    assert loaded.pipe.guider.guidance_scale == shipped.guidance == 6.0
    assert backend.plan(_request(TINY_HUNYUAN15)).guidance == 6.0


def test_image_to_video_starts_from_the_reference_at_the_size_it_makes(
    tiny_registry: BackendRegistry, calls: Callable[[type], Calls]
) -> None:
    """The image-to-video pipeline takes no size: it makes its target-size bucket nearest
    the image's aspect. A square request still gets the native 3:2 image, so what the
    pipeline makes is what the plan says, then scaled to the request."""
    import diffusers

    backend = _backend(tiny_registry, TINY_HUNYUAN15_I2V)
    seen = calls(diffusers.HunyuanVideo15ImageToVideoPipeline)
    red = (220, 30, 30)
    request = _request(TINY_HUNYUAN15_I2V, width=64, height=64, input_reference=_png(red, 64, 64))
    plan = backend.plan(request)
    assert plan.first_frame == "input_reference"
    frames = list(backend.generate(request))
    assert len(frames) == request.frame_count == 8
    assert all(f.shape == (64, 64, 3) for f in frames)
    [(kwargs, shape)] = seen
    image = kwargs["image"]
    assert isinstance(image, Image.Image)
    assert image.size == (plan.width, plan.height) == (48, 32)
    assert np.asarray(image)[16, 24].tolist() == list(red)  # the reference itself
    assert shape == (1, kwargs["num_frames"], plan.height, plan.width, 3)


def test_image_to_video_continues_longer_clips_from_its_last_frames(
    tiny_registry: BackendRegistry, calls: Callable[[type], Calls]
) -> None:
    import diffusers

    backend = _backend(tiny_registry, TINY_HUNYUAN15_I2V)
    seen = calls(diffusers.HunyuanVideo15ImageToVideoPipeline)
    request = _request(TINY_HUNYUAN15_I2V, seconds=2.0)  # no reference: the sketch's frame
    plan = backend.plan(request)
    assert plan.first_frame == "sketch"
    frames = list(backend.generate(request))
    assert len(frames) == request.frame_count == 16
    assert all(f.shape == (64, 96, 3) for f in frames)
    assert [kwargs["num_frames"] for kwargs, _ in seen] == list(plan.segments.frames)
    assert len(seen) == 2
    assert all(isinstance(kwargs["image"], Image.Image) for kwargs, _ in seen)
