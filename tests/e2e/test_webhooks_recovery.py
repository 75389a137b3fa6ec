"""kill -9 of a real ``openreel serve`` between a video's end and its webhook's delivery.

The event is written in the transaction that ends the video, so the kill cannot lose it: the
restarted server delivers it, once. Two windows are tried: before any attempt (the first
server runs no dispatcher, so the event is committed and nothing else happens), and during
an attempt (the receiver holds the request open while the server is killed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openai import OpenAI
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import Receiver, receiving

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, ServerLauncher

pytestmark = pytest.mark.slow

ENV = {
    "OPENREEL_WEBHOOKS__ALLOW_PRIVATE": "true",
    "OPENREEL_WEBHOOKS__ALLOW_HTTP": "true",
    "OPENREEL_WEBHOOKS__RETRY_BASE_SECONDS": "0.2",
    "OPENREEL_WEBHOOKS__POLL_SECONDS": "0.2",
    "OPENREEL_WEBHOOKS__TIMEOUT": "30",
}
SDK = OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")


def _client(server: LiveServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.tokens['alice']}"},
        timeout=30,
    )


def _finished_video(client: httpx.Client) -> str:
    response = client.post("/videos", json={"prompt": "a red kite", "seconds": 1, "size": "96x64"})
    assert response.status_code == 200, response.text
    video_id: str = response.json()["id"]

    def done() -> bool:
        return bool(client.get(f"/videos/{video_id}").json()["status"] == "completed")

    wait_for(done, timeout=60, interval=0.05)
    return video_id


def _delivered_once_after_restart(
    launcher: ServerLauncher,
    data_dir: Path,
    receiver: Receiver,
    hook: dict[str, Any],
    video_id: str,
    before: int,
) -> None:
    server = launcher.start(data_dir, env=ENV, tokens={"alice": hook["token"]})
    try:
        received = receiver.wait_for(before + 1, timeout=30)
        time.sleep(1.5)  # many poll periods: nothing more may come
        assert len(receiver.received) == before + 1
        last = received[-1]
        SDK.webhooks.unwrap(last.body, last.headers, secret=hook["secret"])
        event = json.loads(last.body)
        assert event["type"] == "video.completed"
        assert event["data"]["id"] == video_id
        assert len(set(receiver.ids())) == 1  # every request was the one delivery
        with _client(server) as client:
            [delivery] = client.get(f"/webhooks/{hook['id']}/deliveries").json()["data"]
        assert delivery["status"] == "delivered"
        assert delivery["id"] == last.headers["webhook-id"]
        assert [a["status_code"] for a in delivery["history"]][-1] == 200
    finally:
        launcher.stop(server)


def _hook(server: LiveServer, receiver: Receiver) -> dict[str, Any]:
    with _client(server) as client:
        response = client.post("/webhooks", json={"url": receiver.url})
    assert response.status_code == 200, response.text
    hook: dict[str, Any] = response.json() | {"token": server.tokens["alice"]}
    return hook


def test_an_event_committed_before_any_attempt_is_delivered_after_a_kill(
    tmp_path: Path, server_launcher: ServerLauncher
) -> None:
    data_dir = tmp_path / "data"
    token = server_launcher.mint(data_dir, "alice")
    with receiving() as receiver:
        server = server_launcher.start(
            data_dir,
            env=ENV | {"OPENREEL_WEBHOOKS__DISPATCH": "false"},
            tokens={"alice": token},
        )
        hook = _hook(server, receiver)
        with _client(server) as client:
            video_id = _finished_video(client)
        time.sleep(0.5)
        assert receiver.received == []  # committed, and not sent
        server_launcher.kill(server)
        _delivered_once_after_restart(server_launcher, data_dir, receiver, hook, video_id, 0)


def test_an_attempt_in_flight_when_killed_is_delivered_after_restart(
    tmp_path: Path, server_launcher: ServerLauncher
) -> None:
    data_dir = tmp_path / "data"
    token = server_launcher.mint(data_dir, "alice")
    with receiving() as receiver:
        receiver.hang.set()
        server = server_launcher.start(data_dir, env=ENV, tokens={"alice": token})
        hook = _hook(server, receiver)
        with _client(server) as client:
            video_id = _finished_video(client)
        receiver.wait_for(1)  # the attempt is in flight, its answer held back
        server_launcher.kill(server)
        receiver.hang.clear()
        receiver.release.set()
        _delivered_once_after_restart(server_launcher, data_dir, receiver, hook, video_id, 1)
