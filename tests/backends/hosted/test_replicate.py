"""The Replicate predictions client and its backend, against a scripted fake Replicate, and
held to Replicate's own SDK (``replicate`` 2.x): create bodies, endpoints, statuses, retries."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from replicate.types.models.prediction_create_params import (
    PredictionCreateParams as OfficialCreateParams,
)
from replicate.types.prediction import Prediction
from replicate.types.prediction_create_params import PredictionCreateParams
from tests.support.hosted import sdk
from tests.support.hosted.fake_replicate import KEY, OFFICIAL, FakeReplicate
from tests.support.hosted.harness import FakeTime
from tests.support.hosted.harness import run as _run
from tests.support.hosted.providers import REPLICATE

from openreel.backends.hosted.base import TransientProviderError
from openreel.backends.hosted.replicate import (
    LTX_VERSION,
    MODELS,
    ReplicateClient,
    build_replicate,
    model_input,
)
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
        "version": LTX_VERSION,
        "input": {
            "prompt": "a lighthouse at dusk",
            "length": 97,
            "target_size": 768,
            "aspect_ratio": "2:3",
            "seed": 3,
            "negative_prompt": "blur",
        },
    }
    # A community model: created by its version, never on the official-models endpoint.
    assert fake.requests[0] == "POST /v1/predictions"


def test_replicate_ltx_ten_seconds_asks_for_the_longest_length() -> None:
    fake = FakeReplicate(output_list=True)
    request = _request(model="replicate/ltx-video", width=768, height=512, seconds=10.0)
    backend = _backend(fake, FakeTime())
    backend.check(request)
    client = ReplicateClient(KEY, transport=fake.transport())
    client.submit(f"lightricks/ltx-video:{LTX_VERSION}", request)
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


# ----- held to Replicate's own SDK (replicate 2.x, the dev extra) -------------------------


def test_replicate_community_model_goes_to_predictions_with_its_version() -> None:
    fake = FakeReplicate(output_list=True)
    request = _request(model="replicate/ltx-video", width=768, height=512, seconds=1.0)
    _run(_backend(fake, FakeTime()), request)
    assert fake.requests[0] == "POST /v1/predictions"
    body = fake.predictions["pred0001"].body
    assert body["version"] == LTX_VERSION
    assert len(LTX_VERSION) == 64
    assert sdk.body_issues(PredictionCreateParams, body) == []


def test_replicate_every_create_body_is_valid_for_the_sdks_params() -> None:
    for model in MODELS:
        name, _, version = model.remote.partition(":")
        assert (name in OFFICIAL) == (not version), model.remote  # official: by name only
        for size in model.capabilities.sizes:
            width, height = (int(side) for side in size.split("x"))
            for seconds in (1.0, model.capabilities.max_seconds):
                for negative in ("", "blurry"):
                    request = _request(
                        model=model.id,
                        width=width,
                        height=height,
                        seconds=seconds,
                        negative_prompt=negative,
                    )
                    body: dict[str, object] = {"input": model_input(model.remote, request)}
                    if version:
                        issues = sdk.body_issues(
                            PredictionCreateParams, body | {"version": version}
                        )
                    else:
                        owner, _, alias = name.partition("/")
                        path = {"model_owner": owner, "model_name": alias}
                        issues = sdk.body_issues(OfficialCreateParams, body | path)
                    assert issues == [], (model.id, size, issues)


def test_replicate_maps_every_status_of_the_sdk_and_aborted() -> None:
    statuses = sdk.model_literal(Prediction, "status")
    assert statuses == {"starting", "processing", "succeeded", "failed", "canceled"}
    states: dict[str, str] = {}
    for status in (*statuses, "aborted"):
        reply = {"id": "p", "status": status, "logs": "", "error": None, "output": "https://x/y"}
        client = ReplicateClient(
            KEY, transport=httpx.MockTransport(lambda request, r=reply: httpx.Response(200, json=r))
        )
        states[status] = client.status("p").state
        client.close()
    assert states == {
        "starting": "queued",
        "processing": "running",
        "succeeded": "succeeded",
        "failed": "failed",
        "canceled": "cancelled",
        "aborted": "failed",
    }


def test_replicate_aborted_prediction_fails_at_once_instead_of_being_retried() -> None:
    fake, time = FakeReplicate(abort_later=True), FakeTime()
    with pytest.raises(BackendError, match="aborted at Replicate") as info:
        _run(_backend(fake, time), _request())
    assert info.value.code == "backend_error"  # a failure, not "kept failing" retries
    polls = [r for r in fake.requests if r.startswith("GET")]
    assert len(polls) == 1 + len(fake.progress) + 1  # starting, processing..., aborted: once


@pytest.mark.parametrize(
    ("status", "header", "retried"),
    [
        (409, None, True),
        (408, None, True),
        (429, None, True),
        (502, None, True),
        (400, None, False),
        (422, None, False),
        (404, "true", True),
        (500, "false", False),
    ],
)
def test_replicate_retry_rule_is_the_sdks(status: int, header: str | None, retried: bool) -> None:
    import replicate

    headers = {"x-should-retry": header} if header else {}
    response = httpx.Response(status, json={"detail": "d"}, headers=headers)
    response.request = httpx.Request("GET", "https://api.replicate.com/v1/predictions/p")
    assert replicate.Replicate(bearer_token=KEY)._should_retry(response) is retried
    client = ReplicateClient(KEY, transport=httpx.MockTransport(lambda request: response))
    with pytest.raises((TransientProviderError, BackendError)) as info:
        client.status("p")
    assert isinstance(info.value, TransientProviderError) is retried
    client.close()
