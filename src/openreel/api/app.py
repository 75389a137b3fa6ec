"""create_app: the FastAPI application, its error envelope and request ids.

Every error leaves as ``{"error": {"message", "type", "param", "code"}}`` with the status its
class declares. FastAPI's own 422 validation shape never reaches a client (it becomes a 400
that names the parameter), and an unexpected exception becomes a 500 that carries a request id
and is logged with its traceback on the server only.

Imports: api.*, services, errors.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openreel import __version__
from openreel.api.deps import ApiServices
from openreel.api.routes import events, files, health, models, videos
from openreel.errors import OpenReelError, RateLimitError

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "payload_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
}


def _envelope(
    status: int, message: str, type_: str, code: str | None, param: str | None, request_id: str
) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers={"x-request-id": request_id})


def _request_id(request: Request) -> str:
    rid: str = getattr(request.state, "request_id", "") or "req_" + secrets.token_hex(8)
    return rid


def create_app(services: ApiServices) -> FastAPI:
    """Builds the application around already-running services."""
    app = FastAPI(
        title="OpenReel",
        version=__version__,
        description="Self-hosted text-to-video with the OpenAI /v1/videos API.",
    )
    app.state.services = services
    limit = services.settings.max_body_bytes

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = "req_" + secrets.token_hex(8)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _envelope(
                413,
                f"request body must be at most {limit} bytes; got {length}",
                "invalid_request_error",
                "payload_too_large",
                None,
                request.state.request_id,
            )
        try:
            response = await call_next(request)
        except Exception:
            log.exception(
                "unhandled error in %s %s (%s)",
                request.method,
                request.url.path,
                request.state.request_id,
            )
            return _envelope(
                500,
                f"internal error; quote request id {request.state.request_id} to the operator",
                "server_error",
                "internal_error",
                None,
                request.state.request_id,
            )
        response.headers["x-request-id"] = request.state.request_id
        return response

    @app.exception_handler(OpenReelError)
    async def openreel_error(request: Request, exc: OpenReelError) -> JSONResponse:
        response = _envelope(
            exc.http_status, exc.message, exc.error_type, exc.code, exc.param, _request_id(request)
        )
        if isinstance(exc, RateLimitError):
            response.headers["retry-after"] = str(max(1, round(exc.retry_after)))
        if exc.http_status == 401:
            response.headers["www-authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [
            str(part)
            for part in first.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        param = ".".join(loc) or None
        received = first.get("input")
        message = f"{param or 'request'}: {first.get('msg', 'invalid value')}; got {received!r}"[
            :500
        ]
        return _envelope(
            400, message, "invalid_request_error", "invalid_value", param, _request_id(request)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_, code = _HTTP_TYPES.get(exc.status_code, ("invalid_request_error", "http_error"))
        message = (
            str(exc.detail)
            if exc.status_code != 404
            else f"no route for {request.method} {request.url.path}"
        )
        return _envelope(exc.status_code, message, type_, code, None, _request_id(request))

    for module in (videos, events, models, files, health):
        app.include_router(module.router)
    return app
