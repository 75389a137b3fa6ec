"""The ``openreel`` typer app, put together from the command groups, and its entry point.

Top-level commands come first in ``--help``, then the groups, in the order registered here.
"""

from __future__ import annotations

import re
import sys

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console

from openreel import __version__
from openreel.cli.artists import artists_app
from openreel.cli.audit import audit_app
from openreel.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, fail
from openreel.cli.generate import generate
from openreel.cli.killswitch import pause, pauses, resume
from openreel.cli.models import models
from openreel.cli.serve import serve
from openreel.cli.setting_errors import setting_errors
from openreel.cli.tokens import token_app
from openreel.cli.verify import verify
from openreel.cli.webhooks import webhooks_app
from openreel.cli.worker import worker

__all__ = ["app", "main"]


def version() -> None:
    """Print the OpenReel version."""
    Console().print(__version__)


def _build_app() -> typer.Typer:
    built = typer.Typer(
        name="openreel",
        help="OpenReel: self-hosted text-to-video. Type a prompt, get a video.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for command in (generate, models, serve, worker, pause, resume, pauses, verify, version):
        built.command()(command)
    built.add_typer(token_app, name="token")
    built.add_typer(artists_app, name="artists")
    built.add_typer(audit_app, name="audit")
    built.add_typer(webhooks_app, name="webhooks")
    return built


app = _build_app()


def main() -> None:
    """Entry point of the ``openreel`` script."""
    try:
        app()
    except KeyboardInterrupt:
        Console(stderr=True).print("[bold red]error:[/] cancelled; no file was written")
        sys.exit(EXIT_INTERRUPTED)
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        # Settings are read by every command as it starts: a typo in one is the operator's,
        # named as they set it, not a traceback.
        err = Console(stderr=True)
        for line in setting_errors(exc):
            fail(err, line, EXIT_ERROR)
        sys.exit(EXIT_ERROR)
    except SettingsError as exc:  # a JSON setting that is no JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"OPENREEL_{field.group(1).upper()}" if field else "an OPENREEL_* setting"
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        fail(Console(stderr=True), f"{name} cannot be read{cause}", EXIT_ERROR)
        sys.exit(EXIT_ERROR)
