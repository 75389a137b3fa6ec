"""``GET /v1/videos/{id}/events``: Server-Sent Events for browsers.

The stream starts with a ``snapshot`` of the video, then sends ``progress`` whenever progress or
phase changes (at most a few times a second), and ends with ``completed`` or ``failed``. Each
event's ``data`` is the video object as JSON, exactly as ``GET /v1/videos/{id}`` returns it. If
the video is deleted while the stream is open, the stream ends with an ``error`` event whose
data is the usual error envelope. It reads the jobs table, like every other client, so it works
whichever process runs the job: a change made in this process (the embedded workers) wakes the
stream at once through the job watch, and any other change is seen within ``POLL_SECONDS``.

The video is looked up before the stream starts, so an unknown id (or someone else's video)
is an ordinary 404 error response, not a broken stream. A stream with nothing to say for
``PING_SECONDS`` sends an SSE comment, so proxies do not close it as idle.

The events are written by one generator into a plain ``StreamingResponse``, formatted with
FastAPI's own ``format_sse_event``. FastAPI's ``EventSourceResponse`` runs each stream as three
tasks joined by memory streams (the generator, a keep-alive timer, the response), for pings that
this generator, which wakes every ``POLL_SECONDS`` anyway, can send itself. One generator costs
the server less time per stream (benchmarks/request_cost.py), and the end of a stream does not
run on the event loop after the client has seen it, while the client asks for the file.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import ErrorEnvelope, Video
from openreel.domain import Job
from openreel.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["videos"])

POLL_SECONDS = 0.25
"""Longest wait between looks at the job; changes made in this process wake the stream at once."""

PING_SECONDS = 15.0
"""A stream that has sent nothing for this long sends a comment, so proxies keep it open."""


async def _visible_job(video_id: str, services: ServicesDep, principal: PrincipalDep) -> Job:
    """The video, or a 404 before any byte of the stream is sent."""
    return await services.read(services.videos.get, principal, video_id)


@router.get(
    "/videos/{video_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream"}},
    summary="Follow a video's progress",
)
async def video_events(
    video_id: str,
    services: ServicesDep,
    principal: PrincipalDep,
    job: Annotated[Job, Depends(_visible_job)],
) -> StreamingResponse:
    """Snapshot, then progress, then the final state, as Server-Sent Events."""
    return StreamingResponse(
        _stream(video_id, services, principal, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event(kind: str, data: str, seq: int) -> bytes:
    return format_sse_event(data_str=data, event=kind, id=str(seq))


async def _stream(
    video_id: str, services: ServicesDep, principal: PrincipalDep, job: Job
) -> AsyncIterator[bytes]:
    seq = 0
    last = Video.from_job(job)
    yield _event("snapshot", last.model_dump_json(), seq)
    sent = time.monotonic()
    with services.watch.subscribe(video_id) as changes:
        waited = False  # the first look is at once: a change may predate the subscription
        while last.status not in ("completed", "failed"):
            quiet = waited and not await changes.wait(POLL_SECONDS)  # woken by the timer
            if quiet and time.monotonic() - sent >= PING_SECONDS:
                yield KEEPALIVE_COMMENT
                sent = time.monotonic()
            waited = True
            try:
                job = await services.read(services.videos.get, principal, video_id)
            except NotFoundError as exc:
                gone = ErrorEnvelope.model_validate({"error": exc.to_dict()})
                yield _event("error", gone.model_dump_json(), seq + 1)
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
            yield _event(kind, current.model_dump_json(), seq)
            sent = time.monotonic()
