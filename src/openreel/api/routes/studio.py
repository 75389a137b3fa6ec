"""The browser studio: ``/`` serves its page, ``/studio/{name}`` its scripts and styles.

The studio is static files in ``openreel/studio`` (no build step) that talk only to the public
API, like any other client. This router serves exactly the files that folder ships, with a
Content-Security-Policy that lets the page load nothing from anywhere but this server: no
inline scripts, no third-party fonts or scripts, and no framing by other sites.

Imports: errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse

from openreel.errors import NotFoundError

__all__ = ["STUDIO_DIR", "router"]

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


@router.get("/studio/{name}")
async def studio_file(name: str) -> FileResponse:
    """One of the page's own files (scripts, styles, icon)."""
    return _file(name)
