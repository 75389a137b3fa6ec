"""An upstream GPU server that cannot be reached, through the API: its models leave
``/v1/models``, new videos for them get 503 ``provider_unavailable``, and admins see why."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.api.conftest import Api

from openreel.config import UpstreamServer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again at once: nothing listens there


def test_an_unreachable_upstream_leaves_models_refuses_videos_and_admins_see_why(
    make_api: Callable[..., Api],
) -> None:
    down = UpstreamServer(
        name="gpu", url=f"http://127.0.0.1:{_closed_port()}/v1", dialect="sglang", models=["wan"]
    )
    api = make_api(upstreams=[down])

    def listed() -> list[str]:
        response = api.client.get("/v1/models", headers=api.auth())
        assert response.status_code == 200
        return [m["id"] for m in response.json()["data"]]

    deadline = time.monotonic() + 20
    while "gpu/wan" in listed() and time.monotonic() < deadline:
        time.sleep(0.05)  # the first listing starts the background probe
    assert "gpu/wan" not in listed()
    assert "openreel-sketch" in listed()

    response = api.client.post(
        "/v1/videos", json={"prompt": "a harbour", "model": "gpu/wan"}, headers=api.auth()
    )
    error = api.error(response, 503, code="provider_unavailable")
    assert "127.0.0.1" not in error["message"]  # the reason is for admins only
    api.error(api.client.get("/v1/models/gpu/wan", headers=api.auth()), 503)

    view = api.client.get("/v1/admin/upstreams", headers=api.auth("root"))
    assert view.status_code == 200
    (gpu,) = view.json()["data"]
    assert gpu["name"] == "gpu"
    assert gpu["available"] is False
    assert "ConnectError" in gpu["reason"]
    assert gpu["models"] == ["gpu/wan"]
    api.error(api.client.get("/v1/admin/upstreams", headers=api.auth()), 403)
