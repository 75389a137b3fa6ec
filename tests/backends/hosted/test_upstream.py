"""The hosted loop and the ``/v1/videos`` upstream client, against a scripted fake upstream."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from tests.support.hosted.fake_upstream import KEY, FakeUpstream
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import UPSTREAM, UPSTREAM_CAPS

from openreel.backends.hosted.base import HostedBackend, HostedModel, PollPolicy
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.providers import build_registry
from openreel.config import ProviderKeys, Settings, UpstreamConfig
from openreel.errors import (
    CancelledError,
)

_backend = UPSTREAM.backend
_request = UPSTREAM.request


def test_upstream_success_fits_frames_to_the_request_and_progress_only_rises() -> None:
    fake, time = FakeUpstream(progress=[10, 60, 30, 90]), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 24
    assert all(f.shape == (360, 640, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)  # the provider's 60 -> 30 never shows as going back
    assert seen[-1] == 24
    assert fake.jobs["video_1"].body == {
        "model": "openreel-sketch",
        "prompt": "a lighthouse at dusk",
        "seconds": "1",
        "size": "640x360",
    }
    # The provider's openai-poll-after-ms (1 s) set the pace, not our 2 s default.
    assert time.sleeps
    assert set(time.sleeps) == {1.0}
    # The source is 12 fps, ours 24: each source frame is shown twice, in order.
    reds = [int(f[180, 320, 0]) for f in frames]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]


def test_upstream_models_are_registered_only_with_url_key_and_models() -> None:
    def served(keyed: bool = True, **upstream: object) -> list[str]:
        keys = ProviderKeys(upstream=KEY) if keyed else ProviderKeys()  # type: ignore[arg-type]
        settings = Settings(upstream=UpstreamConfig(**upstream), providers=keys)  # type: ignore[arg-type]
        return [m.model for m in build_registry(settings).models()]

    assert served() == ["openreel-sketch"]
    assert served(url="http://up.test/v1", models=["m1"], keyed=False) == ["openreel-sketch"]
    assert served(url="http://up.test/v1", models=["m1", "m2"]) == [
        "openreel-sketch",
        "upstream/m1",
        "upstream/m2",
    ]
    assert served(url="http://up.test/v1", models=["m1"], prefix="studio") == [
        "openreel-sketch",
        "studio/m1",
    ]


def test_upstream_sends_a_reference_image_as_a_data_url() -> None:
    import base64
    import io

    from PIL import Image

    from openreel.domain import ImageInput

    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (250, 200, 10)).save(buffer, "PNG")
    image = ImageInput(buffer.getvalue(), "image/png", 64, 36)
    fake = FakeUpstream()
    _run(_backend(fake, FakeTime()), _request(input_reference=image))
    sent = fake.jobs["video_1"].body["input_reference"]
    assert sent == {"image_url": "data:image/png;base64," + base64.b64encode(image.data).decode()}


def _slotted(slots: threading.Semaphore) -> HostedBackend:
    time = FakeTime()
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=FakeUpstream().transport())
    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", UPSTREAM_CAPS)
    policy = PollPolicy(interval_s=2.0, retries=3, deadline_s=600, cancel_check_s=0.05)
    return HostedBackend(
        "upstream", client, (model,), policy=policy, sleep=time.sleep, clock=time.clock,
        render_slots=slots,
    )  # fmt: skip


def test_finished_results_render_one_slot_at_a_time() -> None:
    slots = threading.Semaphore(1)
    first = _slotted(slots).generate(_request())
    next(first)  # the first result holds the only slot while it is rendered
    done: list[int] = []
    waiting = threading.Thread(
        target=lambda: done.append(len(list(_slotted(slots).generate(_request()))))
    )
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()
    assert not done
    rest = list(first)
    assert len(rest) == _request().frame_count - 1
    waiting.join(10)
    assert done == [_request().frame_count]


def test_waiting_for_a_render_slot_can_be_cancelled() -> None:
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 20

    with pytest.raises(CancelledError):
        list(_slotted(threading.Semaphore(0)).generate(_request(), cancelled=cancelled))
