"""What every ``openreel`` command pays before it does anything: its imports.

Each command is a fresh process (a token minted from a shell, a worker started by a
supervisor), so a library imported at module level for one feature is paid by all of them.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scipy.signal", "pyloudnorm", "torch", "diffusers", "transformers")
"""Libraries only making sound or running a local model needs (scipy.signal alone takes
about 1.5 s to import)."""


def test_commands_start_without_the_libraries_only_rendering_needs() -> None:
    code = (
        "import sys\n"
        "import openreel.cli.entry\n"
        "import openreel.runtime.server\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout
