"""``/v1/session``: the studio trades an access token for a cookie session, and back.

A page should not keep a bearer token where its own scripts (or an injected one) can read it,
so the studio posts the token once to ``POST /v1/session`` and forgets it. The answer sets
``openreel_session``, an HttpOnly, SameSite=Strict cookie (Secure over HTTPS) that holds the
token, and returns a CSRF token the page keeps in memory and sends as ``X-CSRF-Token`` on every
state-changing request (api/deps.py checks it). ``GET /v1/session`` tells a freshly loaded page
whether it is signed in, and gives the CSRF token again; ``DELETE /v1/session`` signs out.

The cookie is not a second kind of credential: every request made with it checks the token
through :meth:`AuthService.identify`, so a revoked or expired token ends the session on the
next request. Bearer clients never need this route.
"""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from openreel.api.deps import SESSION_COOKIE, ServicesDep, credentials, csrf_token
from openreel.errors import AuthenticationError, InvalidRequestError
from openreel.trust.auth import TokenMatch

__all__ = ["SESSION_SECONDS", "SessionObject", "router"]

router = APIRouter(prefix="/v1", tags=["session"])

SESSION_SECONDS = 12 * 3600
"""Longest life of a session cookie; it also ends when its token expires or is revoked."""


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
    """Checks an access token and sets the HttpOnly session cookie; returns the CSRF token."""
    token = body.token.strip()
    if not token:
        raise InvalidRequestError("token is required", param="token")
    match = await services.read(services.auth.identify, f"Bearer {token}")
    max_age = SESSION_SECONDS
    if match.token.expires_at is not None:
        max_age = max(1, min(max_age, int(match.token.expires_at - time.time())))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers["cache-control"] = "no-store"
    return _signed_in(match, "cookie", csrf_token(services, token))


@router.get("/session", response_model=SessionObject, summary="Who is signed in")
async def current_session(
    request: Request, response: Response, services: ServicesDep
) -> SessionObject:
    """The session behind this request's cookie (or bearer token), with its CSRF token.

    A page with no cookie, or one whose token was revoked or expired, gets ``signed_in:
    false`` (and the dead cookie is cleared) rather than an error, so loading the sign-in page
    logs nothing. A bad bearer token is still a 401, as everywhere else.
    """
    response.headers["cache-control"] = "no-store"
    authorization, cookie_token = credentials(request)
    if authorization is None:
        return SessionObject(signed_in=False)
    if cookie_token is None:
        match = await services.read(services.auth.identify, authorization)
        return _signed_in(match, "bearer", None)
    try:
        match = await services.read(services.auth.identify, authorization)
    except AuthenticationError as exc:
        _clear(response, request)
        return SessionObject(signed_in=False, reason=exc.message)
    return _signed_in(match, "cookie", csrf_token(services, cookie_token))


@router.delete("/session", response_model=SessionDeleted, summary="Sign out (studio)")
async def sign_out(request: Request, response: Response) -> SessionDeleted:
    """Clears the session cookie. Needs no credentials: forgetting a cookie is always safe."""
    _clear(response, request)
    return SessionDeleted()
