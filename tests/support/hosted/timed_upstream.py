"""A ``/v1/videos`` upstream whose videos finish a set time after their create, on loopback.

It answers as another OpenReel would, from OpenReel's own wire format and rules: each video
runs for ``render_s`` seconds from its create, its progress rising with time; unfinished
answers carry ``openai-poll-after-ms`` from OpenReel's own rule
(:func:`openreel.services.pace.poll_after_ms`, with no renders to learn from); ``GET /v1/videos``
lists the newest first. With ``events`` its videos carry OpenReel's ``phase`` and
``GET /v1/videos/{id}/events`` streams them as OpenReel's events route does (a snapshot, then
progress, then the final event, formatted by ``fastapi.sse.format_sse_event``). Without it the
route does not exist (404). ``GET /v1/videos/{id}/content?variant=`` serves the video, and the
thumbnail and spritesheet it is given as OpenReel does (404 without). It records when each
create arrived, on ``time.monotonic``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi.sse import format_sse_event
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from openreel.domain import Job, JobStatus, VideoRequest
from openreel.services.pace import poll_after_ms

from .harness import make_mp4

STEP_S = 0.05
"""How often a stream looks at its video (OpenReel's looks every 0.25 s, and is woken at once
by a change made in its own process; a timer this short stands in for that wake-up)."""


@dataclass
class TimedUpstream:
    """See the module docstring."""

    render_s: float = 0.3
    events: bool = False
    phase: bool = False  # OpenReel's phase even without events: an older OpenReel, say
    created: dict[str, float] = field(default_factory=dict)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    video: bytes = field(default_factory=lambda: make_mp4(1.0))
    previews: dict[str, bytes] = field(default_factory=dict)  # variant -> file; else 404

    def finished_at(self, video_id: str) -> float:
        """When the video finished (or will), on ``time.monotonic``."""
        return self.created[video_id] + self.render_s

    def _job(self, video_id: str) -> Job:
        started = self.created[video_id]
        age = time.monotonic() - started
        done = age >= self.render_s
        body = self.bodies[video_id]
        return Job(
            id=video_id,
            owner_id="usr_upstream",
            request=VideoRequest(prompt=str(body.get("prompt", "")), seed=1),
            status=JobStatus.COMPLETED if done else JobStatus.IN_PROGRESS,
            progress=100 if done else min(95, int(95 * age / self.render_s)),
            phase="done" if done else "rendering",
            created_at=time.time() - age,
            started_at=time.time() - age,
        )

    def _video(self, job: Job) -> dict[str, Any]:
        body = self.bodies[job.id]
        video: dict[str, Any] = {
            "id": job.id,
            "object": "video",
            "status": job.status.value,
            "progress": job.progress,
            "created_at": int(job.created_at),
            "model": body.get("model"),
            "prompt": body.get("prompt"),
            "seconds": body.get("seconds"),
            "size": body.get("size"),
            "error": None,
        }
        if self.events or self.phase:
            video["phase"] = job.phase
        return video

    def _answer(self, job: Job) -> JSONResponse:
        headers = {}
        if not job.status.is_final:
            hint = poll_after_ms(job, time.time(), longest_ms=1000)
            headers["openai-poll-after-ms"] = str(hint)
        return JSONResponse(self._video(job), headers=headers)

    async def _create(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        video_id = f"video_{len(self.created) + 1}"
        if request.headers.get("content-type", "").startswith("application/json"):
            self.bodies[video_id] = await request.json()
        else:  # multipart, as OpenAI's SDK (and our upstream client) sends a create
            form = await request.form()
            self.bodies[video_id] = {k: v for k, v in form.items() if isinstance(v, str)}
        self.created[video_id] = arrived
        return self._answer(self._job(video_id))

    async def _retrieve(self, request: Request) -> JSONResponse:
        video_id = request.path_params["video_id"]
        if video_id not in self.created:
            return JSONResponse({"error": {"message": "no such video", "code": "not_found"}}, 404)
        return self._answer(self._job(video_id))

    async def _list(self, request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", "20"))
        ids = list(reversed(self.created))[:limit]
        page = [self._video(self._job(i)) for i in ids]
        return JSONResponse({"object": "list", "data": page, "has_more": False})

    async def _events(self, request: Request) -> Response:
        video_id = request.path_params["video_id"]
        if not self.events or video_id not in self.created:
            return JSONResponse({"error": {"message": "not found", "code": "not_found"}}, 404)
        return StreamingResponse(self._stream(video_id), media_type="text/event-stream")

    async def _stream(self, video_id: str) -> AsyncIterator[bytes]:
        job = self._job(video_id)
        seq = 0
        yield format_sse_event(data_str=_json(self._video(job)), event="snapshot", id="0")
        while not job.status.is_final:
            await asyncio.sleep(
                min(STEP_S, max(0.0, self.finished_at(video_id) - time.monotonic()))
            )
            current = self._job(video_id)
            if (current.progress, current.status) == (job.progress, job.status):
                continue
            job, seq = current, seq + 1
            kind = "completed" if job.status.is_final else "progress"
            yield format_sse_event(data_str=_json(self._video(job)), event=kind, id=str(seq))

    async def _content(self, request: Request) -> Response:
        variant = request.query_params.get("variant", "video")
        if variant == "video":
            return Response(self.video, media_type="video/mp4")
        if variant in self.previews:  # OpenReel's thumbnail (WebP) and spritesheet (JPEG)
            kind = "image/webp" if variant == "thumbnail" else "image/jpeg"
            return Response(self.previews[variant], media_type=kind)
        return JSONResponse({"error": {"message": "no such variant", "code": "not_found"}}, 404)

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/v1/videos", self._create, methods=["POST"]),
                Route("/v1/videos", self._list, methods=["GET"]),
                Route("/v1/videos/{video_id}", self._retrieve, methods=["GET"]),
                Route("/v1/videos/{video_id}/events", self._events, methods=["GET"]),
                Route("/v1/videos/{video_id}/content", self._content, methods=["GET"]),
            ]
        )

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        """Serves the app on a loopback port in a thread; yields its API root (``.../v1``)."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(self.app(), log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the timed upstream did not start")
            time.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()


def _json(video: dict[str, Any]) -> str:
    return json.dumps(video)
