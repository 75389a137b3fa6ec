"""Real ``openreel serve`` processes on free loopback ports.

``live_server`` is one server with two users' and an admin's tokens for a whole module;
``server_launcher`` starts, kills and restarts servers on data folders a test chooses (crash
recovery), and kills whatever is still running when the module ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    return os.environ | {
        "OPENREEL_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        # The fuzzers and SDK tests make videos far faster than any person; limits are
        # tested on their own (tests/api/test_api_limits.py).
        "OPENREEL_RATE_REQUESTS_PER_MINUTE": "0",
        "OPENREEL_RATE_CREATES_PER_MINUTE": "0",
        "OPENREEL_QUOTA__SECONDS": "0",
        "OPENREEL_QUOTA__VIDEOS": "0",
        # Loading the moderation model costs each server ~10 s of CPU; it is tested on its own.
        "OPENREEL_MODERATION__SEMANTIC": "off",
    }


def mint(data_dir: Path, name: str, *extra: str, env: dict[str, str] | None = None) -> str:
    """A new token for ``name`` from ``openreel token create`` (``env`` as for
    :func:`start_server`: a shared database, for instance)."""
    out = subprocess.run(
        [sys.executable, "-m", "openreel", "token", "create", name, *extra],
        env=server_env(data_dir) | (env or {}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip()


def start_server(
    data_dir: Path,
    port: int,
    log: Path,
    *,
    workers: int = 2,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openreel",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=server_env(data_dir) | (env or {}),
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


@dataclass
class ServerLauncher:
    """Starts ``openreel serve`` processes on data folders and cleans up after them.

    Every process it starts is remembered; :meth:`close` (the fixture's teardown) kills any
    still running, so a failing test never leaves a server behind.
    """

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def mint(self, data_dir: Path, name: str, *extra: str) -> str:
        """A new token for ``name`` on ``data_dir``, made with ``openreel token create``."""
        return mint(data_dir, name, *extra)

    def start(
        self,
        data_dir: Path,
        *,
        workers: int = 2,
        port: int | None = None,
        tokens: dict[str, str] | None = None,
        log_name: str = "server.log",
        env: dict[str, str] | None = None,
    ) -> LiveServer:
        """Starts a server on ``data_dir`` and waits until ``/healthz`` answers.

        Args:
            data_dir: The data folder (``OPENREEL_DATA_DIR``).
            workers: In-process render workers.
            port: Port to listen on; a free one when None (pass the old port to restart).
            tokens: Tokens to carry on the returned handle.
            log_name: File in ``data_dir`` that receives the process's stdout and stderr.
            env: Extra environment (``OPENREEL_*`` settings) for this server.
        """
        port = free_port() if port is None else port
        log = data_dir / log_name
        proc = start_server(data_dir, port, log, workers=workers, env=env)
        self.processes.append(proc)
        return LiveServer(f"http://127.0.0.1:{port}", data_dir, dict(tokens or {}), proc, log)

    def kill(self, server: LiveServer) -> None:
        """Kills the server with SIGKILL (no clean-up of any kind runs) and reaps it."""
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=30)

    def stop(self, server: LiveServer) -> None:
        """Stops the server with SIGTERM (a clean shutdown) and waits for it to exit."""
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()

    def close(self) -> None:
        """Kills every process this launcher started that is still running."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def server_launcher() -> Iterator[ServerLauncher]:
    launcher = ServerLauncher()
    yield launcher
    launcher.close()
