"""What the API and the CLI do with webhook endpoints: add, list, show, remove, rotate,
re-enable, and read or resend their deliveries.

The owner of an endpoint, or an admin, may act on it; anyone else is told it does not exist,
as with videos. A new secret is returned once (:class:`CreatedEndpoint`) and only its sealed
form is stored; audit rows name the endpoint and its host, never the secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openreel.domain import Principal
from openreel.errors import InvalidRequestError, NotFoundError
from openreel.services.webhooks.signing import new_secret
from openreel.services.webhooks.targets import TargetPolicy
from openreel.storage.audit import AuditEntry
from openreel.storage.webhooks import EVENT_TYPES, Delivery, Endpoint, WebhookStore
from openreel.trust.sealing import SecretBox

__all__ = ["DEFAULT_EVENTS", "CreatedEndpoint", "WebhookService"]

DEFAULT_EVENTS = ("video.completed", "video.failed")


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """An endpoint with its plain secret: only ever returned by create and rotate."""

    endpoint: Endpoint
    secret: str


class WebhookService:
    """Endpoints and deliveries on behalf of a principal.

    Args:
        store: Where endpoints and deliveries live.
        box: Seals the secrets.
        policy: Which URLs are accepted (checked with DNS at creation, and again at every
            attempt by the dispatcher).
        limit: Most endpoints one principal may have.
        grace_seconds: How long a rotated-out secret keeps signing.
        nudge: Wakes this process's dispatcher (after a manual redelivery).
        clock: Unix seconds.
    """

    def __init__(
        self,
        store: WebhookStore,
        box: SecretBox,
        policy: TargetPolicy,
        *,
        limit: int,
        grace_seconds: float,
        nudge: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._box = box
        self._policy = policy
        self._limit = limit
        self._grace = grace_seconds
        self._nudge = nudge
        self._clock = clock

    def create(
        self, principal: Principal, url: str, events: Sequence[str] | None = None
    ) -> CreatedEndpoint:
        """Adds an endpoint for ``principal``.

        Raises:
            InvalidRequestError: A refused URL (``param: url``), an unknown event type
                (``param: events``), or the principal has the most endpoints allowed
                (code ``webhook_limit_reached``).
        """
        chosen = list(DEFAULT_EVENTS if events is None else events)
        if not chosen:
            raise InvalidRequestError.for_value(
                "events", chosen, f"must name at least one of {', '.join(EVENT_TYPES)}"
            )
        for event in chosen:
            if event not in EVENT_TYPES:
                raise InvalidRequestError.for_value(
                    "events", event, f"must each be one of {', '.join(EVENT_TYPES)}"
                )
        target = self._policy.resolve(url)
        secret = new_secret()
        endpoint = self._store.add_endpoint(
            owner_id=principal.id,
            url=url,
            events=sorted(set(chosen), key=chosen.index),
            sealed_secret=self._box.seal(secret),
            now=self._clock(),
            limit=self._limit,
            audit=AuditEntry(
                action="webhook.created",
                actor_id=principal.id,
                detail={"host": target.host, "events": chosen},
            ),
        )
        if endpoint is None:
            raise InvalidRequestError(
                f"you already have {self._limit} webhook endpoints, the most allowed "
                "(OPENREEL_WEBHOOKS__ENDPOINTS_PER_PRINCIPAL); remove one first",
                param="url",
                code="webhook_limit_reached",
            )
        return CreatedEndpoint(endpoint, secret)

    def endpoints(self, principal: Principal) -> list[Endpoint]:
        """The principal's endpoints; an admin's list has everyone's."""
        return self._store.endpoints(None if principal.is_admin else principal.id)

    def get(self, principal: Principal, endpoint_id: str) -> Endpoint:
        """One endpoint the principal may see.

        Raises:
            NotFoundError: No such endpoint, or another principal's.
        """
        endpoint = self._store.endpoint(endpoint_id)
        if endpoint.owner_id != principal.id and not principal.is_admin:
            raise NotFoundError(f"no webhook endpoint {endpoint_id!r}", param="webhook_id")
        return endpoint

    def delete(self, principal: Principal, endpoint_id: str) -> None:
        """Removes an endpoint and its deliveries.

        Raises:
            NotFoundError: No such endpoint, or another principal's.
        """
        self.get(principal, endpoint_id)
        self._store.remove_endpoint(
            endpoint_id, AuditEntry(action="webhook.deleted", actor_id=principal.id)
        )

    def rotate(self, principal: Principal, endpoint_id: str) -> CreatedEndpoint:
        """A new secret for the endpoint; the old one signs too for the grace period.

        Raises:
            NotFoundError: No such endpoint, or another principal's.
        """
        self.get(principal, endpoint_id)
        secret = new_secret()
        endpoint = self._store.rotate(
            endpoint_id,
            sealed_secret=self._box.seal(secret),
            previous_until=self._clock() + self._grace,
            audit=AuditEntry(
                action="webhook.rotated",
                actor_id=principal.id,
                detail={"grace_seconds": self._grace},
            ),
        )
        return CreatedEndpoint(endpoint, secret)

    def enable(self, principal: Principal, endpoint_id: str) -> Endpoint:
        """Turns an automatically disabled endpoint back on.

        Raises:
            NotFoundError: No such endpoint, or another principal's.
        """
        self.get(principal, endpoint_id)
        endpoint = self._store.enable(
            endpoint_id, AuditEntry(action="webhook.enabled", actor_id=principal.id)
        )
        if self._nudge is not None:
            self._nudge()
        return endpoint

    def deliveries(self, principal: Principal, endpoint_id: str, limit: int = 50) -> list[Delivery]:
        """The endpoint's newest deliveries with their attempts.

        Raises:
            NotFoundError: No such endpoint, or another principal's.
        """
        self.get(principal, endpoint_id)
        return self._store.deliveries(endpoint_id, limit=limit)

    def redeliver(self, principal: Principal, endpoint_id: str, delivery_id: str) -> Delivery:
        """Sends a delivery again now, with the same ``webhook-id``.

        Raises:
            NotFoundError: No such endpoint or delivery, or another principal's.
        """
        self.get(principal, endpoint_id)
        delivery = self._store.delivery(delivery_id)
        if delivery.endpoint_id != endpoint_id:
            raise NotFoundError(
                f"no webhook delivery {delivery_id!r} for endpoint {endpoint_id!r}",
                param="delivery_id",
            )
        delivery = self._store.redeliver(
            delivery_id,
            self._clock(),
            AuditEntry(action="webhook.redelivered", actor_id=principal.id),
        )
        if self._nudge is not None:
            self._nudge()
        return delivery
