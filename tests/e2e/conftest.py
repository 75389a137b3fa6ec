"""A real ``openreel serve`` process on a free loopback port, with two users' tokens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    tokens: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(data_dir: Path) -> dict[str, str]:
    return os.environ | {"OPENREEL_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def mint(data_dir: Path, name: str, *extra: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "openreel", "token", "create", name, *extra],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def start_server(
    data_dir: Path, port: int, log: Path, *, workers: int = 2
) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openreel", "serve", "--port", str(port), "--workers", str(workers)],
        env=server_env(data_dir),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not come up: {log.read_text()}")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("data")
    tokens = {
        "alice": mint(data_dir, "alice"),
        "bob": mint(data_dir, "bob"),
        "root": mint(data_dir, "root", "--admin"),
    }
    port = free_port()
    log = data_dir / "server.log"
    proc = start_server(data_dir, port, log)
    yield LiveServer(f"http://127.0.0.1:{port}", data_dir, tokens, proc, log)
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
