"""One server per data folder: an exclusive, non-blocking lock on ``data_dir/server.lock``.

The embedded tier keeps its queue in SQLite and recovers interrupted jobs at start-up by
requeueing every ``in_progress`` row; that is only correct if no other server is running
those jobs. Holding this lock proves it. The lock is ``flock(2)``: the kernel drops it when
the process dies, however it dies, so a crashed server never leaves a stale lock behind.

POSIX only (``fcntl``).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from openreel.errors import ConfigurationError

__all__ = ["LOCK_FILE", "DataDirLock"]

LOCK_FILE = "server.lock"
"""Name of the lock file inside the data folder."""


class DataDirLock:
    """Exclusive ownership of a data folder for the life of one server.

    Use as a context manager, or call :meth:`acquire` and :meth:`release`. A second lock on
    the same folder, from another process or from this one, is refused.

    Args:
        data_dir: The data folder (created if missing).
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._path = data_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._path

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> DataDirLock:
        """Takes the lock without waiting.

        Returns:
            This lock, held.

        Raises:
            ConfigurationError: Another server (or another lock object) holds it.
        """
        if self._fd is not None:
            return self
        self._data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigurationError(
                f"another OpenReel server is already using data folder {self._data_dir}"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # The holder's pid, for people wondering who holds it; the lock itself is flock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Gives the lock up (closing the file releases it); harmless when not held."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    close = release

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
