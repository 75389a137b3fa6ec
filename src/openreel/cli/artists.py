"""``openreel artists``: the artists' opt-out registry, kept by the operator.

Entries live in the database, so every server sharing it enforces them from the next prompt.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from openreel.cli.common import EXIT_BAD_INPUT, call, fail, print_json
from openreel.runtime import open_artists
from openreel.storage.artists import ArtistEntry

__all__ = ["artists_app"]

artists_app = typer.Typer(
    help="The artists' opt-out registry: prompts asking for their style are refused.",
    no_args_is_help=True,
)


def _artist_dict(entry: ArtistEntry) -> dict[str, Any]:
    return entry.to_dict()


def _print_artist(out: Console, entry: ArtistEntry) -> None:
    choice = "allows style use" if entry.allow_style else "style refused"
    aliases = f" (also: {', '.join(entry.aliases)})" if entry.aliases else ""
    out.print(
        f"{entry.id}  {entry.name}{aliases}  [{entry.status}, {choice}]",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@artists_app.command("add")
def artists_add(
    name: Annotated[str, typer.Argument(help="The artist's name as they gave it.")],
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another name or spelling (repeatable).")
    ] = None,
    allow_style: Annotated[
        bool, typer.Option("--allow-style", help="The artist allows prompts in their style.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="Where the request came from.")] = None,
    contact: Annotated[str | None, typer.Option(help="How to reach the artist.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Register an artist; enforced from the next prompt on every server sharing the data."""
    err = Console(stderr=True)
    entry = call(
        err,
        open_artists,
        lambda reg: reg.add(
            name, alias or [], allow_style=allow_style, source=source, contact=contact
        ),
    )
    if as_json:
        print_json(_artist_dict(entry))
    else:
        _print_artist(Console(), entry)


@artists_app.command("list")
def artists_list(
    status: Annotated[str | None, typer.Option(help="Only 'active' or 'pending' entries.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registry by name (pending entries are requests waiting for approval)."""
    err = Console(stderr=True)
    if status not in (None, "active", "pending"):
        raise fail(err, f"--status must be active or pending; got {status!r}", EXIT_BAD_INPUT)
    found = call(err, open_artists, lambda reg: reg.list(status=status))  # type: ignore[arg-type]
    if as_json:
        print_json([_artist_dict(e) for e in found])
        return
    out = Console()
    for entry in found:
        _print_artist(out, entry)
    if not found:
        err.print("the registry is empty", highlight=False)


@artists_app.command("set")
def artists_set(
    entry_id: Annotated[str, typer.Argument(help="The entry id (art_...).")],
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve a pending request (enforce it).")
    ] = False,
    allow_style: Annotated[
        bool | None,
        typer.Option("--allow-style/--refuse-style", help="The artist's choice about style use."),
    ] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Replace the aliases (repeatable).")
    ] = None,
) -> None:
    """Change an entry: approve a request, record the artist's choice, or set aliases."""
    err = Console(stderr=True)
    entry = call(
        err,
        open_artists,
        lambda reg: reg.update(
            entry_id,
            aliases=alias,
            allow_style=allow_style,
            status="active" if approve else None,
        ),
    )
    _print_artist(Console(), entry)


@artists_app.command("remove")
def artists_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry id (art_...).")],
) -> None:
    """Remove an entry; their style is no longer refused."""
    err = Console(stderr=True)
    if not call(err, open_artists, lambda reg: reg.remove(entry_id)):
        raise fail(err, f"no artist opt-out {entry_id!r}", EXIT_BAD_INPUT)
    err.print(f"removed {entry_id}", highlight=False)
