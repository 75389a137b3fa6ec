"""``GET /v1/videos/{id}/events`` (Server-Sent Events), models, health and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

import openreel.api.routes.events as events_module

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx2
    from tests.api.conftest import Api


@dataclass
class Event:
    """One parsed Server-Sent Event."""

    event: str
    data: Any
    id: str | None


def _read_events(
    response: httpx2.Response, *, on_event: Any = None, limit: int = 10_000
) -> list[Event]:
    """Parses ``event:``/``data:``/``id:`` lines; ``data`` must be JSON."""
    events: list[Event] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if fields:
                event = Event(
                    fields.get("event", "message"), json.loads(fields["data"]), fields.get("id")
                )
                events.append(event)
                fields = {}
                if on_event is not None:
                    on_event(event)
                assert len(events) < limit
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value
    if fields:
        events.append(
            Event(fields.get("event", "message"), json.loads(fields["data"]), fields.get("id"))
        )
    return events


def test_events_snapshot_then_progress_then_completed(api: Api) -> None:
    video = api.create(prompt="a storm over the sea", seconds="16", size="320x192", fps=24)
    with api.client.stream(
        "GET", f"/v1/videos/{video['id']}/events", headers=api.auth()
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _read_events(response)
    kinds = [e.event for e in events]
    assert kinds[0] == "snapshot"
    assert kinds[-1] == "completed"
    assert set(kinds[1:-1]) == {"progress"}, kinds
    for event in events:
        assert isinstance(event.data, dict), event  # the video object, not a JSON string
        assert event.data["id"] == video["id"]
        assert event.data["object"] == "video"
    progress = [e.data["progress"] for e in events]
    assert progress == sorted(progress), progress
    assert events[-1].data["status"] == "completed"
    assert events[-1].data["progress"] == 100
    assert all(e.data["status"] in ("queued", "in_progress") for e in events[:-1])
    ids = [int(e.id or -1) for e in events]
    assert ids == sorted(set(ids)), ids


def test_events_of_a_finished_video_is_one_snapshot(api: Api) -> None:
    video = api.make()
    with api.client.stream(
        "GET", f"/v1/videos/{video['id']}/events", headers=api.auth()
    ) as response:
        events = _read_events(response)
    assert [e.event for e in events] == ["snapshot"]
    assert events[0].data["status"] == "completed"


def test_events_end_with_failed_when_cancelled(api: Api) -> None:
    running = api.start_long()

    def cancel_on_first(event: Event) -> None:
        if event.event == "snapshot":
            response = api.client.post(f"/v1/videos/{running['id']}/cancel", headers=api.auth())
            assert response.status_code == 200

    with api.client.stream(
        "GET", f"/v1/videos/{running['id']}/events", headers=api.auth()
    ) as response:
        events = _read_events(response, on_event=cancel_on_first)
    assert events[0].event == "snapshot"
    assert events[-1].event == "failed"
    assert events[-1].data["error"]["code"] == "cancelled"


def test_events_end_with_an_error_event_when_deleted(api: Api) -> None:
    running = api.start_long()

    def delete_on_first(event: Event) -> None:
        if event.event == "snapshot":
            response = api.client.delete(f"/v1/videos/{running['id']}", headers=api.auth())
            assert response.status_code == 200

    with api.client.stream(
        "GET", f"/v1/videos/{running['id']}/events", headers=api.auth()
    ) as response:
        assert response.status_code == 200
        events = _read_events(response, on_event=delete_on_first)
    assert events[0].event == "snapshot"
    assert events[-1].event == "error"
    assert set(events[-1].data) == {"error"}
    assert events[-1].data["error"]["code"] == "not_found"


def test_a_quiet_stream_sends_keepalive_comments(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies close idle connections: a stream with nothing new to say for PING_SECONDS sends
    an SSE comment (which EventSource clients ignore), then goes on with the events."""
    monkeypatch.setattr(events_module, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(events_module, "PING_SECONDS", 0.05)
    running = api.start_long()
    lines: list[str] = []
    with api.client.stream(
        "GET", f"/v1/videos/{running['id']}/events", headers=api.auth()
    ) as response:
        for line in response.iter_lines():
            lines.append(line)
            if line == ": ping" and lines.count(": ping") == 1:
                cancel = api.client.post(f"/v1/videos/{running['id']}/cancel", headers=api.auth())
                assert cancel.status_code == 200
    assert lines[0] == "event: snapshot"
    first_ping = lines.index(": ping")
    assert lines[first_ping + 1] == ""  # a comment is a block of its own
    assert "event: failed" in lines[first_ping:]  # the events go on after it


def test_a_client_that_goes_away_ends_its_stream(api: Api) -> None:
    """The browser tab closes mid-video: the server notices the disconnect, ends the stream and
    drops its subscription to the job (driven as raw ASGI, where the disconnect is explicit)."""
    running = api.start_long()
    watch = api.server.services.watch
    sent: list[dict[str, Any]] = []

    async def follow_then_leave() -> None:
        snapshot = asyncio.Event()
        body_read = False

        async def receive() -> dict[str, Any]:
            nonlocal body_read
            if not body_read:
                body_read = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await snapshot.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and b"snapshot" in message["body"]:
                assert watch.following(running["id"]) <= 1
                snapshot.set()

        path = f"/v1/videos/{running['id']}/events"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"authorization", f"Bearer {api.tokens['alice']}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        await asyncio.wait_for(api.app(scope, receive, send), timeout=10)

    asyncio.run(follow_then_leave())
    assert sent[0]["status"] == 200
    assert watch.following(running["id"]) == 0
    assert api.get(running["id"])["status"] in ("queued", "in_progress")  # the video goes on


def test_events_unknown_or_foreign_video_is_404_before_streaming(api: Api) -> None:
    mine = api.create()
    for video_id, who in ((f"video_{'0' * 32}", "alice"), (mine["id"], "bob")):
        response = api.client.get(f"/v1/videos/{video_id}/events", headers=api.auth(who))
        api.error(response, 404, code="not_found")
    api.error(api.client.get(f"/v1/videos/{mine['id']}/events"), 401)


# ----- models, health, OpenAPI -----------------------------------------------------------------


def test_models_lists_sketch_with_capabilities(api: Api) -> None:
    response = api.client.get("/v1/models", headers=api.auth())
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    cards = {card["id"]: card for card in body["data"]}
    sketch = cards["openreel-sketch"]
    assert sketch["object"] == "model"
    assert sketch["backend"] == "sketch"
    caps = sketch["capabilities"]
    assert caps["max_seconds"] == 60
    assert caps["image_input"] is True
    assert caps["fps_range"] == [1, 60]
    assert "1920x1080" in caps["sizes"]
    assert (caps["min_side"], caps["max_side"]) == (64, 3840)


def test_healthz_needs_no_token(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"].startswith("req_")


def test_openapi_describes_both_create_encodings(api: Api) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    for path in (
        "/v1/videos",
        "/v1/videos/{video_id}",
        "/v1/videos/{video_id}/content",
        "/v1/videos/{video_id}/remix",
        "/v1/videos/{video_id}/cancel",
        "/v1/videos/{video_id}/events",
        "/v1/videos/extensions",
        "/v1/models",
        "/v1/files",
    ):
        assert path in paths, path
    create = paths["/v1/videos"]["post"]
    content = create["requestBody"]["content"]
    assert set(content) >= {"application/json", "multipart/form-data"}
    json_props = content["application/json"]["schema"]["properties"]
    form_props = content["multipart/form-data"]["schema"]["properties"]
    for name in ("prompt", "model", "seconds", "size"):
        assert name in json_props
        assert name in form_props
    assert set(json_props["input_reference"]["properties"]) == {"image_url", "file_id"}
    assert form_props["input_reference"]["format"] == "binary"
    assert "200" in create["responses"]
    assert "400" in create["responses"]
    listing = {p["name"] for p in paths["/v1/videos"]["get"]["parameters"]}
    assert listing >= {"after", "limit", "order"}
    extend = paths["/v1/videos/extensions"]["post"]["requestBody"]["content"]
    assert "video[id]" in extend["multipart/form-data"]["schema"]["properties"]
    video_schema = doc["components"]["schemas"]["Video"]["properties"]
    assert {"id", "status", "progress", "seconds", "seed", "fps", "phase", "plan"} <= set(
        video_schema
    )


def test_events_are_pushed_not_polled(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # With the fallback timer at 30 s, only the job watch can deliver progress and the end in
    # time: were it broken, the stream would end only on the timer, 30 s later.
    monkeypatch.setattr(events_module, "POLL_SECONDS", 30.0)
    video = api.create(prompt="a train crossing a bridge", seconds="3", size="160x96", fps=24)
    started = time.monotonic()
    with api.client.stream(
        "GET", f"/v1/videos/{video['id']}/events", headers=api.auth()
    ) as response:
        events = _read_events(response)
    assert events[-1].event == "completed"
    assert "progress" in {e.event for e in events}
    assert time.monotonic() - started < 15


def test_models_lists_hosted_models_only_with_their_keys(make_api: Callable[..., Api]) -> None:
    from openreel.config import ProviderKeys

    plain = make_api()
    ids = [c["id"] for c in plain.client.get("/v1/models", headers=plain.auth()).json()["data"]]
    assert ids == ["openreel-sketch"]
    keyed = make_api(providers=ProviderKeys(fal="fal-key", runway="rw-key", luma="lu-key"))  # type: ignore[arg-type]
    cards = {
        c["id"]: c for c in keyed.client.get("/v1/models", headers=keyed.auth()).json()["data"]
    }
    assert {"fal/ltx-video", "fal/wan-t2v", "runway/gen4.5", "runway/veo3.1", "luma/ray-2"} <= set(
        cards
    )
    assert not any(model.startswith("replicate/") for model in cards)
    assert cards["runway/veo3.1"]["backend"] == "runway"
    assert cards["runway/veo3.1"]["capabilities"]["deterministic"] is False
    # Limits are checked at admission, naming the parameter, before any provider is called.
    refused = keyed.client.post(
        "/v1/videos",
        headers=keyed.auth(),
        json={"model": "runway/veo3.1", "prompt": "a boat", "seconds": "7", "size": "1280x720"},
    )
    keyed.error(refused, 400, param="seconds")
