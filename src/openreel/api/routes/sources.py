"""``GET /v1/videos/{video_id}/source``: an edit's source video, for the provider given a link.

No token: a provider that fetches a video by URL (Luma's modify) has none. What guards it is
the link itself (``services/source_links.py``): its HMAC names one video id and an expiry,
so it serves that edit's source file and nothing else, and only until it expires (404 for a
link that was not made here, 410 once it has expired or its edit has ended).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from openreel.api.deps import ServicesDep
from openreel.api.downloads import local_response
from openreel.api.protocol import ErrorEnvelope
from openreel.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["videos"])


@router.get(
    "/videos/{video_id}/source",
    responses={
        200: {
            "description": "The source video of the edit the link was made for.",
            "content": {"video/mp4": {}, "video/webm": {}, "video/quicktime": {}},
        },
        404: {"model": ErrorEnvelope, "description": "Not a link this server made."},
        410: {"model": ErrorEnvelope, "description": "The link has expired."},
    },
    summary="An edit's source video, by signed link (for providers)",
)
async def video_source(
    video_id: str,
    request: Request,
    services: ServicesDep,
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """The file the link names, while it is valid; no token is needed."""
    links = services.source_links
    if links is None:
        raise NotFoundError("no such link", param="signature")
    content = await services.read(links.content, video_id, expires, signature)
    assert isinstance(content.source, Path)  # with a bucket, links are presigned instead
    return local_response(request, content, content.source)
