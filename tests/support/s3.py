"""A throwaway S3-compatible server for tests: moto's server mode on a free loopback port.

``moto[server]`` is in the dev extra; this starts ``python -m moto.server`` with the test
run's own interpreter, waits until it answers, and hands out a fresh bucket per test so tests
never see each other's objects. A missing moto fails the tests that need it, with the install
command; it never skips them.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from openreel.config import StorageConfig

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3Server:
    """One moto server; :meth:`bucket` creates an empty bucket and returns its name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._names = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = root / "moto.log"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 60
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"moto's S3 server exited ({self._process.returncode}); is moto[server] "
                    f"installed (pip install 'moto[server]')? Its output:\n{self.output()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"moto's S3 server did not start:\n{self.output()}"
                    ) from None
                time.sleep(0.1)

    def output(self) -> str:
        """The server's log so far (its last 4000 characters)."""
        return self._log.read_text(errors="replace")[-4000:] if self._log.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._process = None

    def client(self) -> Any:
        """A boto3 client of the server, for tests to look into buckets directly."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        ).client("s3", endpoint_url=self.endpoint)

    def bucket(self) -> str:
        """A new, empty bucket's name."""
        name = f"openreel-test-{next(self._names)}"
        self.client().create_bucket(Bucket=name)
        return name

    def config(self, bucket: str, **overrides: Any) -> StorageConfig:
        """Storage settings for ``bucket`` on this server."""
        values: dict[str, Any] = {
            "bucket": bucket,
            "endpoint_url": self.endpoint,
            "region": REGION,
            "access_key_id": SecretStr(ACCESS_KEY),
            "secret_access_key": SecretStr(SECRET_KEY),
        }
        return StorageConfig(**(values | overrides))

    def keys(self, bucket: str) -> set[str]:
        """Every key in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}
