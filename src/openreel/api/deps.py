"""What routes receive: the services bundle and the authenticated principal.

Imports: services, config, domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from openreel.backends.registry import BackendRegistry
from openreel.config import Settings
from openreel.domain import Principal
from openreel.services.auth import AuthService
from openreel.services.jobs import JobService
from openreel.services.uploads import UploadService

__all__ = ["ApiServices", "PrincipalDep", "ServicesDep"]


@dataclass(frozen=True, slots=True)
class ApiServices:
    """Everything the routes call, built by the runtime and handed to ``create_app``.

    Attributes:
        settings: The server's settings.
        jobs: Videos.
        auth: Tokens and principals.
        uploads: Reference images.
        registry: Models served.
    """

    settings: Settings
    jobs: JobService
    auth: AuthService
    uploads: UploadService
    registry: BackendRegistry


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


ServicesDep = Annotated[ApiServices, Depends(_services)]


def _principal(request: Request, services: ServicesDep) -> Principal:
    principal = services.auth.authenticate(request.headers.get("authorization"))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]
