"""The browser studio: ``/`` serves its page, ``/studio/{name}`` its scripts and styles.

The studio is static files in ``openreel/studio`` (no build step) that talk only to the public
API, like any other client. This router serves exactly the files that folder ships, with a
Content-Security-Policy that lets the page load nothing from anywhere but this server: no
inline scripts, no third-party fonts or scripts, and no framing by other sites.

``GET /v1/studio/limits`` tells the page the limits the server enforces (prompt length,
reference images, upload size, spritesheet geometry), read from the constants and settings
that enforce them, so the page's checks and hints never drift from the server's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from openreel.api.deps import ServicesDep
from openreel.domain import MAX_PROMPT_CHARS
from openreel.errors import NotFoundError
from openreel.media.images import IMAGE_TYPES, MAX_IMAGE_BYTES
from openreel.media.previews import (
    SPRITESHEET_COLUMNS,
    SPRITESHEET_TILE_WIDTH,
    SPRITESHEET_TILES,
)

__all__ = ["STUDIO_DIR", "SpritesheetGeometry", "StudioLimits", "router"]

router = APIRouter(tags=["studio"], include_in_schema=False)

STUDIO_DIR: Final = Path(__file__).resolve().parent.parent.parent / "studio"
"""Where the page's files live inside the installed package."""

_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

_HEADERS: Final = {
    "content-security-policy": _POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    # The files change with the installed version; revalidate rather than run stale code.
    "cache-control": "no-cache",
}


def _file(name: str) -> FileResponse:
    path = (STUDIO_DIR / name).resolve()
    media_type = _TYPES.get(path.suffix)
    if media_type is None or path.parent != STUDIO_DIR or not path.is_file():
        raise NotFoundError(f"no studio file named {name!r}")
    return FileResponse(path, media_type=media_type, headers=_HEADERS)


@router.get("/")
async def studio_page() -> FileResponse:
    """The studio's single page."""
    return _file("index.html")


@router.get("/transparency")
async def transparency_page(services: ServicesDep) -> FileResponse:
    """The public transparency page (no sign-in; a 404 when the operator turned it off)."""
    if services.transparency is None:
        raise NotFoundError("the transparency report is turned off on this server")
    return _file("transparency.html")


@router.get("/studio/{name}")
async def studio_file(name: str, services: ServicesDep) -> FileResponse:
    """One of the page's own files (scripts, styles, icon); the transparency page's own files
    are 404s with the page when it is turned off."""
    if name.startswith("transparency") and services.transparency is None:
        raise NotFoundError(f"no studio file named {name!r}")
    return _file(name)


class SpritesheetGeometry(BaseModel):
    """How the hover-scrub spritesheets are cut: tiles left to right, then top to bottom."""

    tiles: int = Field(description="Tiles in a sheet (fewer when the video has fewer frames).")
    columns: int = Field(description="Tiles per row.")
    tile_width: int = Field(description="Width of a tile in pixels (height: aspect ratio).")


class StudioLimits(BaseModel):
    """The limits the server enforces that the studio checks and shows before sending."""

    object: Literal["studio.limits"] = "studio.limits"
    prompt_max_chars: int = Field(description="Longest prompt (and negative prompt).")
    image_max_bytes: int = Field(description="Largest reference image, in bytes.")
    image_types: list[str] = Field(description="Media types a reference image may have.")
    upload_max_bytes: int = Field(
        description="Largest request body (an upload to verify, a form with its image)."
    )
    spritesheet: SpritesheetGeometry


@router.get("/v1/studio/limits", response_model=StudioLimits)
async def studio_limits(services: ServicesDep) -> StudioLimits:
    """The server's limits, for the page to read once when it starts (no sign-in needed:
    they are the same for everyone and say nothing about anyone)."""
    return StudioLimits(
        prompt_max_chars=MAX_PROMPT_CHARS,
        image_max_bytes=MAX_IMAGE_BYTES,
        image_types=list(IMAGE_TYPES),
        upload_max_bytes=services.settings.max_body_bytes,
        spritesheet=SpritesheetGeometry(
            tiles=SPRITESHEET_TILES,
            columns=SPRITESHEET_COLUMNS,
            tile_width=SPRITESHEET_TILE_WIDTH,
        ),
    )
