"""A fake ``/v1/videos`` upstream for benchmarks/hosted_poll.py, served by uvicorn.

Every video stays ``in_progress`` for ``HOLD_SECONDS`` (environment, default 60), reporting
progress that creeps up, then completes with one small MP4. It accepts any bearer token.

Run: ``.venv/bin/python -m uvicorn --app-dir benchmarks fake_upstream_app:app --port 9000``.
"""

from __future__ import annotations

import io
import itertools
import os
import time
from fractions import Fraction

import av
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HOLD = float(os.environ.get("HOLD_SECONDS", "60"))
POLL_AFTER_MS = os.environ.get("POLL_AFTER_MS", "2000")
_jobs: dict[str, tuple[float, dict[str, object]]] = {}
_ids = itertools.count(1)


def _clip() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.time_base = Fraction(1, 12)
        for index in range(12):
            frame = av.VideoFrame.from_ndarray(
                np.full((180, 320, 3), index * 20, np.uint8), format="rgb24"
            )
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


CLIP = _clip()


def _video(video_id: str) -> dict[str, object]:
    started, body = _jobs[video_id]
    age = time.monotonic() - started
    done = age >= HOLD
    return {
        "id": video_id,
        "object": "video",
        "status": "completed" if done else "in_progress",
        "progress": 100 if done else int(99 * age / HOLD),
        **body,
    }


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    video_id = f"video_{next(_ids)}"
    _jobs[video_id] = (time.monotonic(), dict(body))
    return JSONResponse(_video(video_id))


async def retrieve(request: Request) -> JSONResponse:
    video_id = request.path_params["video_id"]
    if video_id not in _jobs:
        return JSONResponse({"error": {"message": "no such video", "code": "not_found"}}, 404)
    return JSONResponse(_video(video_id), headers={"openai-poll-after-ms": POLL_AFTER_MS})


async def listing(request: Request) -> JSONResponse:
    """``GET /v1/videos``: newest first, ``limit`` and ``after`` as in the real API."""
    limit = int(request.query_params.get("limit", "20"))
    ids = sorted(_jobs, key=lambda k: int(k.split("_")[1]), reverse=True)
    after = request.query_params.get("after")
    if after in _jobs:
        ids = ids[ids.index(after) + 1 :]
    page = [_video(video_id) for video_id in ids[:limit]]
    return JSONResponse({"object": "list", "data": page, "has_more": len(ids) > limit})


async def content(request: Request) -> Response:
    return Response(CLIP, media_type="video/mp4")


async def cancel(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["video_id"], "status": "failed"})


app = Starlette(
    routes=[
        Route("/v1/videos", create, methods=["POST"]),
        Route("/v1/videos", listing, methods=["GET"]),
        Route("/v1/videos/{video_id}", retrieve, methods=["GET"]),
        Route("/v1/videos/{video_id}/content", content, methods=["GET"]),
        Route("/v1/videos/{video_id}/cancel", cancel, methods=["POST"]),
    ]
)
