"""The hosted loop and the ``/v1/videos`` upstream client, against a scripted fake upstream."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, PollPolicy
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.providers import build_registry
from openreel.config import ProviderKeys, Settings, UpstreamConfig
from openreel.domain import VideoRequest
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    ModerationBlockedError,
)

from .fake_upstream import KEY, FakeUpstream
from .harness import FakeTime
from .harness import run as _run

CAPS = BackendCapabilities(
    max_seconds=20,
    min_side=64,
    max_side=1920,
    fps_range=(1, 60),
    sizes=("640x360",),
    image_input=True,  # as runtime declares upstream models: the upstream checks itself
)


def _backend(fake: FakeUpstream, time: FakeTime, policy: PollPolicy | None = None) -> HostedBackend:
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport())
    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", CAPS)
    return HostedBackend(
        "upstream",
        client,
        (model,),
        policy=policy or PollPolicy(interval_s=2.0, retries=3, deadline_s=600),
        sleep=time.sleep,
        clock=time.clock,
    )


def _request(**kw: object) -> VideoRequest:
    args: dict[str, object] = {
        "prompt": "a lighthouse at dusk",
        "model": "upstream/openreel-sketch",
        "seconds": 1.0,
        "width": 640,
        "height": 360,
        "fps": 24,
        "seed": 3,
    }
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


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


def test_upstream_refusal_at_create_is_moderation_blocked_with_the_reason() -> None:
    fake = FakeUpstream(refuse_at_create=True)
    with pytest.raises(ModerationBlockedError) as info:
        _run(_backend(fake, FakeTime()), _request())
    assert info.value.category == "provider"
    assert "blocked by our moderation system" in info.value.message


def test_upstream_refusal_after_polling_is_moderation_blocked() -> None:
    with pytest.raises(ModerationBlockedError, match="looks like a real person"):
        _run(_backend(FakeUpstream(refuse_later=True), FakeTime()), _request())


def test_upstream_failure_is_a_backend_error_naming_the_cause() -> None:
    with pytest.raises(BackendError, match="GPU fell over") as info:
        _run(_backend(FakeUpstream(fail_later=True), FakeTime()), _request())
    assert not isinstance(info.value, ModerationBlockedError)


def test_upstream_429_waits_for_retry_after_then_succeeds() -> None:
    fake, time = FakeUpstream(throttle_first=2, retry_after="7"), FakeTime()
    frames, _ = _run(_backend(fake, time), _request())
    assert len(frames) == 24
    assert time.now >= 14  # two waits of Retry-After: 7 s each
    assert fake.requests[:3] == ["POST /v1/videos"] * 3


def test_upstream_5xx_and_timeouts_and_bad_json_are_retried_up_to_the_limit() -> None:
    frames, _ = _run(
        _backend(FakeUpstream(server_errors=1, timeouts=1, malformed=1), FakeTime()), _request()
    )
    assert len(frames) == 24
    with pytest.raises(BackendError, match="kept failing") as info:
        _run(_backend(FakeUpstream(server_errors=10), FakeTime()), _request())
    assert info.value.code == "backend_unavailable"
    with pytest.raises(BackendError, match="kept failing"):
        _run(_backend(FakeUpstream(timeouts=10), FakeTime()), _request())


def test_upstream_backoff_doubles_between_transient_failures() -> None:
    fake, time = FakeUpstream(server_errors=3), FakeTime()
    _run(_backend(fake, time), _request())
    # All three failures hit the submit: waits of 2, 4 and 8 s before the fourth try.
    assert time.now >= 2 + 4 + 8


def test_upstream_expired_download_says_so() -> None:
    with pytest.raises(BackendError, match="expired"):
        _run(_backend(FakeUpstream(download_gone=True), FakeTime()), _request())


def test_upstream_bad_key_is_unavailable_to_users_and_logged_for_admins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(BackendUnavailableError) as info:
        _run(_backend(FakeUpstream(wrong_key=True), FakeTime()), _request())
    assert "unavailable" in info.value.message
    assert "credentials" in caplog.text
    assert KEY not in info.value.message
    assert KEY not in caplog.text


def test_upstream_cancel_while_waiting_calls_the_provider_cancel() -> None:
    fake, time = FakeUpstream(never_finish=True), FakeTime()
    with pytest.raises(CancelledError):
        _run(_backend(fake, time), _request(), cancelled=lambda: time.now >= 5)
    assert fake.jobs["video_1"].cancelled
    assert "POST /v1/videos/video_1/cancel" in fake.requests


def test_upstream_deadline_cancels_the_remote_job() -> None:
    fake, time = FakeUpstream(never_finish=True), FakeTime()
    policy = PollPolicy(interval_s=2.0, retries=3, deadline_s=30)
    with pytest.raises(BackendError, match="did not finish within 30 s") as info:
        _run(_backend(fake, time, policy), _request())
    assert info.value.code == "backend_timeout"
    assert fake.jobs["video_1"].cancelled


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
    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", CAPS)
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


def test_a_create_whose_answer_never_came_is_not_sent_again() -> None:
    fake = FakeUpstream(create_read_timeouts=1)
    with pytest.raises(BackendError) as info:
        _run(_backend(fake, FakeTime()), _request())
    assert "not sent again" in info.value.message
    assert "bill for both" in info.value.message
    assert fake.requests.count("POST /v1/videos") == 1
    assert len(fake.jobs) == 1  # made once upstream, never twice


def test_a_create_that_never_reached_the_upstream_is_retried() -> None:
    fake = FakeUpstream(timeouts=2)  # connect timeouts: nothing was sent
    frames, _ = _run(_backend(fake, FakeTime()), _request())
    assert len(frames) == _request().frame_count
    assert fake.requests.count("POST /v1/videos") == 3
    assert len(fake.jobs) == 1
