"""``GET /v1/videos/{id}/events``: Server-Sent Events for browsers.

The stream starts with a ``snapshot`` of the video, then sends ``progress`` whenever progress or
phase changes (at most a few times a second), and ends with ``completed`` or ``failed``. It
reads the jobs table, like every other client, so it works whichever process runs the job.

Imports: api.deps, api.protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import Video

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["videos"])

POLL_SECONDS = 0.25


@router.get(
    "/videos/{video_id}/events",
    response_class=EventSourceResponse,
    summary="Follow a video's progress",
)
async def video_events(
    video_id: str, services: ServicesDep, principal: PrincipalDep
) -> AsyncIterator[ServerSentEvent]:
    """Snapshot, then progress, then the final state, as Server-Sent Events."""
    job = services.jobs.get(principal, video_id)
    seq = 0
    last = Video.from_job(job)
    yield ServerSentEvent(data=last.model_dump_json(), event="snapshot", id=str(seq))
    while last.status not in ("completed", "failed"):
        await asyncio.sleep(POLL_SECONDS)
        current = Video.from_job(services.jobs.get(principal, video_id))
        if (current.progress, current.phase, current.status) == (
            last.progress,
            last.phase,
            last.status,
        ):
            continue
        seq += 1
        last = current
        kind = current.status if current.status in ("completed", "failed") else "progress"
        yield ServerSentEvent(data=current.model_dump_json(), event=kind, id=str(seq))
