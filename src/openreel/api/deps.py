"""What routes receive: the services bundle and the authenticated principal.

A request proves who it is in one of two ways, and both end in the same token check
(:meth:`AuthService.identify`), so revocation and expiry work identically:

- ``Authorization: Bearer or_...``: programs and SDKs. Nothing else is asked of them.
- the studio's session cookie (``openreel_session``, HttpOnly, SameSite=Strict), set by
  ``POST /v1/session``: it names a session the server holds (trust/sessions.py), which
  names the token; the token is checked on every request exactly as a bearer token is.
  Browsers attach cookies by themselves, so a state-changing request authenticated by the
  cookie must also carry the session's CSRF token in ``X-CSRF-Token``; without it the request
  is refused with 403 ``csrf_failed`` before any route runs. The CSRF token is derived from
  the session's secret with the instance's key, so it needs no storage and dies with the
  session. A bearer header always wins over a cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from openreel.backends.registry import BackendRegistry
from openreel.config import Settings
from openreel.domain import Principal
from openreel.errors import AuthenticationError, PermissionDeniedError
from openreel.services.characters import CharacterService
from openreel.services.source_links import SourceLinks
from openreel.services.uploads import UploadService
from openreel.services.videos import VideoService
from openreel.services.watch import JobWatch
from openreel.services.webhooks import WebhookService
from openreel.trust.abuse import AbuseMonitor
from openreel.trust.artists import ArtistService
from openreel.trust.audit import AuditService
from openreel.trust.auth import AuthService, TokenMatch
from openreel.trust.killswitch import KillSwitch
from openreel.trust.provenance import ContentRegistry
from openreel.trust.quotas import QuotaService
from openreel.trust.ratelimit import LimitKind, RateLimiter
from openreel.trust.sessions import StudioSessions
from openreel.trust.transparency import TransparencyService

__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "AdminDep",
    "ApiServices",
    "CreatorDep",
    "PrincipalDep",
    "ServicesDep",
    "TokenDep",
    "WriterDep",
    "credentials",
    "identify",
]

SESSION_COOKIE = "openreel_session"
"""The studio's session cookie: it names a server-side session, out of reach of page scripts."""

