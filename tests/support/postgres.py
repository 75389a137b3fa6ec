"""A throwaway PostgreSQL server for tests: Debian's binaries, a fresh cluster on a free port.

``make servers`` installs the ``postgresql`` package where it is missing; this starts a
cluster of its own in a temporary folder (as the ``postgres`` user when run as root, since
``initdb`` refuses root), with durability off for speed, and hands out a fresh database per
test so tests never see each other's rows. A missing binary fails the tests that need it,
with the install command; it never skips them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _binary(name: str) -> str:
    for folder in BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed; run `make servers` "
            "(apt-get install -y postgresql) and try again"
        )
    return found


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One cluster; :meth:`database` creates an empty database and returns its URL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _port()
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(root, "postgres")

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "openreel")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        log = str(self.root / "server.log")
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start; see {log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://openreel@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database's URL."""
        name = f"test_{next(self._names)}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)
