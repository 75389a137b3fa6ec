"""What the webhook tables hold, as records: endpoints, deliveries, their attempts, a held
delivery and an attempt's outcome, and reading each from its row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import RowMapping

from openreel.storage.db import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS

__all__ = [
    "ATTEMPTS",
    "DELIVERED",
    "DELIVERIES",
    "ENDPOINTS",
    "EVENT_TYPES",
    "FAILED",
    "PENDING",
    "Attempt",
    "Claimed",
    "Delivery",
    "DeliveryStatus",
    "Endpoint",
    "Outcome",
    "attempt_of",
    "delivery_of",
    "endpoint_of",
]

EVENT_TYPES = ("video.completed", "video.failed")
"""The events an endpoint may ask for; a cancelled video is ``video.failed``."""

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"  # a delivery's status
DeliveryStatus = Literal["pending", "delivered", "failed"]

ENDPOINTS = WEBHOOK_ENDPOINTS
DELIVERIES = WEBHOOK_DELIVERIES
ATTEMPTS = WEBHOOK_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A stored endpoint; ``secret`` and ``previous_secret`` are sealed, never plain."""

    id: str
    owner_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    previous_secret: str | None
    previous_until: float | None
    created_at: float
    failing_since: float | None
    disabled_at: float | None
    disabled_reason: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a delivery: what came back and how long it took."""

    started_at: float
    latency_ms: float
    status_code: int | None
    error: str | None
    excerpt: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint, with its attempts when asked for."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    video_id: str
    payload: str
    created_at: float
    window_start: float
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: float | None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a dispatcher holds the lease of, with what an attempt needs."""

    delivery: Delivery
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a dispatcher decided after an attempt.

    Attributes:
        attempt: The attempt as it happened.
        delivered: A 2xx answer: the delivery is done.
        retry_at: When to try again; None gives the delivery up (``failed``).
        disable_after: Seconds of failing after which the endpoint is disabled.
    """

    attempt: Attempt
    delivered: bool
    retry_at: float | None
    disable_after: float


def endpoint_of(row: RowMapping) -> Endpoint:
    return Endpoint(
        id=row["id"],
        owner_id=row["owner_id"],
        url=row["url"],
        events=tuple(json.loads(row["events"])),
        secret=row["secret"],
        previous_secret=row["previous_secret"],
        previous_until=row["previous_until"],
        created_at=row["created_at"],
        failing_since=row["failing_since"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
    )


def delivery_of(row: RowMapping, history: Sequence[Attempt] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        video_id=row["video_id"],
        payload=row["payload"],
        created_at=row["created_at"],
        window_start=row["window_start"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        history=tuple(history),
    )


def attempt_of(row: RowMapping) -> Attempt:
    return Attempt(
        started_at=row["started_at"],
        latency_ms=row["latency_ms"],
        status_code=row["status_code"],
        error=row["error"],
        excerpt=row["excerpt"],
    )
