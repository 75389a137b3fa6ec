"""A text-only model continues a clip longer than one call through its image-to-video pair
(``continue_with``): the first segment from the text model, each later one from the pair
started on the previous segment's last frame, both loaded through the one cache and checked
against the GPU's memory before anything loads. A model with no pair still stops at one call.

Driven on tiny random Wan pipelines (built offline, tests/conftest.py) through the real
catalogue, loader and backend."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.support.tiny_diffusers import TINY_WAN, TINY_WAN_A14B, TINY_WAN_CHAINED

from openreel.backends.diffusers import loader
from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import Catalogue, load_catalogue
from openreel.backends.diffusers.outputs import to_frames
from openreel.backends.registry import BackendRegistry
from openreel.domain import VideoRequest
from openreel.errors import BackendUnavailableError, ConfigurationError, InvalidRequestError


def _request(model: str = TINY_WAN_CHAINED, **changes: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "a red kite over a beach",
        "seconds": 2.0,
        "width": 64,
        "height": 64,
        "fps": 8,
        "seed": 5,
        "model": model,
    }
    return VideoRequest(**(args | changes))


def _backend(registry: BackendRegistry, model: str = TINY_WAN_CHAINED) -> DiffusersBackend:
    found = registry.for_model(model)
    assert isinstance(found, DiffusersBackend)
    return found


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any], Any]]:
    """(class, keyword arguments, output) of every Wan pipeline call, in order."""
    import diffusers

    seen: list[tuple[str, dict[str, Any], Any]] = []
    for name in ("WanPipeline", "WanImageToVideoPipeline"):
        cls = getattr(diffusers, name)
        original = cls.__call__

        def spied(
            self: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any
        ) -> Any:
            output = _original(self, *args, **kwargs)
            seen.append((_name, kwargs, output))
            return output

        monkeypatch.setattr(cls, "__call__", functools.wraps(original)(spied))
    return seen


def test_a_two_segment_clip_continues_through_the_paired_image_to_video_model(
    tiny_registry: BackendRegistry, calls: list[tuple[str, dict[str, Any], Any]]
) -> None:
    backend = _backend(tiny_registry)
    request = _request()
    described = backend.describe(request)
    assert described["segments"]["frames"] == [9, 9]
    assert described["segments"]["continued_with"] == TINY_WAN_A14B
    assert TINY_WAN_A14B in described["summary"]
    frames = list(backend.generate(request))
    assert len(frames) == request.frame_count
    assert [name for name, _, _ in calls] == ["WanPipeline", "WanImageToVideoPipeline"]
    (_, first, made), (_, second, _) = calls
    assert "image" not in first  # the text model makes the first segment from the prompt
    # The pair starts from the first segment's last frame, at its own guidance.
    last = to_frames(made.frames, first["num_frames"])[-1]
    np.testing.assert_array_equal(np.asarray(second["image"]), last)
    assert second["guidance_scale"] == backend.entry(TINY_WAN_A14B).guidance
    assert first["guidance_scale"] == backend.entry(TINY_WAN_CHAINED).guidance
    # The pair was loaded through the one cache (the text model released first).
    loaded = backend.cache.loaded
    assert loaded is not None
    assert loaded.key[0] == backend.entry(TINY_WAN_A14B).source


def test_a_one_call_clip_never_loads_the_pair(
    tiny_registry: BackendRegistry, calls: list[tuple[str, dict[str, Any], Any]]
) -> None:
    backend = _backend(tiny_registry)
    request = _request(seconds=1.0)
    assert "continued_with" not in backend.describe(request)["segments"]
    assert len(list(backend.generate(request))) == request.frame_count
    assert [name for name, _, _ in calls] == ["WanPipeline"]


def test_paired_model_offers_ten_seconds_and_says_how(tiny_registry: BackendRegistry) -> None:
    paired = _backend(tiny_registry).capabilities(TINY_WAN_CHAINED)
    assert paired.max_seconds == 20  # the tiny catalogue's max_seconds, not one call's 1 s
    assert TINY_WAN_A14B in paired.length_note
    assert "last frame" in paired.length_note
    assert paired.to_dict()["length_note"] == paired.length_note  # what /v1/models shows
    assert not paired.image_input  # the text model itself still takes no image
    # The same weights with no pair stop at one call, as before.
    alone = _backend(tiny_registry, TINY_WAN)
    assert alone.capabilities(TINY_WAN).max_seconds == 1.0
    with pytest.raises(InvalidRequestError) as info:
        alone.check(_request(TINY_WAN))
    assert info.value.param == "seconds"


def test_shipped_text_only_models_continue_through_their_image_to_video_siblings() -> None:
    catalogue = load_catalogue()
    backend = DiffusersBackend(catalogue)
    pairs = {
        "wan2.1-t2v-1.3b": "wan2.1-i2v-14b-480p",
        "wan2.2-t2v-a14b": "wan2.2-i2v-a14b",
        "cogvideox-5b": "cogvideox-5b-i2v",
        "hunyuanvideo": "hunyuanvideo-i2v",
        "hunyuanvideo-1.5-480p": "hunyuanvideo-1.5-480p-i2v",
        "hunyuanvideo-1.5-720p": "hunyuanvideo-1.5-720p-i2v",
    }
    for model, pair in pairs.items():
        entry = backend.entry(model)
        assert entry.continue_with == pair
        caps = backend.capabilities(model)
        assert caps.max_seconds == 10, model
        assert pair in caps.length_note, model
        assert any(pair in line for line in entry.card.limits), model
        plan = backend.plan(VideoRequest(prompt="x", seed=1, model=model, seconds=10))
        assert plan.continued_with == pair
        assert plan.total_steps == entry.steps + (len(plan.segments.frames) - 1) * (
            backend.entry(pair).steps
        )
    # Every model without image-to-video has a pair, but Wan VACE: an editing model whose
    # own clip is one call (said in its limits and length note).
    single = {e.id for e in catalogue.entries if not e.continues}
    assert single == {"wan2.1-vace-1.3b"}, single
    vace = backend.capabilities("wan2.1-vace-1.3b")
    assert vace.max_seconds == 5
    assert "cannot continue" in vace.length_note


def _cuda(monkeypatch: pytest.MonkeyPatch, free_gib: float) -> None:
    """The loader on a CUDA device with ``free_gib`` free (torch.cuda's mem_get_info and
    memory_reserved), so the memory check runs on this CPU machine."""
    gib = 1024**3
    cuda = SimpleNamespace(
        mem_get_info=lambda: (int(free_gib * gib), 80 * gib), memory_reserved=lambda: 0
    )
    runtime = loader.Runtime(SimpleNamespace(cuda=cuda), None)
    monkeypatch.setattr(loader, "import_runtime", lambda: runtime)
    monkeypatch.setattr(loader, "pick_device", lambda runtime, wanted: "cuda")


def test_memory_is_checked_for_both_models_before_anything_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = DiffusersBackend(load_catalogue())
    _cuda(monkeypatch, free_gib=20)  # the 1.3B fits (14 GiB), its 14B pair (32 GiB) does not
    loads: list[Any] = []
    monkeypatch.setattr(loader, "_load", lambda *a: loads.append(a))
    request = VideoRequest(prompt="x", seed=1, model="wan2.1-t2v-1.3b", seconds=10)
    with pytest.raises(BackendUnavailableError) as info:
        list(backend.generate(request))
    assert info.value.code == "model_too_large"
    assert "wan2.1-i2v-14b-480p continues clips of wan2.1-t2v-1.3b" in info.value.message
    assert loads == []  # refused before the first segment, not after it
    _cuda(monkeypatch, free_gib=40)
    backend.cache.check_chain(
        backend.entry("wan2.1-t2v-1.3b"), backend.entry("wan2.1-i2v-14b-480p")
    )


PAIRED = """
[[model]]
id = "t2v"
family = "wan"
source = "/nowhere"
steps = 2
guidance = 1.0
width = 32
height = 32
fps = 8
max_frames = 9
overlap = 1
continue_with = "{pair}"

