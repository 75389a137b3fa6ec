"""``openreel pause``, ``resume`` and ``pauses``: the kill switch, from the operator's shell.

A pause covers everything, or one model, principal or token; the same options name it to lift.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from openreel.cli.common import EXIT_BAD_INPUT, call, fail, print_json, when
from openreel.runtime import open_killswitch
from openreel.storage.pauses import PauseScope

__all__ = ["pause", "pauses", "resume"]

ModelOpt = Annotated[str | None, typer.Option(help="Only this model.")]
PrincipalOpt = Annotated[str | None, typer.Option(help="Only this principal (by name).")]
TokenOpt = Annotated[str | None, typer.Option(help="Only this token (tok_...).")]


def _scope(
    err: Console, model: str | None, principal: str | None, token: str | None
) -> tuple[PauseScope, str]:
    given = [(s, v) for s, v in (("model", model), ("principal", principal), ("token", token)) if v]
    if len(given) > 1:
        names = ", ".join(f"--{s}" for s, _ in given)
        raise fail(
            err, f"name at most one of --model, --principal, --token; got {names}", EXIT_BAD_INPUT
        )
    if not given:
        return "all", ""
    scope, value = given[0]
    return scope, value  # type: ignore[return-value]  # one of the three literals above


def pause(
    reason: Annotated[str, typer.Option(help="Why; shown to everyone refused.")],
    model: ModelOpt = None,
    principal: PrincipalOpt = None,
    token: TokenOpt = None,
    cancel_queued: Annotated[
        bool, typer.Option(help="Also cancel matching queued videos.")
    ] = False,
    cancel_running: Annotated[
        bool, typer.Option(help="Also stop matching running videos at their next step.")
    ] = False,
) -> None:
    """Kill switch: refuse new videos (all, or one model, principal or token) until resumed."""
    err = Console(stderr=True)
    scope, target = _scope(err, model, principal, token)
    outcome = call(
        err,
        open_killswitch,
        lambda ks: ks.pause(
            scope,
            target,
            reason=reason,
            cancel_queued=cancel_queued,
            cancel_running=cancel_running,
        ),
    )
    err.print(
        f"paused {scope}{' ' + target if target else ''}: {outcome.pause.reason} "
        f"({outcome.cancelled_queued} queued cancelled, {outcome.stopping_running} running "
        "told to stop)",
        highlight=False,
    )


def resume(model: ModelOpt = None, principal: PrincipalOpt = None, token: TokenOpt = None) -> None:
    """Lift a pause set with `openreel pause` (the same options name it)."""
    err = Console(stderr=True)
    scope, target = _scope(err, model, principal, token)
    if not call(err, open_killswitch, lambda ks: ks.resume(scope, target)):
        raise fail(err, f"no pause in force for {scope} {target!r}", EXIT_BAD_INPUT)
    err.print(f"resumed {scope}{' ' + target if target else ''}", highlight=False)


def pauses(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the pauses in force."""
    err = Console(stderr=True)
    found = call(err, open_killswitch, lambda ks: ks.pauses())
    if as_json:
        print_json([dataclasses.asdict(p) for p in found])
        return
    table = Table("scope", Column("target", no_wrap=True), "reason", "since")
    for p in found:
        table.add_row(p.scope, p.target or "-", p.reason, when(p.created_at))
    Console().print(table)
