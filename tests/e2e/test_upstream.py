"""A second, real OpenReel server as the upstream of the first.

The gateway offers the upstream's sketch model as ``upstream/openreel-sketch``; a video made
through it runs on the upstream, comes back, and leaves the gateway labelled, signed by the
gateway's own CA and in its content registry, like any local video. The upstream's key never
shows in the gateway's answers or log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clips import field_clip

from openreel.media.probe import iter_frames

from .conftest import LiveServer, ServerLauncher

MODEL = "upstream/openreel-sketch"


@pytest.fixture(scope="module")
def servers(
    server_launcher: ServerLauncher, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LiveServer, LiveServer, str]:
    upstream_dir = tmp_path_factory.mktemp("upstream")
    gateway_key = server_launcher.mint(upstream_dir, "gateway")
    upstream = server_launcher.start(upstream_dir, workers=2)
    gateway_dir = tmp_path_factory.mktemp("gateway")
    alice = server_launcher.mint(gateway_dir, "alice")
    gateway = server_launcher.start(
        gateway_dir,
        workers=2,
        tokens={"alice": alice},
        env={
            "OPENREEL_UPSTREAM__URL": upstream.base_url,
            "OPENREEL_UPSTREAM__MODELS": json.dumps(["openreel-sketch"]),
            "OPENREEL_PROVIDERS__UPSTREAM": gateway_key,
            # The gateway lets everything through, so the upstream's own refusals show.
            "OPENREEL_MODERATION__ENABLED": "false",
        },
    )
    return gateway, upstream, gateway_key


def _client(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _wait(client: httpx.Client, video_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        if video["status"] in ("completed", "failed"):
            return video
        time.sleep(0.3)
    raise AssertionError(f"{video_id} did not finish: {video}")


def test_upstream_video_is_made_there_and_signed_and_registered_here(
    servers: tuple[LiveServer, LiveServer, str], tmp_path: Path
) -> None:
    gateway, upstream, key = servers
    with _client(gateway, gateway.tokens["alice"]) as alice, _client(upstream, key) as there:
        models = [m["id"] for m in alice.get("/models").json()["data"]]
        assert MODEL in models
        created = alice.post(
            "/videos",
            json={
                "model": MODEL,
                "prompt": "a red fox in the snow",
                "seconds": "2",
                "size": "640x360",
                "audio": False,
            },
        )
        assert created.status_code == 200, created.text
        video = _wait(alice, created.json()["id"])
        assert video["status"] == "completed", video
        assert video["seconds"] == "2"
        assert video["size"] == "640x360"

        remote = there.get("/videos").json()["data"]
        assert len(remote) == 1
        assert remote[0]["status"] == "completed"
        assert remote[0]["prompt"] == "a red fox in the snow"
        # Made there with the seed recorded here, silent as asked, and passed on as it is.
        assert (remote[0]["seed"], remote[0]["audio"]) == (video["seed"], False)
        assert (video["plan"]["relayed"], video["plan"]["label_checked"]) == (True, "frames")

        data = alice.get(f"/videos/{video['id']}/content").content
        files = {"file": ("clip.mp4", data, "video/mp4")}
        verdict = alice.post("/provenance/verify", files=files).json()
        assert verdict["status"] == "Trusted", verdict
        assert verdict["backend"] == "upstream"
        assert verdict["digital_source_type"] == "trainedAlgorithmicMedia"
        found = alice.post("/provenance/lookup", files=files).json()
        assert found["matches"][0]["video_id"] == video["id"]
        assert found["matches"][0]["exact"] is True
    assert key not in gateway.log.read_text()


def test_upstream_refusal_fails_the_job_as_moderation_blocked(
    servers: tuple[LiveServer, LiveServer, str],
) -> None:
    gateway, _, _ = servers
    with _client(gateway, gateway.tokens["alice"]) as alice:
        used = alice.get("/usage").json()["seconds_used"]
        created = alice.post(
            "/videos",
            json={
                "model": MODEL,
                "prompt": "a naked woman in a sexual scene",
                "seconds": "1",
                "size": "640x360",
            },
        )
        assert created.status_code == 200, created.text  # the gateway's moderation is off
        video = _wait(alice, created.json()["id"])
        assert video["status"] == "failed"
        assert video["error"]["code"] == "moderation_blocked"
        assert "refused by moderation (sexual)" in video["error"]["message"]
        assert alice.get("/usage").json()["seconds_used"] == used  # the quota was refunded


def test_upstream_cancel_here_cancels_there(servers: tuple[LiveServer, LiveServer, str]) -> None:
    gateway, upstream, key = servers
    with _client(gateway, gateway.tokens["alice"]) as alice, _client(upstream, key) as there:
        created = alice.post(
            "/videos",
            json={
                "model": MODEL,
                "prompt": "a slow storm over the sea",
                "seconds": "40",
                "size": "1920x1080",
            },
        ).json()
        deadline = time.monotonic() + 30
        remote: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            remote = [v for v in there.get("/videos").json()["data"] if "storm" in v["prompt"]]
            if remote and remote[0]["status"] == "in_progress":
                break
            time.sleep(0.2)
        assert remote, "the upstream never got the job"
        assert alice.post(f"/videos/{created['id']}/cancel").status_code == 200
        assert _wait(alice, created["id"])["status"] == "failed"
        remote_video = _wait(there, remote[0]["id"], timeout=30)
        assert remote_video["status"] == "failed"
        assert remote_video["error"]["code"] == "cancelled"


def test_upstream_gets_the_reference_image(servers: tuple[LiveServer, LiveServer, str]) -> None:
    import io

    from PIL import Image

    gateway, upstream, key = servers
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (30, 90, 200)).save(buffer, "PNG")
    with _client(gateway, gateway.tokens["alice"]) as alice, _client(upstream, key) as there:
        created = alice.post(
            "/videos",
            data={"model": MODEL, "prompt": "a kite over hills", "seconds": "1", "size": "640x360"},
            files={"input_reference": ("ref.png", buffer.getvalue(), "image/png")},
        )
        assert created.status_code == 200, created.text
        video = _wait(alice, created.json()["id"])
        assert video["status"] == "completed", video
        remote = [
            v for v in there.get("/videos").json()["data"] if v["prompt"] == "a kite over hills"
        ]
        assert len(remote) == 1
        assert remote[0]["plan"]["summary"].endswith("backdrop from input_reference")


def test_an_edit_for_an_upstream_model_goes_to_its_edits_route_with_the_file(
    servers: tuple[LiveServer, LiveServer, str], tmp_path: Path
) -> None:
    gateway, upstream, key = servers
    upload = field_clip(tmp_path / "field.mp4", size=(160, 96))
    with _client(gateway, gateway.tokens["alice"]) as alice, _client(upstream, key) as there:
        models = {m["id"]: m for m in alice.get("/models").json()["data"]}
        assert "edit" in models[MODEL]["capabilities"]["operations"]
        edited = alice.post(
            "/videos/edits",
            data={"prompt": "at night", "model": MODEL},
            files={"video": ("field.mp4", upload, "video/mp4")},
        )
        assert edited.status_code == 200, edited.text
        done = _wait(alice, edited.json()["id"])
        assert done["status"] == "completed", done
        assert done["seconds"] == "1.5"
        # The upstream made it from the file it was sent: an edit of footage it did not draw.
        theirs = there.get("/videos", params={"limit": 100}).json()["data"]
        passed = [v for v in theirs if (v.get("plan") or {}).get("operation") == "edit"]
        assert len(passed) == 1
        assert passed[0]["plan"]["mode"] == "footage"
        assert passed[0]["plan"]["layers"]["time_of_day"] == "night"
        out = tmp_path / "night.mp4"
        out.write_bytes(alice.get(f"/videos/{done['id']}/content").content)
        ours = sum(f.mean() for f in iter_frames(tmp_path / "field.mp4"))
        assert sum(f.mean() for f in iter_frames(out)) < 0.6 * ours
