"""Real ``openreel serve`` processes on free loopback ports, for tests and benchmarks.

The settings turn off what would slow a test that makes videos far faster than any person
(rate limits, quotas, the moderation model's load), each of which is tested on its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["free_port", "mint", "server_env", "start_server"]


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
