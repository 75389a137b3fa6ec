"""``openreel token``: mint, list, revoke and rotate access tokens from the operator's shell.

A token's secret is printed once, when it is made; only its keyed hash is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from openreel.cli.common import EXIT_BAD_INPUT, call, fail, print_json, when
from openreel.domain import Role
from openreel.runtime import open_auth
from openreel.trust.auth import IssuedToken, TokenRecord

__all__ = ["token_app"]

token_app = typer.Typer(help="Create, list, revoke and rotate access tokens.", no_args_is_help=True)


def _token_dict(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "principal_id": record.principal_id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": list(record.scopes),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
        "last_used_at": record.last_used_at,
    }


def _show_issued(err: Console, issued: IssuedToken, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(_token_dict(issued.record) | {"token": issued.token})
        return
    err.print(
        f"{verb} {issued.record.id} for [bold]{issued.principal.name}[/] "
        f"({issued.principal.role.value}; {' '.join(issued.record.scopes)}; expires "
        f"{when(issued.record.expires_at)}), shown once:",
        highlight=False,
    )
    Console().print(issued.token, highlight=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who the token is for (created if new).")],
    admin: Annotated[bool, typer.Option(help="Make a new principal an administrator.")] = False,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Allow only this (repeat): videos:read, videos:write, admin."),
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Lifetime in days (default: OPENREEL_TOKEN_DAYS).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Label shown in listings.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mint a token for NAME and print it once; only its keyed hash is stored."""
    err = Console(stderr=True)
    name = name.strip()
    if not name or len(name) > 100:
        raise fail(err, f"name must be 1 to 100 characters; got {name!r}", EXIT_BAD_INPUT)
    issued = call(
        err,
        open_auth,
        lambda auth: auth.issue(
            name,
            role=Role.ADMIN if admin else Role.USER,
            token_name=label,
            scopes=scope or None,
            days=days,
        ),
    )
    _show_issued(err, issued, as_json, "token")


@token_app.command("list")
def token_list(
    name: Annotated[str | None, typer.Argument(help="Only this principal's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens (never their secrets), oldest first."""
    err = Console(stderr=True)
    records = call(err, open_auth, lambda auth: auth.tokens(name))
    if as_json:
        print_json([_token_dict(r) for r in records])
        return
    table = Table(
        Column("id", no_wrap=True), "label", "prefix", "scopes", "expires", "revoked", "last used"
    )
    for r in records:
        table.add_row(
            r.id,
            r.name,
            r.prefix + "...",
            " ".join(r.scopes),
            when(r.expires_at),
            when(r.revoked_at),
            when(r.last_used_at),
        )
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_...), from `list`.")],
) -> None:
    """Revoke a token: its very next request fails."""
    err = Console(stderr=True)
    record = call(err, open_auth, lambda auth: auth.revoke(token_id.strip()))
    err.print(f"revoked {record.id} ({record.name}) at {when(record.revoked_at)}")


@token_app.command("rotate")
def token_rotate(
    token_id: Annotated[str, typer.Argument(help="The token to replace (tok_...).")],
    days: Annotated[float | None, typer.Option(help="Lifetime of the new token.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replace a token with a new one (same owner, label, scopes); the old one is revoked."""
    err = Console(stderr=True)
    issued = call(err, open_auth, lambda auth: auth.rotate(token_id.strip(), days=days))
    _show_issued(err, issued, as_json, f"replaced {token_id.strip()} with")