CSRF_HEADER = "x-csrf-token"
"""Header that must echo the session's CSRF token on state-changing cookie requests."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing, so a cookie alone may authenticate them (media, SSE)."""

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApiServices:
    """Everything the routes call, built by the runtime and handed to ``create_app``.

    Attributes:
        settings: The server's settings.
        videos: Admission, reads, cancel and delete of videos.
        watch: Change notifications for live progress streams.
        auth: Tokens and principals.
        sessions: The studio's signed-in browsers.
        uploads: Reference images.
        registry: Models served.
        quotas: Per-principal limits and usage.
        killswitch: Pauses of new work.
        limiter: Per-token request and creation limits.
        audit: The audit log.
        abuse: Automatic suspension of tokens that behave like leaked ones.
        inline_reads: Run short reads on the event loop itself (see :meth:`read`).
        artists: The artists' opt-out registry.
        content: The content registry (what this server made).
        trust_anchors: Certificates that make a C2PA signature Trusted (this instance's CA).
        transparency: The public transparency report, or None when the operator turned it
            off (its routes are then 404s).
        webhooks: Webhook endpoints and their deliveries (None: the routes answer 404).
        characters: Characters made from clips, or None where a runtime has none.
        source_links: Signed links to edits' source videos for providers that fetch them
            (``GET /v1/videos/{id}/source``), or None where a runtime has none.
    """

    settings: Settings
    videos: VideoService
    watch: JobWatch
    auth: AuthService
    sessions: StudioSessions
    uploads: UploadService
    registry: BackendRegistry
    quotas: QuotaService
    killswitch: KillSwitch
    limiter: RateLimiter
    audit: AuditService
    abuse: AbuseMonitor
    artists: ArtistService
    content: ContentRegistry
    trust_anchors: tuple[bytes, ...]
    inline_reads: bool = False
    transparency: TransparencyService | None = None
    webhooks: WebhookService | None = None
    characters: CharacterService | None = None
    source_links: SourceLinks | None = None

    async def read(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs a short read-only service call (one or two indexed SELECTs) for a route.

        With a local SQLite database (``inline_reads``) it runs right here on the event loop:
        a WAL read never waits for a writer, while a hop to the thread pool and back costs
        more than the read and, on a busy server, waits for the GIL several times
        (benchmarks/api.py). Over a network database it goes to the thread pool, as blocking
        there would stall every connection.
        """
        if self.inline_reads:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    async def limit(self, token_id: str, kind: LimitKind) -> None:
        """Counts a request or a creation against the token's rate limits.

        Raises:
            RateLimitError: Over the limit (429 with Retry-After).
        """
        if self.limiter.local:
            self.limiter.hit(token_id, kind)
        else:  # a shared store (Redis) is a network round trip
            await run_in_threadpool(self.limiter.hit, token_id, kind)

    async def write(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs a service call that writes, always in the thread pool: a write may wait its
        turn for the database's write lock, and the event loop must never wait with it."""
        return await run_in_threadpool(fn, *args, **kwargs)


async def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


ServicesDep = Annotated[ApiServices, Depends(_services)]


def credentials(request: Request) -> tuple[str | None, str | None]:
    """The ``Authorization`` header's value, else the session cookie's value (never both).

    A bearer header wins over a cookie.
    """
    header = request.headers.get("authorization")
    if header:
        return header, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return None, cookie
    return None, None


async def identify(services: ApiServices, request: Request) -> TokenMatch:
    """The token and principal behind a request's bearer header or session cookie.

    Raises:
        AuthenticationError: No credentials, or credentials that no longer work.
    """
    authorization, cookie = credentials(request)
    if cookie is None:
        return await services.read(services.auth.identify, authorization)
    found = await services.read(services.sessions.identify, cookie)
    return found.token


def _check_csrf(request: Request, services: ApiServices, cookie: str) -> None:
    """Refuses a state-changing cookie request whose CSRF header is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise PermissionDeniedError(
            "missing CSRF token: a request authenticated by the session cookie must send "
            "the header X-CSRF-Token (from POST /v1/session or GET /v1/session)",
            code="csrf_failed",
        )
    if not hmac.compare_digest(sent.encode(), services.sessions.csrf_token(cookie).encode()):
        raise PermissionDeniedError(
            "the X-CSRF-Token header does not match this session; sign in again",
            code="csrf_failed",
        )


async def _token(request: Request, services: ServicesDep) -> TokenMatch:
    """The caller's token and principal; runs once per request whatever the scopes asked."""
    match = await identify(services, request)
    _, cookie = credentials(request)
    if cookie is not None:
        _check_csrf(request, services, cookie)
    if services.auth.use_due(match.token.id):  # about once a minute per token
        await services.write(services.auth.record_use, match.token.id)
    address = request.client.host if request.client is not None else None
    reason = services.abuse.request(match.token.id, address)
    if reason is not None:
        await suspend(services, match.token.id, reason)
    request.state.principal = match.principal
    request.state.token_id = match.token.id
    await services.limit(match.token.id, "request")
    return match


async def suspend(services: ApiServices, token_id: str, reason: str) -> None:
    """Revokes a token that tripped an abuse signal and refuses the request that did.

    Raises:
        AuthenticationError: Always: the token no longer works.
    """
    await services.write(services.abuse.suspend, token_id, reason)
    raise AuthenticationError(
        f"this token was suspended automatically: {reason}", code="token_suspended"
    )


TokenDep = Annotated[TokenMatch, Depends(_token)]


async def _reader(match: TokenDep) -> Principal:
    return AuthService.require(match, "videos:read")


async def _writer(match: TokenDep) -> Principal:
    return AuthService.require(match, "videos:write")


async def _creator(match: TokenDep, services: ServicesDep) -> Principal:
    principal = AuthService.require(match, "videos:write")
    await services.limit(match.token.id, "create")
    return principal


async def _admin(match: TokenDep) -> Principal:
    return AuthService.require(match, "admin")


PrincipalDep = Annotated[Principal, Depends(_reader)]
"""The caller, whose token may read videos (every GET)."""

WriterDep = Annotated[Principal, Depends(_writer)]
"""The caller, whose token may create, change and delete videos."""

CreatorDep = Annotated[Principal, Depends(_creator)]
"""The caller, whose token may start videos and is within its creation rate limit."""

AdminDep = Annotated[Principal, Depends(_admin)]
"""The caller, an admin whose token carries the ``admin`` scope."""
