"""``/v1/videos``: create (JSON or multipart), retrieve, list, delete, content, remix, extend, cancel.

Create bodies are read by hand rather than through one pydantic model because the same fields
arrive as JSON (numbers or strings) or as multipart form fields (always strings, nested keys in
bracket notation such as ``input_reference[image_url]``), and every bad value must come back as
a 400 naming the parameter; the OpenAPI document still describes both encodings.

Imports: api.deps, api.protocol, services, domain, errors.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from openreel.api.deps import CreatorDep, PrincipalDep, ServicesDep, WriterDep
from openreel.api.downloads import local_response, remote_response
from openreel.api.forms import read_form
from openreel.api.protocol import DeletedVideo, ErrorEnvelope, Video, VideoList
from openreel.domain import ImageInput, Job, Principal, VideoRequest, parse_size
from openreel.errors import InvalidRequestError, UnsupportedMediaTypeError
from openreel.media.images import read_image

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["videos"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": text}
    for code, text in {
        400: "Invalid request; `error.param` names the parameter.",
        401: "Missing or invalid token.",
        404: "Unknown video, or one that belongs to someone else.",
        409: "The video is in the wrong state for this operation.",
        413: "Body or image too large.",
        415: "Body is neither JSON nor a form.",
    }.items()
}

_CREATE_FIELDS: dict[str, Any] = {
    "prompt": {"type": "string", "maxLength": 4000},
    "model": {"type": "string"},
    "seconds": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "size": {"type": "string", "example": "1920x1080"},
    "fps": {"type": "integer"},
    "seed": {"type": "integer"},
    "negative_prompt": {"type": "string"},
}
_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": _CREATE_FIELDS
                    | {
                        "input_reference": {
                            "type": "object",
                            "properties": {
                                "image_url": {"type": "string"},
                                "file_id": {"type": "string"},
                            },
                        }
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": _CREATE_FIELDS
                    | {"input_reference": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}

_BRACKET = re.compile(r"^([A-Za-z_]+)\[([A-Za-z_]*)\]$")
_DATA_URL = re.compile(r"^data:(image/[a-z+.-]+)?(;base64)?,(.*)$", re.DOTALL)


async def _read_body(request: Request, services: ServicesDep) -> dict[str, Any]:
    """The body as a dict, from JSON or a form, with bracket keys folded into objects."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise InvalidRequestError("request body is not valid JSON", param=None) from None
        if not isinstance(data, dict):
            raise InvalidRequestError.for_value(
                "body", type(data).__name__, "must be a JSON object"
            )
        return data
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await read_form(request, services.settings.max_body_bytes)
        out: dict[str, Any] = {}
        try:
            for key, item in form.multi_items():
                # Uploaded files are read here so the form (and its temporary files) can be
                # closed before the request goes on; their bytes stand for them from now on.
                value: Any = await item.read() if isinstance(item, UploadFile) else item
                match = _BRACKET.match(key)
                if match:
                    outer = out.setdefault(match.group(1), {})
                    if isinstance(outer, dict):
                        outer[match.group(2)] = value
                else:
                    out[key] = value
        finally:
            await form.close()
        return out
    raise UnsupportedMediaTypeError(
        f"content type must be application/json or multipart/form-data; got {content_type or 'none'!r}"
    )


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and value == "" and not required):
        if required:
            raise InvalidRequestError(f"{name} is required", param=name)
        return None
    if not isinstance(value, str):
        raise InvalidRequestError.for_value(name, value, "must be a string")
    return value


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRequestError.for_value(name, value, "must be a number")
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequestError.for_value(name, value, "must be a number") from None
    if not math.isfinite(number):
        raise InvalidRequestError.for_value(name, value, "must be a finite number")
    return number


def _whole(body: dict[str, Any], name: str) -> int | None:
    number = _number(body, name)
    if number is None:
        return None
    if number != int(number) or abs(number) > 2**63:
        raise InvalidRequestError.for_value(name, body.get(name), "must be a whole number")
    return int(number)


