"""A throwaway redis-server for tests: Debian's binary on a free loopback port.

``make servers`` installs ``redis-server`` where it is missing; a missing binary fails the
tests that need it with the install command, never skips them. Persistence is off: each
server lives only as long as its tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; :attr:`url` is ``redis://127.0.0.1:<port>``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed; run `make servers` "
                "(apt-get install -y redis-server) and try again"
            )
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), *options],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self._proc.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start within 20 s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
