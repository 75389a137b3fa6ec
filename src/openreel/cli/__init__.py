"""The ``openreel`` command line: generate videos, serve the API, run workers, administer.

Every failure a user can cause prints one line naming what was wrong and the value received
and exits with status 2 (bad input) or 1 (anything else); Ctrl-C exits 130. No traceback ever
reaches the terminal, and no partial file is ever left behind. Each command group has its own
module; ``entry`` puts them together into one typer app.
"""

from __future__ import annotations

from openreel.cli.common import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_INTERRUPTED
from openreel.cli.entry import app, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_INTERRUPTED", "app", "main"]
