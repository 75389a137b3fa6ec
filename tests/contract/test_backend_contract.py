"""The contract every VideoBackend must keep; runs over every backend the registry serves.

A new backend joins this suite by being registered in ``openreel.backends.providers.build_registry``
(or by a test fixture for backends that need hardware), and must pass it unchanged. Every
hosted provider runs it through its real client and loop against a scripted fake of its API.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.support.hosted.harness import FakeTime

from openreel.backends.base import BackendCapabilities, VideoBackend
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import Settings
from openreel.domain import VideoRequest, parse_size
from openreel.errors import CancelledError, InvalidRequestError
from openreel.media.encode import EncoderSettings
from openreel.services.generation import PreviewPaths, render_video

TINY_LOCAL = ["tiny-ltx", "tiny-wan", "tiny-ltx-2"]
"""Local diffusers models: tiny random LTX-Video, Wan and LTX-2 pipelines (tests/conftest.py)."""


def _upstream() -> VideoBackend:
    from tests.support.hosted.fake_upstream import KEY, FakeUpstream

    from openreel.backends.hosted.base import HostedBackend, HostedModel
    from openreel.backends.hosted.upstream import UpstreamClient

    caps = BackendCapabilities(
        max_seconds=20,
        min_side=64,
        max_side=1920,
        fps_range=(1, 60),
        sizes=("96x64",),
        deterministic=False,
    )
    time = FakeTime()  # no real waiting
    fake = FakeUpstream(listing=True)
    client = UpstreamClient(
        "http://upstream.test/v1", KEY, transport=fake.transport(), clock=time.clock
    )
    models = (HostedModel("upstream/fake", "m", caps),)
    return HostedBackend("upstream", client, models, sleep=time.sleep, clock=time.clock)


def _provider(module: str, fake: str) -> Callable[[], VideoBackend]:
    """A hosted provider's real backend (``build_<name>``) wired to its scripted fake."""

    def build() -> VideoBackend:
        fakes = importlib.import_module(f"tests.support.hosted.fake_{module}")
        provider = importlib.import_module(f"openreel.backends.hosted.{module}")
        time = FakeTime()
        host = getattr(fakes, "API_HOST", None)  # a fake that checks the host it is sent to
        backend: VideoBackend = getattr(provider, f"build_{module}")(
            fakes.KEY,
            transport=getattr(fakes, fake)().transport(),
            sleep=time.sleep,
            clock=time.clock,
            **({} if host is None else {"base_url": f"https://{host}"}),
        )
        return backend

    return build


def _veo() -> VideoBackend:
    import httpx
    from google.oauth2.credentials import Credentials
    from tests.support.hosted.fake_veo import BASE, LOCATION, PROJECT, TOKEN, FakeVeo

    from openreel.backends.hosted.veo import build_veo

    time = FakeTime()
    client = {
        "credentials": Credentials(token=TOKEN),
        "base_url": BASE,
        "http_client": httpx.Client(transport=FakeVeo().transport()),
    }
    return build_veo(
        project=PROJECT,
        location=LOCATION,
        client_kwargs=client,
        sleep=time.sleep,
        clock=time.clock,
    )


HOSTED_FAKES: dict[str, Callable[[], VideoBackend]] = {
    "upstream/fake": _upstream,
    "fal/ltx-video": _provider("fal", "FakeFal"),
    "replicate/wan-2.2-t2v-fast": _provider("replicate", "FakeReplicate"),
    "luma/ray-flash-2": _provider("luma", "FakeLuma"),
    "runway/gen4.5": _provider("runway", "FakeRunway"),
    "veo/veo-3.1-fast": _veo,
}
"""Every hosted provider's real client and loop against a scripted fake of its API (one
model each: the loop is shared, the wire format is what differs)."""

LOCAL = [entry.model for entry in build_registry(Settings()).models()] + TINY_LOCAL
MODELS = LOCAL + list(HOSTED_FAKES)
DETERMINISTIC = LOCAL  # a provider's output is its own


@pytest.fixture(params=MODELS)
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(model: str, request: pytest.FixtureRequest) -> VideoBackend:
    if model in HOSTED_FAKES:
        return HOSTED_FAKES[model]()
    if model in TINY_LOCAL:
        registry: BackendRegistry = request.getfixturevalue("tiny_registry")
        return registry.for_model(model)
    return build_registry(Settings()).for_model(model)


def _small(backend: VideoBackend, model_id: str, **kw: object) -> VideoRequest:
    """The smallest request ``model_id`` accepts: 96x64 at 8 fps for one second where the
    model allows any size; otherwise its smallest size, nearest rate and shortest length."""
    caps = backend.capabilities(model_id) if model_id in backend.models else None
    args: dict[str, object] = {
        "prompt": "a sailboat on a lake at dusk, light rain",
        "seconds": 1.0,
        "width": 96,
        "height": 64,
        "fps": 8,
        "seed": 11,
        "model": model_id,
    }
    if caps is not None:
        if not caps.any_size:
            width, height = min((parse_size(s) for s in caps.sizes), key=lambda wh: wh[0] * wh[1])
            args |= {"width": width, "height": height}
        args["fps"] = min(max(8, caps.fps_range[0]), caps.fps_range[1])
        if "seconds" not in kw and "model" not in kw:
            for seconds in (1.0, 2.0, 4.0, 5.0, 6.0, 8.0, 9.0, 10.0):
                try:
                    backend.check(VideoRequest(**(args | kw | {"seconds": seconds})))  # type: ignore[arg-type]
                except InvalidRequestError:
                    continue
                args["seconds"] = seconds
                break
            else:
                pytest.fail(f"{model_id} accepts none of the lengths tried")
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


def test_contract_backend_satisfies_the_protocol(backend: VideoBackend, model: str) -> None:
    assert isinstance(backend, VideoBackend)
    assert backend.name
    assert model in backend.models


def test_contract_capabilities_are_declared_and_consistent(
    backend: VideoBackend, model: str
) -> None:
    caps = backend.capabilities(model)
    assert isinstance(caps, BackendCapabilities)
    assert caps.max_seconds > 0
    assert 0 < caps.min_side <= caps.max_side
    low, high = caps.fps_range
    assert 1 <= low <= high
    for size in caps.sizes:
        w, h = parse_size(size)
        assert caps.min_side <= min(w, h)
        assert max(w, h) <= caps.max_side
    assert caps.to_dict()["max_seconds"] == caps.max_seconds


def test_contract_rejects_too_long_naming_seconds(backend: VideoBackend, model: str) -> None:
    caps = backend.capabilities(model)
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_small(backend, model, seconds=caps.max_seconds + 1))
    assert info.value.param == "seconds"
    assert f"{caps.max_seconds + 1:g}" in info.value.message


def test_contract_rejects_unknown_model_naming_model(backend: VideoBackend, model: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_small(backend, model, model="no-such-model"))
    assert info.value.param == "model"
    assert "no-such-model" in info.value.message


def test_contract_rejects_an_unfixed_seed(backend: VideoBackend, model: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        list(backend.generate(_small(backend, model, seed=None)))
    assert info.value.param == "seed"


def test_contract_frames_have_the_requested_shape_and_count(
    backend: VideoBackend, model: str
) -> None:
    request = _small(backend, model)
    frames = list(backend.generate(request))
    assert len(frames) == request.frame_count > 1
    for frame in frames:
        assert frame.shape == (request.height, request.width, 3)
        assert frame.dtype == np.uint8
    # Frames are independent arrays: keeping one does not see later ones.
    assert not all(np.shares_memory(frames[0], f) for f in frames[1:])


def test_contract_progress_is_monotonic_and_reaches_the_total(
    backend: VideoBackend, model: str
) -> None:
    seen: list[tuple[int, int]] = []
    request = _small(backend, model)
    for _ in backend.generate(request, progress=lambda done, total: seen.append((done, total))):
        pass
    dones = [d for d, _ in seen]
    assert dones == sorted(dones)
    assert dones[-1] == seen[-1][1] == request.frame_count
    assert all(0 <= d <= t for d, t in seen)


def test_contract_cancel_is_honoured_within_one_frame(backend: VideoBackend, model: str) -> None:
    consumed = 0

    def cancelled() -> bool:
        return consumed >= 3

    got = 0

    def consume() -> None:
        nonlocal consumed, got
        for _ in backend.generate(_small(backend, model), cancelled=cancelled):
            consumed += 1
            got += 1

    with pytest.raises(CancelledError):
        consume()
    assert got <= 4


def test_contract_cancel_leaves_no_artifact(
    backend: VideoBackend, model: str, tmp_path: Path
) -> None:
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 4

    target = tmp_path / "clip.mp4"
    with pytest.raises(CancelledError):
        render_video(
            backend,
            _small(backend, model),
            target,
            encoder=EncoderSettings(),
            previews=PreviewPaths.beside(target),
            cancelled=cancelled,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model", DETERMINISTIC)
def test_contract_same_seed_same_frames(backend: VideoBackend, model: str) -> None:
    if not backend.capabilities(model).deterministic:
        pytest.fail("every local backend in this suite must be deterministic on CPU")
    a = list(backend.generate(_small(backend, model)))
    b = list(backend.generate(_small(backend, model)))
    c = list(backend.generate(_small(backend, model, seed=12)))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_contract_describe_is_json_ready(backend: VideoBackend, model: str) -> None:
    import json

    json.dumps(dict(backend.describe(_small(backend, model))))


def test_contract_every_video_carries_label_and_trusted_credentials(
    backend: VideoBackend, model: str, tmp_path: Path
) -> None:
    from openreel.media.c2pa import verify_mp4
    from openreel.media.label import Labeler, LabelSpec
    from openreel.media.probe import iter_frames
    from openreel.runtime import signing

    provenance = signing(Settings(data_dir=tmp_path / "data"))
    assert provenance is not None
    target = tmp_path / "clip.mp4"
    request = _small(backend, model)
    render_video(
        backend,
        request,
        target,
        encoder=EncoderSettings(),
        label=LabelSpec(),
        provenance=provenance,
    )
    verdict = verify_mp4(target, trust_anchors=[provenance.identity.anchor_pem])
    assert verdict.status == "Trusted", verdict.messages
    assert verdict.model == model
    assert verdict.backend == backend.name
    assert verdict.seed == request.seed
    x0, y0, w, h = Labeler(LabelSpec(), request.width, request.height).box
    for frame in iter_frames(target):
        assert frame[y0 : y0 + h, x0 : x0 + w].max() > 200  # the label's white text
