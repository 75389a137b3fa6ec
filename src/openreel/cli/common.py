"""What every command group shares, so each prints errors, JSON and times the same way.

A failure is one red line on stderr and an exit status: 2 for bad input, 1 for anything else,
130 for Ctrl-C.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from openreel.config import Settings
from openreel.errors import ConflictError, InvalidRequestError, NotFoundError, OpenReelError

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

T = TypeVar("T")
S = TypeVar("S")


def fail(err: Console, message: str, code: int) -> typer.Exit:
    """Prints ``message`` as one error line and returns the exit to raise."""
    # Escaped: a message is plain text, and "pip install 'openreel[s3]'" must keep its [s3].
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def call(err: Console, open_service: Callable[[Settings], S], run: Callable[[S], T]) -> T:
    """Runs ``run`` on a service over the data folder; our errors become exit codes."""
    try:
        return run(open_service(Settings()))
    except (InvalidRequestError, NotFoundError, ConflictError) as exc:
        raise fail(err, exc.message, EXIT_BAD_INPUT) from None
    except OpenReelError as exc:
        raise fail(err, exc.message, EXIT_ERROR) from None


def print_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> None:
    """Prints ``value`` as JSON on stdout (what ``--json`` asks for)."""
    Console().print_json(json.dumps(value, default=default))


def when(stamp: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM UTC``, or ``-`` when there is none."""
    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp)) + " UTC"