[[model]]
id = "i2v"
family = "wan"
source = "/nowhere"
pipeline = "WanImageToVideoPipeline"
image_only = true
steps = 2
guidance = 1.0
width = 32
height = {height}
fps = {fps}
max_frames = 9
overlap = 1
"""


@pytest.mark.parametrize(
    ("pair", "fps", "height", "says"),
    [
        ("nobody", 8, 32, "must name another model"),
        ("t2v", 8, 32, "must name an image-to-video model"),
        ("i2v", 16, 32, "same native clip"),
        ("i2v", 8, 48, "same native clip"),
    ],
)
def test_a_pair_that_cannot_continue_the_clip_is_refused_at_load(
    tmp_path: Path, pair: str, fps: int, height: int, says: str
) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(PAIRED.format(pair=pair, fps=fps, height=height))
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(path)
    assert "continue_with" in info.value.message
    assert says in info.value.message
    assert repr(pair) in info.value.message
    path.write_text(PAIRED.format(pair="i2v", fps=8, height=32))
    assert load_catalogue(path).get("t2v") is not None


def test_a_pair_missing_from_the_catalogue_continues_nothing() -> None:
    """A catalogue built in code (a benchmark's) without the named pair offers one call, as a
    text-only model without a pair does, rather than independent clips joined."""
    shipped = load_catalogue().get("cogvideox-5b")
    assert shipped is not None
    backend = DiffusersBackend(Catalogue((shipped,), "in code"))
    caps = backend.capabilities("cogvideox-5b")
    assert caps.max_seconds == shipped.one_call_seconds
    assert "cannot continue" in caps.length_note
    with pytest.raises(InvalidRequestError):
        backend.check(VideoRequest(prompt="x", seed=1, model="cogvideox-5b", seconds=10))


def test_a_clip_continued_by_a_fixed_size_pair_is_made_at_that_size_throughout() -> None:
    """HunyuanVideo 1.5 I2V makes only its native 16:9 size: a portrait clip its text model
    starts and it continues is made at that size (then fitted), so the segments join; a clip
    of one call keeps the request's aspect."""
    backend = DiffusersBackend(load_catalogue())
    pair = backend.entry("hunyuanvideo-1.5-480p-i2v")
    assert pair.fixed_size
    portrait = {"prompt": "x", "seed": 1, "model": "hunyuanvideo-1.5-480p"}
    portrait |= {"width": 480, "height": 848}
    continued = backend.plan(VideoRequest(**portrait, seconds=10))
    assert continued.continued_with == pair.id
    assert (continued.width, continued.height) == (pair.width, pair.height)
    single = backend.plan(VideoRequest(**portrait, seconds=2))
    assert single.continued_with is None
    assert single.height > single.width
