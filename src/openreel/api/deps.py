"""What routes receive: the services bundle and the authenticated principal.

Imports: services, config, domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from openreel.backends.registry import BackendRegistry
from openreel.config import Settings
from openreel.domain import Principal
from openreel.errors import AuthenticationError
from openreel.services.abuse import AbuseMonitor
from openreel.services.artists import ArtistService
from openreel.services.audit import AuditService
from openreel.services.auth import AuthService, TokenMatch
from openreel.services.jobs import JobService
from openreel.services.killswitch import KillSwitch
from openreel.services.moderation import ModerationPipeline
from openreel.services.provenance import ContentRegistry
from openreel.services.quotas import QuotaService
from openreel.services.ratelimit import LimitKind, RateLimiter
from openreel.services.uploads import UploadService

__all__ = [
    "AdminDep",
    "ApiServices",
    "CreatorDep",
    "PrincipalDep",
    "ServicesDep",
    "TokenDep",
    "WriterDep",
]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApiServices:
    """Everything the routes call, built by the runtime and handed to ``create_app``.

    Attributes:
        settings: The server's settings.
        jobs: Videos.
        auth: Tokens and principals.
        uploads: Reference images.
        registry: Models served.
        quotas: Per-principal limits and usage.
        killswitch: Pauses of new work.
        limiter: Per-token request and creation limits.
        audit: The audit log.
        abuse: Automatic suspension of tokens that behave like leaked ones.
        inline_reads: Run short reads on the event loop itself (see :meth:`read`).
        artists: The artists' opt-out registry.
        moderation: The prompt moderation pipeline (None: moderation is off).
        content: The content registry (what this server made).
        trust_anchors: Certificates that make a C2PA signature Trusted (this instance's CA).
    """

    settings: Settings
    jobs: JobService
    auth: AuthService
    uploads: UploadService
    registry: BackendRegistry
    quotas: QuotaService
    killswitch: KillSwitch
    limiter: RateLimiter
    audit: AuditService
    abuse: AbuseMonitor
    artists: ArtistService
    moderation: ModerationPipeline | None
    content: ContentRegistry
    trust_anchors: tuple[bytes, ...]
    inline_reads: bool = False

    async def read(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs a short read-only service call (one or two indexed SELECTs) for a route.

        With a local SQLite database (``inline_reads``) it runs right here on the event loop:
        a WAL read never waits for a writer and takes well under a millisecond, while a hop
        to the thread pool and back costs more than the read and, on a busy server, waits for
        the GIL several times (benchmarks/api.py: a status poll ran at 0.28x of a bare
        endpoint through the pool, 0.57x inline). Over a network database it goes to the
        thread pool, as blocking there would stall every connection.
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


async def _token(request: Request, services: ServicesDep) -> TokenMatch:
    """The caller's token and principal; runs once per request whatever the scopes asked."""
    match = await services.read(services.auth.identify, request.headers.get("authorization"))
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
