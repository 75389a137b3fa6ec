"""``openreel webhooks``: add, list, remove and rotate webhook endpoints from the operator's
shell (the API's ``/v1/webhooks`` does the same for each principal).

The operator acts as an admin: ``list`` shows everyone's endpoints, ``remove`` and ``rotate``
take any. A secret is printed once, by ``add`` and ``rotate``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from openreel.cli.common import EXIT_BAD_INPUT, call, fail, print_json, when
from openreel.domain import Principal, Role
from openreel.runtime import open_webhooks
from openreel.services.webhooks import CreatedEndpoint, WebhookService
from openreel.storage.principals import PrincipalStore
from openreel.storage.webhooks import Endpoint

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    help="Add, list, remove and rotate webhook endpoints.", no_args_is_help=True
)

OPERATOR = Principal(id="operator", name="operator", role=Role.ADMIN)
"""Who the command line acts as: an admin that owns nothing."""

Opened = tuple[WebhookService, PrincipalStore]


def _dict(endpoint: Endpoint, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": list(endpoint.events),
        "owner": names.get(endpoint.owner_id, endpoint.owner_id),
        "created_at": int(endpoint.created_at),
        "status": "enabled" if endpoint.disabled_at is None else "disabled",
        "disabled_reason": endpoint.disabled_reason,
    }


def _show_secret(err: Console, created: CreatedEndpoint, as_json: bool, verb: str) -> None:
    endpoint = created.endpoint
    if as_json:
        print_json(_dict(endpoint, {}) | {"secret": created.secret})
        return
    err.print(f"{verb} {endpoint.id} -> {endpoint.url}; its secret, shown once:", highlight=False)
    Console().print(created.secret, highlight=False)


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where to send the notices (https://...).")],
    principal: Annotated[
        str, typer.Option("--principal", help="Whose videos to announce (their name).")
    ],
    event: Annotated[
        list[str] | None,
        typer.Option(help="video.completed or video.failed (repeat; default: both)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add an endpoint for a principal's videos; prints its secret once."""
    err = Console(stderr=True)

    def add(opened: Opened) -> CreatedEndpoint:
        service, principals = opened
        owner = principals.by_name(principal)
        if owner is None:
            raise fail(err, f"--principal: no principal named {principal!r}", EXIT_BAD_INPUT)
        return service.create(owner, url, event)

    _show_secret(err, call(err, open_webhooks, add), as_json, "added")


@webhooks_app.command("list")
def webhooks_list(
    principal: Annotated[
        str | None, typer.Option("--principal", help="Only this principal's endpoints.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List endpoints (everyone's, or one principal's) with their state."""
    err = Console(stderr=True)

    def listed(opened: Opened) -> tuple[list[Endpoint], dict[str, str]]:
        service, principals = opened
        names = {p.id: p.name for p in principals.list()}
        endpoints = service.endpoints(OPERATOR)
        if principal is not None:
            owner = principals.by_name(principal)
            if owner is None:
                raise fail(err, f"--principal: no principal named {principal!r}", EXIT_BAD_INPUT)
            endpoints = [e for e in endpoints if e.owner_id == owner.id]
        return endpoints, names

    endpoints, names = call(err, open_webhooks, listed)
    if as_json:
        print_json([_dict(e, names) for e in endpoints])
        return
    out = Console()
    for endpoint in endpoints:
        shown = _dict(endpoint, names)
        state = shown["status"]
        if endpoint.disabled_reason:
            state += f" ({endpoint.disabled_reason})"
        out.print(
            f"{endpoint.id}  {shown['owner']}  {endpoint.url}  {','.join(endpoint.events)}  "
            f"since {when(endpoint.created_at)}  {state}",
            highlight=False,
            soft_wrap=True,
        )
    if not endpoints:
        err.print("no webhook endpoints", highlight=False)


@webhooks_app.command("remove")
def webhooks_remove(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint id (wh_...).")],
) -> None:
    """Remove an endpoint and its deliveries; nothing more is sent to it."""
    err = Console(stderr=True)
    call(err, open_webhooks, lambda opened: opened[0].delete(OPERATOR, endpoint_id))
    err.print(f"removed {endpoint_id}", highlight=False)


@webhooks_app.command("rotate")
def webhooks_rotate(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint id (wh_...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Give an endpoint a new secret (printed once); the old one also signs for
    OPENREEL_WEBHOOKS__ROTATION_GRACE_HOURS."""
    err = Console(stderr=True)
    created = call(err, open_webhooks, lambda opened: opened[0].rotate(OPERATOR, endpoint_id))
    _show_secret(err, created, as_json, "rotated")
