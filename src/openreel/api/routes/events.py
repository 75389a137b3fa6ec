"""``GET /v1/videos/{id}/events``: Server-Sent Events for browsers.

The stream starts with a ``snapshot`` of the video, then sends ``progress`` whenever progress or
phase changes (at most a few times a second), and ends with ``completed`` or ``failed``. Each
event's ``data`` is the video object as JSON, exactly as ``GET /v1/videos/{id}`` returns it. If
the video is deleted while the stream is open, the stream ends with an ``error`` event whose
data is the usual error envelope. It reads the jobs table, like every other client, so it works
whichever process runs the job: a change made in this process (the embedded workers) wakes the
stream at once through the job watch, and any other change is seen within ``POLL_SECONDS``.

The video is looked up before the stream starts, so an unknown id (or someone else's video)
is an ordinary 404 error response, not a broken stream.

Imports: api.deps, api.protocol, domain, errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import ErrorEnvelope, Video
from openreel.domain import Job
from openreel.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["videos"])

POLL_SECONDS = 0.25
"""Longest wait between looks at the job; changes made in this process wake the stream at once."""


async def _visible_job(video_id: str, services: ServicesDep, principal: PrincipalDep) -> Job:
    """The video, or a 404 before any byte of the stream is sent."""
    return await services.read(services.jobs.get, principal, video_id)


@router.get(
    "/videos/{video_id}/events",
    response_class=EventSourceResponse,
    summary="Follow a video's progress",
)
async def video_events(
    video_id: str,
    services: ServicesDep,
    principal: PrincipalDep,
    job: Annotated[Job, Depends(_visible_job)],
) -> AsyncIterator[ServerSentEvent]:
    """Snapshot, then progress, then the final state, as Server-Sent Events."""
    seq = 0
    last = Video.from_job(job)
    yield ServerSentEvent(raw_data=last.model_dump_json(), event="snapshot", id=str(seq))
    with services.jobs.watch.subscribe(video_id) as changes:
        waited = False  # the first look is at once: a change may predate the subscription
        while last.status not in ("completed", "failed"):
            if waited:
                await changes.wait(POLL_SECONDS)
            waited = True
            try:
                job = await services.read(services.jobs.get, principal, video_id)
            except NotFoundError as exc:
                gone = ErrorEnvelope.model_validate({"error": exc.to_dict()})
                yield ServerSentEvent(
                    raw_data=gone.model_dump_json(), event="error", id=str(seq + 1)
                )
                return
            current = Video.from_job(job)
            if (current.progress, current.phase, current.status) == (
                last.progress,
                last.phase,
                last.status,
            ):
                continue
            seq += 1
            last = current
            kind = current.status if current.status in ("completed", "failed") else "progress"
            yield ServerSentEvent(raw_data=current.model_dump_json(), event=kind, id=str(seq))
