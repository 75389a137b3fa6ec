"""``/v1/videos/characters``: make a character from a clip, read it, and (our additions) list
and delete them.

The create body is a form (``name`` and a ``video`` file), as OpenAI's SDK sends it; it is
read like the other video bodies (:func:`openreel.api.forms.read_fields`) so a bad field is a
400 naming it. The router is included before the videos router: ``/videos/characters`` would
otherwise read as the id of a video.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from openreel.api.deps import CreatorDep, PrincipalDep, ServicesDep, WriterDep
from openreel.api.forms import read_fields, upload_body_limit
from openreel.api.protocol import CharacterList, CharacterObject, DeletedCharacter, ErrorEnvelope
from openreel.errors import InvalidRequestError
from openreel.services.characters import CharacterService
from openreel.storage.characters import StoredCharacter

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["characters"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "Bad name or clip; `error.param` names it."},
    401: {"model": ErrorEnvelope, "description": "Missing or invalid token."},
    404: {"model": ErrorEnvelope, "description": "Unknown character, or someone else's."},
}

_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "What prompts call it."},
                        "video": {
                            "type": "string",
                            "format": "binary",
                            "description": "A clip (MP4, MOV or WebM) of the character.",
                        },
                    },
                    "required": ["name", "video"],
                }
            }
        },
    }
}


def _wire(character: StoredCharacter) -> CharacterObject:
    return CharacterObject(
        id=character.id, name=character.name, created_at=int(character.created_at)
    )


def _service(services: ServicesDep) -> CharacterService:
    if services.characters is None:  # a runtime built without them (some tests)
        raise InvalidRequestError("characters are not enabled on this server")
    return services.characters


@router.post(
    "/videos/characters",
    response_model=CharacterObject,
    responses=_ERRORS,
    openapi_extra=_FORM,
    summary="Create a character",
)
async def create_character(
    request: Request, services: ServicesDep, principal: CreatorDep
) -> CharacterObject:
    """Cuts the character out of the clip's clearest frame; name it in a prompt to use it."""
    fields = await read_fields(request, upload_body_limit(services.settings))
    name, video = fields.get("name"), fields.get("video")
    if not isinstance(name, str):
        raise InvalidRequestError.for_value("name", name, "must be text")
    if not isinstance(video, bytes):
        raise InvalidRequestError.for_value(
            "video", video, "must be an uploaded video file (MP4, MOV or WebM)"
        )
    made = await services.write(_service(services).create, principal, name, video)
    return _wire(made)


@router.get(
    "/videos/characters",
    response_model=CharacterList,
    responses=_ERRORS,
    summary="List characters",
)
async def list_characters(
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CharacterList:
    """Your characters, newest first (OpenReel addition)."""
    page = await services.read(_service(services).list, principal, after=after, limit=limit)
    data = [_wire(c) for c in page.items]
    return CharacterList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )


@router.get(
    "/videos/characters/{character_id}",
    response_model=CharacterObject,
    responses=_ERRORS,
    summary="Retrieve a character",
)
async def get_character(
    character_id: str, services: ServicesDep, principal: PrincipalDep
) -> CharacterObject:
    """One of your characters."""
    return _wire(await services.read(_service(services).get, principal, character_id))


@router.delete(
    "/videos/characters/{character_id}",
    response_model=DeletedCharacter,
    responses=_ERRORS,
    summary="Delete a character",
)
async def delete_character(
    character_id: str, services: ServicesDep, principal: WriterDep
) -> DeletedCharacter:
    """Deletes one of your characters and its files (OpenReel addition)."""
    await services.write(_service(services).delete, principal, character_id)
    return DeletedCharacter(id=character_id)
