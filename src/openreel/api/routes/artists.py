"""The artists' opt-out registry over HTTP.

Admins manage entries under ``/v1/admin/artists`` (the CLI's ``openreel artists`` does the
same). Anyone with a token that may create videos can file a request at
``POST /v1/artists/optout``; it is enforced once an admin approves it (``status: active``).
The list itself is never shown to non-admins.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from openreel.api.deps import AdminDep, ServicesDep, WriterDep
from openreel.api.protocol import (
    ArtistDeleted,
    ArtistList,
    ArtistObject,
    ArtistRequest,
    ArtistRequestReceipt,
    CreateArtist,
    UpdateArtist,
)
from openreel.storage.artists import ArtistEntry

__all__ = ["router"]

router = APIRouter(tags=["artists"])


def _wire(entry: ArtistEntry) -> ArtistObject:
    return ArtistObject.model_validate(entry.to_dict())


@router.get("/v1/admin/artists", response_model=ArtistList, summary="The opt-out registry")
async def list_artists(
    services: ServicesDep,
    admin: AdminDep,
    status: Annotated[Literal["active", "pending"] | None, Query()] = None,
) -> ArtistList:
    """Every entry (or only active or pending ones), by name."""
    del admin
    entries = await services.read(services.artists.list, status=status)
    return ArtistList(data=[_wire(e) for e in entries])


@router.post("/v1/admin/artists", response_model=ArtistObject, summary="Register an artist")
async def add_artist(body: CreateArtist, services: ServicesDep, admin: AdminDep) -> ArtistObject:
    """Registers an artist; prompts asking for their style are refused from the next request
    unless ``allow_style`` is true."""
    entry = await services.write(
        services.artists.add,
        body.name,
        body.aliases,
        allow_style=body.allow_style,
        source=body.source,
        contact=body.contact,
        by=admin.id,
    )
    return _wire(entry)


@router.get("/v1/admin/artists/{entry_id}", response_model=ArtistObject, summary="One entry")
async def get_artist(entry_id: str, services: ServicesDep, admin: AdminDep) -> ArtistObject:
    """One registry entry."""
    del admin
    return _wire(await services.read(services.artists.get, entry_id))


@router.patch("/v1/admin/artists/{entry_id}", response_model=ArtistObject, summary="Change one")
async def update_artist(
    entry_id: str, body: UpdateArtist, services: ServicesDep, admin: AdminDep
) -> ArtistObject:
    """Changes aliases or the artist's choice, or approves a request (``status: active``)."""
    entry = await services.write(
        services.artists.update,
        entry_id,
        aliases=body.aliases,
        allow_style=body.allow_style,
        status=body.status,
        by=admin.id,
    )
    return _wire(entry)


@router.delete("/v1/admin/artists/{entry_id}", response_model=ArtistDeleted, summary="Remove")
async def remove_artist(entry_id: str, services: ServicesDep, admin: AdminDep) -> ArtistDeleted:
    """Removes an entry; their style is no longer refused."""
    removed = await services.write(services.artists.remove, entry_id, by=admin.id)
    return ArtistDeleted(id=entry_id, deleted=removed)


@router.post("/v1/artists/optout", response_model=ArtistRequestReceipt, summary="Ask to opt out")
async def request_optout(
    body: ArtistRequest, services: ServicesDep, principal: WriterDep
) -> ArtistRequestReceipt:
    """Files an opt-out request for review by an admin; it is not enforced until approved."""
    entry = await services.write(
        services.artists.request, body.name, body.aliases, contact=body.contact, by=principal.id
    )
    return ArtistRequestReceipt(id=entry.id)
