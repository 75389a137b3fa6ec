"""create_app: the FastAPI application, its error envelope and request ids.

Every error leaves as ``{"error": {"message", "type", "param", "code"}}`` with the status its
class declares. FastAPI's own 422 validation shape never reaches a client (it becomes a 400
that names the parameter), and an unexpected exception becomes a 500 that carries a request id
and is logged with its traceback on the server only. Error responses that Starlette writes by
itself (a file's unsatisfiable or malformed ``Range``) are rewritten into the same envelope.

The body limit holds for every request: a declared ``Content-Length`` over it is refused at
once, and a body without one (chunked) is counted while it is read and refused with a 413 as
soon as it passes the limit, so no one can stream an unbounded body into memory.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from functools import partial
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openreel import __version__
from openreel.api.deps import ApiServices
from openreel.api.forms import body_limit
from openreel.api.routes import (
    admin,
    artists,
    characters,
    events,
    files,
    health,
    models,
    provenance,
    session,
    sources,
    studio,
    transparency,
    usage,
    videos,
    webhooks,
)
from openreel.errors import OpenReelError, RangeNotSatisfiableError, RateLimitError

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
    416: ("invalid_request_error", "range_not_satisfiable"),
}

# Headers of a bare error response worth keeping when it is rewritten into the envelope.
_KEPT_HEADERS = ("allow", "content-range", "retry-after", "www-authenticate")


_ERROR_FIELDS = frozenset({"message", "type", "param", "code"})


def _envelope(
    status: int,
    message: str,
    type_: str,
    code: str | None,
    param: str | None,
    request_id: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, str | None] | None = None,
) -> JSONResponse:
    error = {"message": message, "type": type_, "param": param, "code": code}
    body = {"error": error | dict(extra or {})}
    kept = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in _KEPT_HEADERS}
    return JSONResponse(body, status_code=status, headers=kept | {"x-request-id": request_id})


def _rewritten(status: int, headers: Mapping[str, str], body: bytes, request_id: str) -> Response:
    """The envelope for an error Starlette wrote as plain text (a bad ``Range``, a 405...)."""
    if status == 416:
        size = headers.get("content-range", "").rpartition("/")[2]
        message = f"requested range not satisfiable; the content is {size or 'not that'} bytes"
    else:
        text = body.decode("utf-8", "replace").strip()
        message = text or HTTPStatus(status).phrase
    type_, code = _HTTP_TYPES.get(status, ("invalid_request_error", "http_error"))
    if status >= 500:
        type_, code = "server_error", "internal_error"
    return _envelope(status, message[:500], type_, code, None, request_id, headers)


class _RequestContext:
    """Gives every request an id, enforces the declared body size and keeps errors enveloped.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` runs every request in an extra task with memory streams, which
    cost more than the whole of a status poll (benchmarks/api.py).

    - ``x-request-id`` goes on every response; the id is in ``request.state.request_id``.
    - A ``Content-Length`` over the limit (or not a number) is refused before any read.
    - An error response that is not JSON (written by Starlette itself) is buffered and
      replaced by the ``{"error": ...}`` envelope; successful responses stream untouched.
    - An exception that escapes every handler becomes a 500 envelope quoting the request id;
      the traceback goes to the server log only.
    """

    def __init__(self, app: ASGIApp, limit: Callable[[str], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope.get("path", ""))
        request_id = "req_" + secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = _envelope(
                413,
                f"request body must be at most {limit} bytes; got {length}",
                "invalid_request_error",
                "payload_too_large",
                None,
                request_id,
            )
            await response(scope, receive, send)
            return
        started = False
        held: dict[str, Any] | None = None  # the start of an error response being rewritten
        body = bytearray()

        async def send_enveloped(message: Message) -> None:
            nonlocal started, held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                status = message["status"]
                if status >= 400 and not headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    held = {"status": status, "headers": dict(headers.items())}
                    return
                headers["x-request-id"] = request_id
                started = True
                await send(message)
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    started = True
                    status, headers = held["status"], held["headers"]
                    held = None
                    rewritten = _rewritten(status, headers, bytes(body), request_id)
                    await rewritten(scope, receive, send)
            else:
                await send(message)

        try:
            await self.app(scope, receive, send_enveloped)
        except Exception:
            method, path = scope.get("method", "?"), scope.get("path", "?")
            log.exception("unhandled error in %s %s (%s)", method, path, request_id)
            if started:
                raise  # the response is under way; the server can only drop the connection
            response = _envelope(
                500,
                f"internal error; quote request id {request_id} to the operator",
                "server_error",
                "internal_error",
                None,
                request_id,
            )
            await response(scope, receive, send)


class _BodyLimit:
    """Counts request body bytes as the app reads them and refuses the body past ``limit``.

    A declared ``Content-Length`` over the limit is refused before anything is read (by the
    :class:`_RequestContext`); this catches bodies that declare no length
    (chunked transfer), which would otherwise be read into memory whatever their size.
    """

    def __init__(self, app: ASGIApp, limit: Callable[[str], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        total = 0
        limit = self.limit(scope.get("path", ""))

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    raise StarletteHTTPException(413, f"request body must be at most {limit} bytes")
            return message

        await self.app(scope, limited, send)


def _request_id(request: Request) -> str:
    rid: str = getattr(request.state, "request_id", "") or "req_" + secrets.token_hex(8)
    return rid


def create_app(services: ApiServices) -> FastAPI:
    """Builds the application around already-running services."""
    limit = partial(body_limit, services.settings)
    app = FastAPI(
        title="OpenReel",
        version=__version__,
        description="Self-hosted text-to-video with the OpenAI /v1/videos API.",
    )
    app.state.services = services
    # Added first, so it is the innermost middleware: routes read the body through it, and
    # its 413 reaches the exception handlers below as it is.
    app.add_middleware(_BodyLimit, limit=limit)

    # Added last, so it is the outermost of ours: it sees every response, the 413s included.
    app.add_middleware(_RequestContext, limit=limit)

    @app.exception_handler(OpenReelError)
    async def openreel_error(request: Request, exc: OpenReelError) -> JSONResponse:
        # Fields beyond OpenAI's four (a moderation refusal's ``category``) ride along.
        extra = {k: v for k, v in exc.to_dict().items() if k not in _ERROR_FIELDS}
        response = _envelope(
            exc.http_status,
            exc.message,
            exc.error_type,
            exc.code,
            exc.param,
            _request_id(request),
            extra=extra,
        )
        if isinstance(exc, RateLimitError):
            response.headers["retry-after"] = str(max(1, round(exc.retry_after)))
        if isinstance(exc, RangeNotSatisfiableError):
            response.headers["content-range"] = f"bytes */{exc.size}"
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
        if exc.status_code == 404:
            message = f"no route for {request.method} {request.url.path}"
        elif exc.status_code == 413:
            message = f"request body must be at most {limit} bytes"
        else:
            message = str(exc.detail)
        return _envelope(
            exc.status_code, message, type_, code, None, _request_id(request), exc.headers
        )

    for module in (
        characters,  # before videos: /videos/characters is not a video id
        videos,
        sources,
        events,
        models,
        files,
        usage,
        webhooks,
        admin,
        artists,
        provenance,
        health,
        session,
        transparency,
        studio,
    ):
        app.include_router(module.router)
    return app
