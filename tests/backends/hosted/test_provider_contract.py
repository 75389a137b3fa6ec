"""What every hosted provider must do, whatever its wire format: the same scenarios run over
each provider's real backend against its scripted fake (tests/support/hosted/providers.py).

A scenario that does not apply to a provider leaves it out by name, with the reason in its
entry of the provider table (no CDN, no cancel, no Retry-After, no refusal at create).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from tests.support.hosted.harness import FakeTime, run
from tests.support.hosted.providers import PROVIDERS, HostedProvider

from openreel.backends.hosted.base import PollPolicy
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    InvalidRequestError,
    ModerationBlockedError,
)


def _each(*, where: str | None = None) -> pytest.MarkDecorator:
    """Parametrizes over every provider, or those whose entry has ``where`` set."""
    chosen = [p for p in PROVIDERS if where is None or getattr(p, where) not in (None, False)]
    return pytest.mark.parametrize("provider", chosen, ids=str)


# ----- a video made --------------------------------------------------------------------------


@_each()
def test_a_finished_video_is_fitted_to_the_request_and_progress_only_rises(
    provider: HostedProvider,
) -> None:
    request = provider.request()
    frames, seen = run(provider.backend(provider.fake(), FakeTime()), request)
    assert len(frames) == request.frame_count
    shape = (request.height, request.width, 3)
    assert all(f.shape == shape and f.dtype == np.uint8 for f in frames)
    assert seen == sorted(seen)
    assert seen[-1] == request.frame_count
    # The fake's clip is 12 fps and its red channel rises every frame for its first second:
    # that second, resampled to the request's rate, still rises, in order.
    reds = [int(f[request.height // 2, request.width // 2, 0]) for f in frames[: request.fps]]
    assert reds == sorted(reds)
    assert reds[0] != reds[-1]


# ----- refusals and failures -----------------------------------------------------------------


@_each(where="refusal")
def test_a_refused_result_is_moderation_blocked_with_the_providers_reason(
    provider: HostedProvider,
) -> None:
    with pytest.raises(ModerationBlockedError) as info:
        run(provider.backend(provider.fake(refuse_later=True), FakeTime()), provider.request())
    assert provider.refusal is not None
    assert provider.refusal in info.value.message
    assert info.value.category == "provider"
    assert info.value.check == provider.name
    assert info.value.code == "moderation_blocked"


@_each(where="refusal_at_create")
def test_a_refused_create_is_moderation_blocked_and_not_sent_again(
    provider: HostedProvider,
) -> None:
    fake = provider.fake(refuse_at_create=True)
    with pytest.raises(ModerationBlockedError) as info:
        run(provider.backend(fake, FakeTime()), provider.request())
    assert provider.refusal_at_create is not None
    assert provider.refusal_at_create in info.value.message
    assert info.value.category == "provider"
    assert info.value.code == "moderation_blocked"
    assert fake.requests == [provider.create]


@_each()
def test_another_failure_is_a_backend_error_naming_the_cause(provider: HostedProvider) -> None:
    with pytest.raises(BackendError, match=provider.failure) as info:
        run(provider.backend(provider.fake(fail_later=True), FakeTime()), provider.request())
    assert not isinstance(info.value, ModerationBlockedError)


# ----- transient trouble ---------------------------------------------------------------------


@_each(where="throttled")
def test_429_is_retried_without_making_a_second_job(provider: HostedProvider) -> None:
    fake = provider.fake(throttle_first=2)
    frames, _ = run(provider.backend(fake, FakeTime()), provider.request())
    assert len(frames) == provider.request().frame_count
    assert fake.requests[:3] == [provider.create] * 3
    assert provider.made(fake) == 1


@_each(where="retry_after")
def test_429_waits_for_retry_after_checking_for_cancel_every_second(
    provider: HostedProvider,
) -> None:
    calm = FakeTime()
    run(provider.backend(provider.fake(), calm), provider.request())
    fake, time = provider.fake(throttle_first=2, retry_after="7"), FakeTime()
    run(provider.backend(fake, time), provider.request())
    assert time.sleeps[:14] == [1.0] * 14  # two waits of 7 s, sliced into cancel checks
    assert time.now >= calm.now + 14


@_each()
@pytest.mark.parametrize(
    "trouble",
    [
        {"server_errors": 1, "timeouts": 1, "malformed": 1},
        {"server_errors": 3},
        {"timeouts": 2},
        {"malformed": 1},
    ],
    ids=["one-of-each", "three-5xx", "two-timeouts", "bad-json"],
)
def test_5xx_timeouts_and_bad_json_are_retried(
    provider: HostedProvider, trouble: dict[str, int]
) -> None:
    frames, _ = run(provider.backend(provider.fake(**trouble), FakeTime()), provider.request())
    assert len(frames) == provider.request().frame_count


@_each()
def test_5xx_retries_are_bounded(provider: HostedProvider) -> None:
    fake = provider.fake(server_errors=10)
    with pytest.raises(BackendError, match="kept failing") as info:
        run(provider.backend(fake, FakeTime()), provider.request())
    assert info.value.code == "backend_unavailable"
    assert len(fake.requests) == 4  # the first try and three retries


@_each()
def test_timeout_retries_are_bounded(provider: HostedProvider) -> None:
    with pytest.raises(BackendError, match="kept failing") as info:
        run(provider.backend(provider.fake(timeouts=10), FakeTime()), provider.request())
    assert info.value.code == "backend_unavailable"


@_each()
def test_backoff_doubles_between_transient_failures(provider: HostedProvider) -> None:
    time = FakeTime()
    run(provider.backend(provider.fake(server_errors=3), time), provider.request())
    # All three failures hit the create: waits of at least 2, 4 and 8 s before the fourth try.
    assert time.now >= 2 + 4 + 8


@_each()
def test_a_create_that_never_reached_the_provider_is_sent_again(provider: HostedProvider) -> None:
    fake = provider.fake(timeouts=2)  # connect timeouts: nothing was sent
    frames, _ = run(provider.backend(fake, FakeTime()), provider.request())
    assert len(frames) == provider.request().frame_count
    assert fake.requests.count(provider.create) == 3
    assert provider.made(fake) == 1


@_each()
def test_a_create_whose_answer_never_came_is_not_sent_again(provider: HostedProvider) -> None:
    fake = provider.fake(create_read_timeouts=1)
    with pytest.raises(BackendError) as info:
        run(provider.backend(fake, FakeTime()), provider.request())
    assert "not sent again" in info.value.message
    assert "bill for both" in info.value.message
    assert fake.requests.count(provider.create) == 1
    assert provider.made(fake) == 1  # made once at the provider, never twice


# ----- the result's download -----------------------------------------------------------------


@_each(where="downloaded")
def test_an_expired_result_url_says_so_without_leaking_it(provider: HostedProvider) -> None:
    fake = provider.fake(url_expired=True)
    with pytest.raises(BackendError, match="expired") as info:
        run(provider.backend(fake, FakeTime()), provider.request())
    assert provider.key is None or provider.key not in info.value.message
    assert "sig=" not in info.value.message  # the (signed) URL stays out of errors
    if provider.cdn is not None:
        assert provider.cdn not in info.value.message
        assert fake.cdn_requests


@_each(where="cdn")
def test_the_key_never_reaches_the_cdn_nor_errors_nor_logs(
    provider: HostedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    fake = provider.fake(server_errors=1, throttle_first=1)
    with caplog.at_level(logging.DEBUG):
        frames, _ = run(provider.backend(fake, FakeTime()), provider.request())
    assert len(frames) == provider.request().frame_count
    assert len(fake.cdn_requests) == 1  # fetched once...
    (headers,) = fake.cdn_requests
    assert "authorization" not in headers  # ...with no Authorization header at all
    assert all(provider.key not in value for value in headers.values())
    assert set(fake.auth_headers) == {fake.auth_headers[0]}  # the API got the key each time
    assert provider.key in fake.auth_headers[0]
    assert provider.key not in caplog.text


@_each(where="key")
def test_a_bad_key_is_unavailable_to_users_and_logged_for_admins(
    provider: HostedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    assert provider.key is not None
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailableError) as info:
        run(provider.backend(provider.fake(wrong_key=True), FakeTime()), provider.request())
    assert f"provider {provider.name} is unavailable" in info.value.message
    assert "credentials" in caplog.text
    assert provider.key not in info.value.message
    assert provider.key not in caplog.text


# ----- cancel and deadline -------------------------------------------------------------------


@_each()
def test_cancel_while_waiting_stops_within_a_second_and_cancels_the_remote_job(
    provider: HostedProvider,
) -> None:
    fake, time = provider.fake(never_finish=True), FakeTime()
    with pytest.raises(CancelledError):
        run(provider.backend(fake, time), provider.request(), cancelled=lambda: time.now >= 5)
    assert time.now < 7  # noticed within a second or so
    if provider.cancel is not None:  # None: the provider has no cancel (see its entry)
        assert provider.cancelled(fake)
        assert provider.cancel in fake.requests


@_each()
def test_the_deadline_ends_the_job_and_cancels_the_remote_one(provider: HostedProvider) -> None:
    fake, time = provider.fake(never_finish=True), FakeTime()
    policy = PollPolicy(interval_s=provider.interval_s, retries=3, deadline_s=30)
    with pytest.raises(BackendError, match="did not finish within 30 s") as info:
        run(provider.backend(fake, time, policy), provider.request())
    assert info.value.code == "backend_timeout"
    if provider.cancel is not None:  # None: the provider has no cancel (see its entry)
        assert provider.cancelled(fake)
        assert provider.cancel in fake.requests


# ----- limits --------------------------------------------------------------------------------


@_each()
def test_limits_are_checked_at_admission_naming_the_parameter(provider: HostedProvider) -> None:
    backend = provider.backend(provider.fake(), FakeTime())
    backend.check(provider.request())
    assert not any(backend.capabilities(m).deterministic for m in backend.models)
    for changes, param in ((provider.too_long, "seconds"), (provider.bad_size, "size")):
        with pytest.raises(InvalidRequestError) as info:
            backend.check(provider.request(**changes))
        assert info.value.param == param, changes
    assert dict(backend.describe(provider.request())) == {
        "provider": provider.name,
        "remote_model": provider.remote_model,
        **provider.plan,
    }
