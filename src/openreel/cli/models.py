"""``openreel models``: what this installation can generate with, read from its registry."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from openreel.cli.common import print_json
from openreel.config import Settings
from openreel.runtime import Runtime

__all__ = ["models"]


def models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the models this installation can generate with, and their limits."""
    runtime = Runtime.from_settings(Settings())
    rows: list[dict[str, Any]] = []
    for entry in runtime.registry.models():
        caps = runtime.registry.backend(entry.backend).capabilities(entry.model)
        rows.append({"id": entry.model, "backend": entry.backend, "capabilities": caps.to_dict()})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        caps = row["capabilities"]
        Console().print(
            f"[bold]{row['id']}[/] ({row['backend']}): up to {caps['max_seconds']:g} s, "
            f"sizes {caps['min_side']}-{caps['max_side']} px, {caps['fps_range'][0]}-{caps['fps_range'][1]} fps",
            highlight=False,
        )
