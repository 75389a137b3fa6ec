"""``/v1/session``: the studio trades an access token for a session the server holds, and back.

A page should not keep a bearer token where its own scripts (or an injected one) can read it,
so the studio posts the token once to ``POST /v1/session`` and forgets it. The answer sets
``openreel_session``, an HttpOnly, SameSite=Strict cookie (Secure whenever the request came
over https, directly or through a trusted proxy) that names a session the server holds
(trust/sessions.py), not the token: a copied cookie is no API token, and it stops working on
sign-out, at expiry, and when its token is revoked. The answer also returns a CSRF token the
page keeps in memory and sends as ``X-CSRF-Token`` on every state-changing request
(api/deps.py checks it). ``GET /v1/session`` tells a freshly loaded page whether it is signed
in, and gives the CSRF token again; ``DELETE /v1/session`` signs out. Bearer clients never
need this route.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from openreel.api.deps import SESSION_COOKIE, ServicesDep, credentials
from openreel.errors import AuthenticationError, InvalidRequestError
from openreel.trust.auth import TokenMatch
from openreel.trust.sessions import Client

__all__ = ["SessionObject", "router"]

router = APIRouter(prefix="/v1", tags=["session"])


class SignIn(BaseModel):
    """Body of ``POST /v1/session``."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="An access token (or_...).")


class SessionObject(BaseModel):
    """Who the page is signed in as (``signed_in`` false: nobody, the other fields are null)."""

    object: Literal["session"] = "session"
    signed_in: bool
    via: Literal["cookie", "bearer"] | None = None
    principal: str | None = None
    principal_id: str | None = None
    admin: bool = False
    scopes: list[str] = Field(default_factory=list)
    token_prefix: str | None = None
    token_expires_at: int | None = None
    csrf_token: str | None = Field(
        None, description="Send as X-CSRF-Token on every POST, PATCH or DELETE (cookie only)."
    )
    reason: str | None = Field(None, description="Why a cookie that was sent did not work.")


class SessionDeleted(BaseModel):
    """Answer to ``DELETE /v1/session``."""

    object: Literal["session.deleted"] = "session.deleted"
    deleted: bool = True


def _signed_in(
    match: TokenMatch, via: Literal["cookie", "bearer"], csrf: str | None
) -> SessionObject:
    expires = match.token.expires_at
    return SessionObject(
        signed_in=True,
        via=via,
        principal=match.principal.name,
        principal_id=match.principal.id,
        admin=match.principal.is_admin and "admin" in match.token.scopes,
        scopes=list(match.token.scopes),
        token_prefix=match.token.prefix,
        token_expires_at=None if expires is None else int(expires),
        csrf_token=csrf,
    )


def _client(request: Request) -> Client:
    return Client(
        address=None if request.client is None else request.client.host,
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


def _clear(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


@router.post("/session", response_model=SessionObject, summary="Sign in (studio)")
async def sign_in(
    body: SignIn, request: Request, response: Response, services: ServicesDep
) -> SessionObject:
    """Checks an access token, opens a session and sets its HttpOnly cookie; returns the CSRF
    token. Attempts are limited per client address (429 with Retry-After)."""
    token = body.token.strip()
    if not token:
        raise InvalidRequestError("token is required", param="token")
    opened = await services.write(services.sessions.sign_in, token, _client(request))
    max_age = max(1, int(opened.record.expires_at - opened.record.created_at))
    response.set_cookie(
        SESSION_COOKIE,
        opened.secret,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers["cache-control"] = "no-store"
    return _signed_in(opened.match, "cookie", services.sessions.csrf_token(opened.secret))


@router.get("/session", response_model=SessionObject, summary="Who is signed in")
async def current_session(
    request: Request, response: Response, services: ServicesDep
) -> SessionObject:
    """The session behind this request's cookie (or bearer token), with its CSRF token.

    A page with no cookie, or one whose session ended (signed out, expired, token revoked),
    gets ``signed_in: false`` (and the dead cookie is cleared) rather than an error, so loading
    the sign-in page logs nothing. A bad bearer token is still a 401, as everywhere else.
    """
    response.headers["cache-control"] = "no-store"
    authorization, cookie = credentials(request)
    if authorization is not None:
        match = await services.read(services.auth.identify, authorization)
        return _signed_in(match, "bearer", None)
    if cookie is None:
        return SessionObject(signed_in=False)
    try:
        found = await services.read(services.sessions.identify, cookie)
    except AuthenticationError as exc:
        _clear(response, request)
        return SessionObject(signed_in=False, reason=exc.message)
    return _signed_in(found.token, "cookie", services.sessions.csrf_token(cookie))


@router.delete("/session", response_model=SessionDeleted, summary="Sign out (studio)")
async def sign_out(request: Request, response: Response, services: ServicesDep) -> SessionDeleted:
    """Ends the session on the server (a copy of the cookie stops working too) and clears the
    cookie. Needs no credentials: ending a session is always safe."""
    _, cookie = credentials(request)
    if cookie is not None:
        await services.write(services.sessions.sign_out, cookie, _client(request))
    _clear(response, request)
    return SessionDeleted()
