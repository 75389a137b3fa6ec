"""``/v1/videos``: create (JSON or multipart), retrieve, list, delete, content, remix, extend,
edit, cancel.

The create, remix and extend bodies may come as JSON or as forms, which FastAPI cannot read
into one parameter; each route reads the fields itself and validates them with its model from
:mod:`openreel.api.video_requests`, whose schema the OpenAPI document shows for both encodings.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from openreel.api.deps import CreatorDep, PrincipalDep, ServicesDep, WriterDep
from openreel.api.downloads import local_response, remote_response
from openreel.api.forms import read_fields, upload_body_limit
from openreel.api.protocol import DeletedVideo, ErrorEnvelope, Video, VideoList
from openreel.api.video_requests import (
    CreateVideoBody,
    EditVideoBody,
    ExtendVideoBody,
    RemixVideoBody,
)
from openreel.domain import Job

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
    openapi_extra=CreateVideoBody.openapi(),
    summary="Create a video",
)
async def create_video(
    request: Request, response: Response, services: ServicesDep, principal: CreatorDep
) -> Video:
    """Queues a new video. Accepts JSON or multipart/form-data, like the OpenAI API."""
    fields = await read_fields(request, services.settings.max_body_bytes)
    body = CreateVideoBody.from_fields(fields)
    uploaded_image = partial(services.uploads.image, principal)
    token_id = request.state.token_id

    def submit() -> Job:  # decodes any image and inserts the row: off the event loop
        made = body.to_video_request(services.settings.default_model, uploaded_image)
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


@router.post(
    "/videos/{video_id}/remix",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=RemixVideoBody.openapi(),
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
    fields = await read_fields(request, services.settings.max_body_bytes)
    body = RemixVideoBody.from_fields(fields)
    job = await services.write(
        services.videos.remix,
        principal,
        video_id,
        body.prompt,
        token_id=request.state.token_id,
        audio=body.audio,
    )
    await _watch_spend(services, request, job)
    return _video(response, services, job)


@router.post(
    "/videos/extensions",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=ExtendVideoBody.openapi(),
    summary="Extend a video",
)
async def extend_video(
    request: Request, response: Response, services: ServicesDep, principal: CreatorDep
) -> Video:
    """Continues a completed or uploaded video by ``seconds``; the result's ``seconds`` is the
    stitched total."""
    fields = await read_fields(request, upload_body_limit(services.settings))
    body = ExtendVideoBody.from_fields(fields)
    job = await services.write(
        services.videos.extend,
        principal,
        body.source,
        body.prompt,
        body.seconds,
        token_id=request.state.token_id,
        audio=body.audio,
    )
    await _watch_spend(services, request, job)
    return _video(response, services, job)


@router.post(
    "/videos/edits",
    response_model=Video,
    responses=_ERRORS,
    openapi_extra=EditVideoBody.openapi(),
    summary="Edit a video",
)
async def edit_video(
    request: Request, response: Response, services: ServicesDep, principal: CreatorDep
) -> Video:
    """A new video of the same length, size and frame rate as a completed or uploaded one,
    changed as the prompt says (what each model can change: ``/v1/models``)."""
    fields = await read_fields(request, upload_body_limit(services.settings))
    body = EditVideoBody.from_fields(fields)
    job = await services.write(
        services.videos.edit,
        principal,
        body.source,
        body.prompt,
        model=body.model,
        token_id=request.state.token_id,
        audio=body.audio,
    )
    await _watch_spend(services, request, job)
    return _video(response, services, job)
