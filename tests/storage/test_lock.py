"""DataDirLock: one server per data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openreel.errors import ConfigurationError
from openreel.storage.lock import DataDirLock

CHILD = """
import sys
from pathlib import Path
from openreel.errors import ConfigurationError
from openreel.storage.lock import DataDirLock
try:
    DataDirLock(Path(sys.argv[1])).acquire()
except ConfigurationError as exc:
    print("refused:", exc.message)
else:
    print("acquired")
"""


def _try_in_child(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_lock_refuses_a_second_lock_object(tmp_path: Path) -> None:
    with DataDirLock(tmp_path / "data") as first:
        assert first.held
        with pytest.raises(ConfigurationError, match="already using data folder"):
            DataDirLock(tmp_path / "data").acquire()
    assert not first.held
    with DataDirLock(tmp_path / "data") as again:
        assert again.held


def test_lock_refuses_a_second_process_until_released(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path).acquire()
    try:
        assert _try_in_child(tmp_path).startswith("refused: another OpenReel server")
    finally:
        lock.release()
    assert _try_in_child(tmp_path) == "acquired"
