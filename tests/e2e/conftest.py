"""Real ``openreel serve`` processes on free loopback ports.

``live_server`` is one server with two users' and an admin's tokens for a whole module;
``server_launcher`` starts, kills and restarts servers on data folders a test chooses (crash
recovery), and kills whatever is still running when the module ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.live_server import free_port, mint, start_server


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
