"""Under load and across idle time: no dropped connection, no lost or doubled video.

A client may send a request on a kept-alive connection at the instant the server closes it;
the request then fails with no answer (httpx ``ReadError``/``RemoteProtocolError``), which
plain clients do not retry. The server's keep-alive (``OPENREEL_KEEP_ALIVE_SECONDS``) is longer
than common clients' idle expiry, so they give a connection up first; one the server does close
must be closed cleanly, so that a client notices before it reuses it.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import LiveServer, ServerLauncher
from tests.support.load import run_clients

TINY_VIDEO: dict[str, Any] = {
    "prompt": "a small boat on a calm lake",
    "model": "openreel-sketch",
    "seconds": "1",
    "size": "96x64",
    "fps": 8,
}


@pytest.fixture(scope="module")
def server(server_launcher: ServerLauncher, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """A server with the default keep-alive and proxy settings."""
    data_dir = tmp_path_factory.mktemp("load")
    tokens = {
        "loader": server_launcher.mint(data_dir, "loader"),
        "alice": server_launcher.mint(data_dir, "alice"),
    }
    return server_launcher.start(data_dir, tokens=tokens)


@pytest.fixture(scope="module")
def short_server(
    server_launcher: ServerLauncher, tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """A server that closes idle connections after 1 s and trusts no local proxy."""
    data_dir = tmp_path_factory.mktemp("short")
    tokens = {"alice": server_launcher.mint(data_dir, "alice")}
    env = {"OPENREEL_KEEP_ALIVE_SECONDS": "1", "OPENREEL_FORWARDED_ALLOW_IPS": "10.9.9.9"}
    return server_launcher.start(data_dir, tokens=tokens, env=env)


def _local_address(response: httpx.Response) -> tuple[str, int]:
    """The client side of the connection that carried ``response``."""
    address: tuple[str, int] = response.extensions["network_stream"].get_extra_info("client_addr")
    return address


def test_100_clients_create_poll_and_download_with_no_dropped_connection(
    server: LiveServer,
) -> None:
    report = run_clients(server.url, server.tokens["loader"], clients=100, video=TINY_VIDEO)
    print("\n" + report.summary())
    assert not report.transport_errors, report.summary()
    assert report.server_errors == 0, report.statuses
    assert not report.failures, report.failures[:5]
    assert len(report.completed) == 100
    assert len(set(report.completed)) == 100
    # Every video was made once: the server holds exactly these, each completed.
    listed = httpx.get(
        f"{server.base_url}/videos",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {server.tokens['loader']}"},
    ).json()
    assert listed["has_more"] is False
    assert sorted(v["id"] for v in listed["data"]) == sorted(report.completed)
    assert {v["status"] for v in listed["data"]} == {"completed"}


def test_an_idle_connection_outlives_common_clients_expiry(server: LiveServer) -> None:
    """httpx and the openai SDK give a connection up after 5 s idle; the server must not
    close it first (uvicorn's own default is those same 5 s)."""
    with httpx.Client(limits=httpx.Limits(keepalive_expiry=30)) as client:
        first = client.get(server.url + "/healthz")
        before = _local_address(first)
        time.sleep(6)
        second = client.get(server.url + "/healthz")
        after = _local_address(second)
    assert (first.status_code, second.status_code) == (200, 200)
    assert before == after, "the server closed an idle connection"


def test_a_connection_idle_past_the_servers_timeout_is_closed_cleanly(
    short_server: LiveServer,
) -> None:
    """A client that keeps connections longer than the server does never loses a request."""
    addresses = []
    with httpx.Client(limits=httpx.Limits(keepalive_expiry=60)) as client:
        for _ in range(4):
            response = client.get(short_server.url + "/healthz")  # a transport error fails here
            assert response.status_code == 200
            addresses.append(_local_address(response))
            time.sleep(1.5)
    assert len(set(addresses)) == 4, "each request should have needed a new connection"


def _session_cookie(server: LiveServer, headers: dict[str, str]) -> Any:
    response = httpx.post(
        server.base_url + "/session", json={"token": server.tokens["alice"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie["openreel_session"]


def test_session_cookie_is_secure_behind_a_trusted_proxy_only(
    server: LiveServer, short_server: LiveServer
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert _session_cookie(server, forwarded)["secure"] is True  # 127.0.0.1 is trusted
    assert not _session_cookie(server, {})["secure"]  # plain http, no proxy
    assert not _session_cookie(short_server, forwarded)["secure"]  # a proxy it does not trust


def test_server_log_is_quiet_under_load(server: LiveServer) -> None:
    """Nothing in the run above was an error the server saw (uvicorn logs at warning)."""
    text = Path(server.log).read_text(errors="replace")
    assert "Traceback" not in text
    assert "ERROR" not in text
