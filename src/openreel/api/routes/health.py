"""``/healthz``: liveness for load balancers and the test harness (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter

from openreel import __version__

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """Answers while the server is up."""
    return {"status": "ok", "version": __version__}
