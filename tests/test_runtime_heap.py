"""A serving process freezes its start-up heap; a process that opens servers and drops them
(these tests) does not. Run in a subprocess: freezing the test process would keep every later
test's reference cycles forever."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import gc, sys
    from pathlib import Path
    from openreel.config import ModerationConfig, Settings
    from openreel.runtime import Server

    server = Server.open(
        Settings(
            data_dir=Path(sys.argv[1]),
            workers=1,
            moderation=ModerationConfig(semantic="off"),
            render_processes=False,
        )
    )
    try:
        before = gc.get_freeze_count()
        server.start(freeze_heap=sys.argv[2] == "freeze")
        print(before, gc.get_freeze_count())
    finally:
        server.close()
    """
)


@pytest.mark.parametrize(("mode", "frozen"), [("freeze", True), ("keep", False)])
def test_a_serving_process_freezes_its_start_up_heap(
    tmp_path: Path, mode: str, frozen: bool
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data"), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    before, after = (int(n) for n in done.stdout.split())
    assert before == 0
    assert (after > 10_000) is frozen, (before, after)