def _image(services: ServicesDep, principal: Principal, value: Any) -> ImageInput | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes):  # an uploaded file part (JSON cannot carry bytes)
        return read_image(value)
    if isinstance(value, dict):
        keys = {k for k, v in value.items() if v not in (None, "")}
        if keys == {"file_id"} and isinstance(value["file_id"], str):
            return services.uploads.image(principal, value["file_id"])
        if keys == {"image_url"} and isinstance(value["image_url"], str):
            return _from_data_url(value["image_url"])
    raise InvalidRequestError(
        "input_reference must be an uploaded image file, {image_url: <data URL>} or {file_id: <id>}",
        param="input_reference",
    )


def _from_data_url(url: str) -> ImageInput:
    match = _DATA_URL.match(url)
    if match is None or not match.group(2):
        raise InvalidRequestError.for_value(
            "input_reference",
            url,
            "image_url must be a base64 data URL (data:image/png;base64,...); "
            "this server does not fetch remote URLs",
        )
    try:
        data = base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            "input_reference image_url is not valid base64", param="input_reference"
        ) from None
    return read_image(data)


def _create_request(
    services: ServicesDep, principal: Principal, body: dict[str, Any]
) -> VideoRequest:
    prompt = _text(body, "prompt", required=True) or ""
    size = _text(body, "size")
    width, height = parse_size(size) if size is not None else (1920, 1080)
    seconds = _number(body, "seconds")
    fps = _whole(body, "fps")
    return VideoRequest(
        prompt=prompt,
        negative_prompt=_text(body, "negative_prompt") or "",
        seconds=10.0 if seconds is None else seconds,
        width=width,
        height=height,
        fps=24 if fps is None else fps,
        seed=_whole(body, "seed"),
        model=_text(body, "model") or services.settings.default_model,
        input_reference=_image(services, principal, body.get("input_reference")),
    )


async def _watch_spend(services: ServicesDep, request: Request, job: Job) -> None:
    """Counts the new video against the token's spending signal (see services/abuse.py).

    The video that trips the signal was already admitted, so its creator still gets it back;
    the token fails from the next request on.
    """
    token_id: str = request.state.token_id
    reason = services.abuse.created(token_id, job.request.seconds)
    if reason is not None:
        await services.write(services.abuse.suspend, token_id, reason)


def _video(response: Response, services: ServicesDep, job: Job) -> Video:
    if not job.status.is_final:
        hint = services.videos.poll_after(job, longest_ms=services.settings.poll_after_ms)
        response.headers["openai-poll-after-ms"] = str(hint)
    return Video.from_job(job)


@router.post(
    "/videos",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=_CREATE_BODY,
    summary="Create a video",
)
async def create_video(
    request: Request, response: Response, services: ServicesDep, principal: CreatorDep
) -> Video:
    """Queues a new video. Accepts JSON or multipart/form-data, like the OpenAI API."""
    body = await _read_body(request, services)

    token_id = request.state.token_id

    def submit() -> Job:  # decodes any image and inserts the row: off the event loop
        made = _create_request(services, principal, body)
        return services.videos.submit(principal, made, token_id=token_id)

    job = await services.write(submit)
    await _watch_spend(services, request, job)
    return _video(response, services, job)


@router.get("/videos", response_model=VideoList, responses=_ERRORS, summary="List videos")
async def list_videos(
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> VideoList:
    """Your videos, newest first by default; page with ``after=<last_id>``."""
    page = await services.read(
        services.videos.list, principal, after=after, limit=limit, order=order
    )
    data = [Video.from_job(job) for job in page.items]
    return VideoList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )


@router.get(
    "/videos/{video_id}", response_model=Video, responses=_ERRORS, summary="Retrieve a video"
)
async def retrieve_video(
    video_id: str, response: Response, services: ServicesDep, principal: PrincipalDep
) -> Video:
    """One video's status and progress; poll it, or follow ``/events``."""
    job = await services.read(services.videos.get, principal, video_id)
    return _video(response, services, job)


@router.delete(
    "/videos/{video_id}", response_model=DeletedVideo, responses=_ERRORS, summary="Delete a video"
)
def delete_video(video_id: str, services: ServicesDep, principal: WriterDep) -> DeletedVideo:
    """Deletes a video and its files; a queued or running one is cancelled first."""
    services.videos.delete(principal, video_id)
    return DeletedVideo(id=video_id)


