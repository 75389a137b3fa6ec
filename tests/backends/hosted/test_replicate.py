"""The Replicate predictions client and its backend, against a scripted fake Replicate."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from tests.support.hosted.fake_replicate import KEY, FakeReplicate
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import REPLICATE

from openreel.backends.hosted.replicate import MODELS, ReplicateClient, build_replicate
from openreel.errors import (
    BackendError,
    CancelledError,
    InvalidRequestError,
)

_backend = REPLICATE.backend
_request = REPLICATE.request


def test_replicate_success_fits_frames_and_progress_comes_from_the_logs() -> None:
    fake, time = FakeReplicate(progress=[10, None, 50, 30, 90]), FakeTime()
    request = _request()
    frames, seen = _run(_backend(fake, time), request)
    assert len(frames) == request.frame_count == 24
    assert all(f.shape == (480, 832, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)
    assert seen[-1] == 24
    # Polls: starting (0), 10% -> 2, no new line (still 10%) -> 2, 50% -> 10, 30% (never
    # shown as going back) -> 10, 90% -> 19, then succeeded (100%) -> 21.
    assert seen[:7] == [0, 2, 2, 10, 10, 19, 21]
    reds = [int(f[240, 416, 0]) for f in frames]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]


def test_replicate_sends_the_bearer_header_and_the_input_exactly() -> None:
    fake = FakeReplicate()
    _run(_backend(fake, FakeTime()), _request())
    prediction = fake.predictions["pred0001"]
    assert prediction.model == "wan-video/wan-2.2-t2v-fast"
    assert prediction.body == {
        "input": {
            "prompt": "a lighthouse at dusk",
            "num_frames": 81,
            "frames_per_second": 16,
            "resolution": "480p",
            "aspect_ratio": "16:9",
            "seed": 3,
        }
    }
    assert set(fake.auth_headers) == {f"Bearer {KEY}"}
    assert fake.requests[0] == "POST /v1/models/wan-video/wan-2.2-t2v-fast/predictions"
    assert set(fake.requests[1:]) == {"GET /v1/predictions/pred0001"}


def test_replicate_ltx_input_and_a_list_output() -> None:
    fake = FakeReplicate(output_list=True)
    request = _request(
        model="replicate/ltx-video", width=512, height=768, seconds=2.0, negative_prompt="blur"
    )
    frames, _ = _run(_backend(fake, FakeTime()), request)
    assert len(frames) == 48
    assert frames[0].shape == (768, 512, 3)
    assert fake.predictions["pred0001"].body == {
        "input": {
            "prompt": "a lighthouse at dusk",
            "length": 97,
            "target_size": 768,
            "aspect_ratio": "2:3",
            "seed": 3,
            "negative_prompt": "blur",
        }
    }
    assert fake.requests[0] == "POST /v1/models/lightricks/ltx-video/predictions"


def test_replicate_ltx_ten_seconds_asks_for_the_longest_length() -> None:
    fake = FakeReplicate(output_list=True)
    request = _request(model="replicate/ltx-video", width=768, height=512, seconds=10.0)
    backend = _backend(fake, FakeTime())
    backend.check(request)
    client = ReplicateClient(KEY, transport=fake.transport())
    client.submit("lightricks/ltx-video", request)
    body = fake.predictions["pred0001"].body["input"]
    assert isinstance(body, dict)
    assert (body["length"], body["aspect_ratio"]) == (257, "3:2")


def test_replicate_catalogue_limits_are_checked_at_admission() -> None:
    backend = build_replicate(KEY, transport=FakeReplicate().transport())
    assert backend.models == ("replicate/wan-2.2-t2v-fast", "replicate/ltx-video")
    assert [m.id for m in MODELS] == list(backend.models)
    assert not any(m.capabilities.deterministic for m in MODELS)
    backend.check(_request(width=1280, height=720))
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(seconds=6.0))
    assert info.value.param == "seconds"
    with pytest.raises(InvalidRequestError) as info:
        backend.check(_request(width=640, height=360))
    assert info.value.param == "size"


def test_replicate_canceled_elsewhere_is_a_backend_error() -> None:
    fake, time = FakeReplicate(never_finish=True), FakeTime()

    def cancel_remotely(seconds: float) -> None:
        time.sleep(seconds)
        if time.now >= 4:
            fake.predictions["pred0001"].cancelled = True

    backend = build_replicate(
        KEY, transport=fake.transport(), sleep=cancel_remotely, clock=time.clock
    )
    with pytest.raises(BackendError, match="cancelled at Replicate") as info:
        _run(backend, _request())
    assert not isinstance(info.value, CancelledError)


def test_replicate_progress_is_the_last_percentage_in_the_logs() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        logs = "Loading...\n  5%|#    | 1/20\n 45%|####  | 9/20 [00:04<00:05]\nstill going\n"
        return httpx.Response(200, json={"id": "p", "status": "processing", "logs": logs})

    client = ReplicateClient(KEY, transport=httpx.MockTransport(handler))
    job = client.status("p")
    assert (job.state, job.progress) == ("running", 45.0)


def test_replicate_unprocessable_input_is_a_backend_error_with_the_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"title": "Input validation failed", "detail": "num_frames: must be >= 81"}
        return httpx.Response(422, json=body)

    client = ReplicateClient(KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(BackendError, match="must be >= 81"):
        client.submit("wan-video/wan-2.2-t2v-fast", _request())
