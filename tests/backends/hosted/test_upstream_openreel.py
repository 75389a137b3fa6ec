"""An ``openai`` upstream gets OpenReel's own create fields (seed, fps, negative_prompt, audio) only
once it is known to be an OpenReel, which takes them; any other OpenAI-shaped server gets
OpenAI's four fields, since OpenAI's create has no such arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.support.hosted.fake_upstream import KEY, FakeUpstream
from tests.support.hosted.providers import UPSTREAM_CAPS

from openreel.api.protocol import ModelCard, ModelList
from openreel.api.video_requests import CreateVideoBody
from openreel.backends.hosted.base import HostedModel, PollPolicy
from openreel.backends.hosted.dialects import DIALECTS, create_body
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.hosted.upstream_backend import UpstreamBackend
from openreel.domain import VideoRequest

OPENAI_FIELDS = {"prompt", "model", "seconds", "size"}


def _request(**changes: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "negative_prompt": "fog",
        "seconds": 2.0,
        "width": 640,
        "height": 360,
        "fps": 12,
        "seed": 424242,
        "model": "upstream/openreel-sketch",
    }
    return VideoRequest(**(args | changes))


def test_an_openreel_upstream_reads_the_seed_rate_and_negative_prompt_sent() -> None:
    request = _request()
    plain = create_body(DIALECTS["openai"], "openreel-sketch", request)["data"]
    assert set(plain) == OPENAI_FIELDS
    fields = create_body(DIALECTS["openai"], "openreel-sketch", request, openreel=True)["data"]
    assert {k: v for k, v in fields.items() if k in OPENAI_FIELDS} == plain
    # OpenReel's own create body (the form its API parses) reads them back as sent.
    body = CreateVideoBody.model_validate(fields)
    assert (body.seed, body.fps, body.negative_prompt) == (424242, 12, "fog")
    assert body.seconds == request.seconds
    bare = create_body(DIALECTS["openai"], "m", _request(negative_prompt=""), openreel=True)["data"]
    assert "negative_prompt" not in bare


def test_an_openreel_upstream_is_told_when_the_video_is_silent() -> None:
    """Its models make sound unless told not to: a silent request answered with sound would
    be re-encoded here instead of passed on. ``true`` is never sent (a silent model there
    refuses it); OpenReel's own form reads ``false`` back."""
    silent = create_body(DIALECTS["openai"], "m", _request(audio=False), openreel=True)["data"]
    assert CreateVideoBody.model_validate(silent).audio is False
    for audio in (True, None):
        fields = create_body(DIALECTS["openai"], "m", _request(audio=audio), openreel=True)
        assert "audio" not in fields["data"]
    plain = create_body(DIALECTS["openai"], "m", _request(audio=False))["data"]
    assert "audio" not in plain  # another OpenAI-shaped server refuses fields it lacks


def _server(
    models: dict[str, Any] | None, phase: bool = False
) -> tuple[FakeUpstream, Callable[..., Any]]:
    """The fake OpenAI-shaped upstream, with ``GET /v1/models`` answered by ``models`` and,
    with ``phase``, its videos carrying OpenReel's ``phase`` (its ``/events`` absent)."""
    fake = FakeUpstream()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models" and models is not None:
            return httpx.Response(200, json=models)
        if request.url.path.endswith("/events"):
            return httpx.Response(404, json={"error": {"message": "no events"}})
        response = fake.handle(request)
        if phase and request.method == "POST" and request.url.path == "/v1/videos":
            response.read()
            return httpx.Response(200, json=response.json() | {"phase": "queued"})
        return response

    return fake, handle


def _client(handle: Callable[..., Any]) -> UpstreamClient:
    return UpstreamClient("http://upstream.test/v1", KEY, transport=httpx.MockTransport(handle))


OPENREEL_MODELS = ModelList(
    data=[ModelCard(id="openreel-sketch", backend="sketch", capabilities={"max_seconds": 60})]
).model_dump(mode="json")
OPENAI_MODELS = {
    "object": "list",
    "data": [{"id": "sora-2", "object": "model", "created": 0, "owned_by": "system"}],
}


@pytest.mark.parametrize(("models", "extended"), [(OPENREEL_MODELS, True), (OPENAI_MODELS, False)])
def test_the_probe_tells_an_openreel_from_another_openai_server(
    models: dict[str, Any], extended: bool
) -> None:
    fake, handle = _server(models)
    client = _client(handle)
    assert client.probe() is None
    client.submit("openreel-sketch", _request())
    body = fake.jobs["video_1"].body
    if extended:
        assert body == {
            "prompt": "a lighthouse at dusk",
            "model": "openreel-sketch",
            "seconds": "2",
            "size": "640x360",
            "seed": "424242",
            "fps": "12",
            "negative_prompt": "fog",
        }
    else:
        assert set(body) == OPENAI_FIELDS
    client.close()


def test_the_first_video_asks_what_the_server_is_before_it_is_created() -> None:
    """A video right after start, before the background probe has answered, still gets
    OpenReel's fields: the seed recorded here is the one the video is made with there."""
    fake, handle = _server(OPENREEL_MODELS)
    fake.progress, fake.poll_after_ms = [], 10
    sent: list[str] = []

    def recorded(request: httpx.Request) -> Any:
        sent.append(f"{request.method} {request.url.path}")
        return handle(request)

    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", UPSTREAM_CAPS)
    policy = PollPolicy(interval_s=0.01, cancel_check_s=0.01, deadline_s=60)
    backend = UpstreamBackend("upstream", _client(recorded), (model,), policy=policy)
    with backend.fetched(_request(audio=False, seconds=0.5, width=160, height=90)):
        pass
    assert sent[:2] == ["GET /v1/models", "POST /v1/videos"]
    assert (fake.jobs["video_1"].body["seed"], fake.jobs["video_1"].body["audio"]) == (
        "424242",
        "false",
    )
    with backend.fetched(_request(seconds=0.5, width=160, height=90)):
        pass
    assert sent.count("GET /v1/models") == 1  # asked once
    backend.close()


def test_a_video_with_a_phase_marks_the_upstream_an_openreel_for_the_next_create() -> None:
    fake, handle = _server(None, phase=True)
    client = _client(handle)
    client.submit("openreel-sketch", _request())
    client.submit("openreel-sketch", _request(seed=7))
    assert set(fake.jobs["video_1"].body) == OPENAI_FIELDS  # not known yet
    assert fake.jobs["video_2"].body["seed"] == "7"
    client.close()