@router.post(
    "/videos/{video_id}/cancel", response_model=Video, responses=_ERRORS, summary="Cancel a video"
)
def cancel_video(
    video_id: str, response: Response, services: ServicesDep, principal: WriterDep
) -> Video:
    """Stops a queued or running video (OpenReel addition). It ends ``failed`` with code ``cancelled``."""
    return _video(response, services, services.videos.cancel(principal, video_id))


@router.get(
    "/videos/{video_id}/content",
    responses=_ERRORS
    | {
        200: {
            "description": "The file; the video variant supports HTTP Range requests.",
            "content": {"video/mp4": {}, "image/webp": {}, "image/jpeg": {}},
        },
        206: {"description": "The byte range asked for with `Range`."},
        307: {
            "description": "With `OPENREEL_STORAGE__DOWNLOADS=presign`: a short-lived URL "
            "of the file in the bucket (`Location`)."
        },
        416: {"model": ErrorEnvelope, "description": "The range starts past the end."},
    },
    response_class=FileResponse,
    summary="Download video content",
)
async def video_content(
    video_id: str,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    variant: Annotated[Literal["video", "thumbnail", "spritesheet"], Query()] = "video",
) -> Response:
    """The finished MP4 (seekable), its WebP thumbnail or its JPEG spritesheet."""
    content = await services.read(services.videos.content, principal, video_id, variant)
    if not isinstance(content.source, Path):
        storage = services.settings.storage
        seconds = storage.presign_seconds if storage.downloads == "presign" else None
        return await remote_response(request, content, content.source, presign_seconds=seconds)
    return local_response(request, content, content.source)


_REMIX_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": {"prompt": {"type": "string"}},
                }
            }
        },
    }
}


@router.post(
    "/videos/{video_id}/remix",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=_REMIX_BODY,
    summary="Remix a video",
)
async def remix_video(
    video_id: str,
    request: Request,
    response: Response,
    services: ServicesDep,
    principal: CreatorDep,
) -> Video:
    """A new video with the same settings and seed as a completed one, and a new prompt."""
    body = await _read_body(request, services)
    prompt = _text(body, "prompt", required=True) or ""
    job = await services.write(
        services.videos.remix, principal, video_id, prompt, token_id=request.state.token_id
    )
    await _watch_spend(services, request, job)
    return _video(response, services, job)


_EXTEND_FIELDS = {
    "prompt": {"type": "string"},
    "seconds": {"oneOf": [{"type": "string"}, {"type": "number"}]},
}
_EXTEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["prompt", "video"],
                    "properties": _EXTEND_FIELDS
                    | {
                        "video": {
                            "type": "object",
                            "properties": {"id": {"type": "string"}},
                            "required": ["id"],
                        }
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": _EXTEND_FIELDS | {"video[id]": {"type": "string"}},
                }
            },
        },
    }
}


@router.post(
    "/videos/extensions",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=_EXTEND_BODY,
    summary="Extend a video",
)
async def extend_video(
    request: Request, response: Response, services: ServicesDep, principal: CreatorDep
) -> Video:
    """Continues a completed video by ``seconds``; the result's ``seconds`` is the stitched total."""
    body = await _read_body(request, services)
    prompt = _text(body, "prompt", required=True) or ""
    source = body.get("video")
    if (
        not isinstance(source, dict)
        or not isinstance(source.get("id"), str)
        or not source.get("id")
    ):
        raise InvalidRequestError(
            "video must be an object {id: <video id>} naming a completed video", param="video"
        )
    seconds = _number(body, "seconds")
    if seconds is None:
        seconds = 4.0
    if seconds <= 0:
        raise InvalidRequestError.for_value(
            "seconds", body.get("seconds"), "must be greater than 0"
        )
    job = await services.write(
        services.videos.extend,
        principal,
        source["id"],
        prompt,
        seconds,
        token_id=request.state.token_id,
    )
    await _watch_spend(services, request, job)
    return _video(response, services, job)
