"""``/v1/webhooks``: endpoints that hear when their owner's videos end, and their deliveries.

The secret (``whsec_...``) is in the answers of create and rotate only; every other answer
shows the endpoint without it. Owners see their own endpoints, admins everyone's, and
another principal's endpoint does not exist for anyone else (404), as with videos.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from openreel.api.deps import ApiServices, PrincipalDep, ServicesDep, WriterDep
from openreel.errors import NotFoundError
from openreel.services.webhooks import CreatedEndpoint, WebhookService
from openreel.storage.webhooks import Delivery, Endpoint

__all__ = ["router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EventType = Literal["video.completed", "video.failed"]


class CreateWebhook(BaseModel):
    """Body of ``POST /v1/webhooks``."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[EventType] | None = Field(None, min_length=1, max_length=2)


class WebhookObject(BaseModel):
    """An endpoint as the API shows it (never its secret)."""

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str]
    created_at: int
    owner_id: str
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None = None
    failing_since: int | None = None
    secret_rotated_until: int | None = Field(
        None, description="Until when the previous secret also signs, after a rotation."
    )


class WebhookWithSecret(WebhookObject):
    """An endpoint with its new secret: the answer of create and rotate, and only those."""

    secret: str


class WebhookList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookObject]


class WebhookDeleted(BaseModel):
    id: str
    object: Literal["webhook_endpoint.deleted"] = "webhook_endpoint.deleted"
    deleted: bool = True


class AttemptObject(BaseModel):
    started_at: float
    latency_ms: float
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryObject(BaseModel):
    """One event for one endpoint; ``id`` is the ``webhook-id`` header of every attempt."""

    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    event_id: str
    type: str
    video_id: str
    created_at: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: float | None
    history: list[AttemptObject]


class DeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryObject]


def _service(services: ApiServices) -> WebhookService:
    if services.webhooks is None:
        raise NotFoundError("webhooks are not available on this server")
    return services.webhooks


def _wire(endpoint: Endpoint) -> WebhookObject:
    return WebhookObject(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        created_at=int(endpoint.created_at),
        owner_id=endpoint.owner_id,
        status="enabled" if endpoint.disabled_at is None else "disabled",
        disabled_reason=endpoint.disabled_reason,
        failing_since=None if endpoint.failing_since is None else int(endpoint.failing_since),
        secret_rotated_until=None
        if endpoint.previous_until is None
        else int(endpoint.previous_until),
    )


def _with_secret(created: CreatedEndpoint) -> WebhookWithSecret:
    return WebhookWithSecret(**_wire(created.endpoint).model_dump(), secret=created.secret)


def _delivery(delivery: Delivery) -> DeliveryObject:
    return DeliveryObject(
        id=delivery.id,
        event_id=delivery.event_id,
        type=delivery.event_type,
        video_id=delivery.video_id,
        created_at=int(delivery.created_at),
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        history=[
            AttemptObject(
                started_at=a.started_at,
                latency_ms=a.latency_ms,
                status_code=a.status_code,
                error=a.error,
                response_excerpt=a.excerpt,
            )
            for a in delivery.history
        ],
    )


@router.post("", response_model=WebhookWithSecret, summary="Add an endpoint")
async def create_webhook(
    body: CreateWebhook, services: ServicesDep, principal: WriterDep
) -> WebhookWithSecret:
    """Adds an endpoint; the answer carries its secret, which is never shown again."""
    service = _service(services)
    created = await services.write(service.create, principal, body.url, body.events)
    return _with_secret(created)


@router.get("", response_model=WebhookList, summary="Your endpoints")
async def list_webhooks(services: ServicesDep, principal: PrincipalDep) -> WebhookList:
    """Your endpoints (an admin's list has everyone's)."""
    service = _service(services)
    endpoints = await services.write(service.endpoints, principal)
    return WebhookList(data=[_wire(e) for e in endpoints])


@router.get("/{webhook_id}", response_model=WebhookObject, summary="One endpoint")
async def get_webhook(
    webhook_id: str, services: ServicesDep, principal: PrincipalDep
) -> WebhookObject:
    """One endpoint, with why it was disabled if it was."""
    service = _service(services)
    return _wire(await services.read(service.get, principal, webhook_id))


@router.delete("/{webhook_id}", response_model=WebhookDeleted, summary="Remove an endpoint")
async def delete_webhook(
    webhook_id: str, services: ServicesDep, principal: WriterDep
) -> WebhookDeleted:
    """Removes the endpoint and its deliveries; nothing more is sent to it."""
    service = _service(services)
    await services.write(service.delete, principal, webhook_id)
    return WebhookDeleted(id=webhook_id)


@router.post("/{webhook_id}/rotate", response_model=WebhookWithSecret, summary="New secret")
async def rotate_webhook(
    webhook_id: str, services: ServicesDep, principal: WriterDep
) -> WebhookWithSecret:
    """A new secret, shown once; the old one also signs until ``secret_rotated_until``."""
    service = _service(services)
    return _with_secret(await services.write(service.rotate, principal, webhook_id))


@router.post("/{webhook_id}/enable", response_model=WebhookObject, summary="Enable again")
async def enable_webhook(
    webhook_id: str, services: ServicesDep, principal: WriterDep
) -> WebhookObject:
    """Turns an endpoint that was disabled for failing back on."""
    service = _service(services)
    return _wire(await services.write(service.enable, principal, webhook_id))


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList, summary="Deliveries")
async def list_deliveries(
    webhook_id: str,
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryList:
    """The newest deliveries first, each with its attempts, status codes, latency and next try."""
    service = _service(services)
    deliveries = await services.write(service.deliveries, principal, webhook_id, limit)
    return DeliveryList(data=[_delivery(d) for d in deliveries])


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryObject,
    summary="Send again",
)
async def redeliver(
    webhook_id: str, delivery_id: str, services: ServicesDep, principal: WriterDep
) -> DeliveryObject:
    """Sends the delivery again now, with the same ``webhook-id``."""
    service = _service(services)
    return _delivery(await services.write(service.redeliver, principal, webhook_id, delivery_id))
