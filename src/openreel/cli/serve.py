"""``openreel serve``: the API server and its in-process render workers in one process.

Uvicorn and the API app are imported only when the command runs; the other commands skip them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from openreel import __version__
from openreel.cli.common import EXIT_ERROR, fail
from openreel.config import Settings
from openreel.errors import OpenReelError
from openreel.logs import install_redaction, secrets_of
from openreel.runtime import Server

__all__ = ["serve"]


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Render workers in this process.")] = None,
) -> None:
    """Run the API server with in-process render workers (SQLite, files in the data folder)."""
    import uvicorn

    from openreel.api.app import create_app

    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None
    }
    err = Console(stderr=True)
    try:
        settings = Settings(**overrides)
        install_redaction(secrets_of(settings))  # before anything can log a key or a token
        server = Server.open(settings)
    except OpenReelError as exc:
        raise fail(err, exc.message, EXIT_ERROR) from None
    try:
        server.start(freeze_heap=True)
        url = f"http://{settings.host}:{settings.port}"
        err.print(
            f"[bold]OpenReel {__version__}[/] serving {url}/v1 (data in {Path(settings.data_dir).resolve()})",
            highlight=False,
        )
        err.print(f"Studio: open {url}/ in a browser and sign in with a token", highlight=False)
        if server.first_admin is not None:
            err.print(
                f"[bold yellow]First admin token (shown once, keep it safe):[/] {server.first_admin.token}",
                highlight=False,
            )
        uvicorn.run(
            create_app(server.services),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_keep_alive=settings.keep_alive_seconds,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    finally:
        server.close()
