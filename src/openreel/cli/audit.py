"""``openreel audit``: read the audit log and check that nobody has edited or cut it.

The check compares the chain against an anchor file kept outside the database.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from openreel.cli.common import EXIT_ERROR, call, fail, print_json, when
from openreel.runtime import open_audit

__all__ = ["audit_app"]

audit_app = typer.Typer(help="Read and check the tamper-evident audit log.", no_args_is_help=True)

AnchorOpt = Annotated[
    Path | None,
    typer.Option(help="Anchor file (default: audit-head.json in the data folder)."),
]


@audit_app.command("verify")
def audit_verify(
    anchor: AnchorOpt = None,
    keep_anchor: Annotated[
        bool, typer.Option(help="Do not move the anchor to the newest row after a good check.")
    ] = False,
) -> None:
    """Check every row's hash and link, and the anchor; exit 1 if anything was tampered with."""
    err = Console(stderr=True)
    report = call(
        err,
        lambda settings: open_audit(settings, anchor),
        lambda audit: audit.verify(update_anchor=not keep_anchor),
    )
    v = report.verification
    if not v.ok:
        raise fail(err, f"audit log tampered: {v.reason}", EXIT_ERROR)
    against = "no anchor yet" if report.anchor is None else f"anchor at row {report.anchor.seq}"
    moved = "" if report.new_anchor is None else f"; anchor now at row {report.new_anchor.seq}"
    Console().print(f"ok: {v.rows_checked} rows checked ({against}){moved}", highlight=False)


@audit_app.command("list")
def audit_list(
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. token.revoked.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only rows about this id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the newest audit rows."""
    err = Console(stderr=True)
    rows = call(
        err, open_audit, lambda audit: audit.list(action=action, target_id=target, limit=limit)
    )
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows])
        return
    table = Table("seq", "when", "action", "outcome", "actor", Column("target", no_wrap=True))
    for r in rows:
        table.add_row(
            str(r.seq), when(r.ts), r.action, r.outcome, r.actor_id or "-", r.target_id or "-"
        )
    Console().print(table)
