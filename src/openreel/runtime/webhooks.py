"""Settings into the webhooks' live objects: the service the API and CLI call, and the
dispatcher that ``serve`` and ``worker`` processes run."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from openreel.config import Settings
from openreel.runtime.openers import open_database
from openreel.services.webhooks import (
    RetryPolicy,
    TargetPolicy,
    WebhookDispatcher,
    WebhookSender,
    WebhookService,
)
from openreel.storage.audit import AuditStore
from openreel.storage.db import Database
from openreel.storage.principals import PrincipalStore
from openreel.storage.webhooks import WebhookStore
from openreel.trust.sealing import SecretBox, load_or_create_box

__all__ = ["open_webhooks", "webhook_dispatcher", "webhook_service"]


def _box(settings: Settings) -> SecretBox:
    key = settings.webhooks.key
    return load_or_create_box(
        Path(settings.data_dir), None if key is None else key.get_secret_value()
    )


def _policy(settings: Settings) -> TargetPolicy:
    config = settings.webhooks
    return TargetPolicy(allow_private=config.allow_private, allow_http=config.allow_http)


def webhook_service(
    settings: Settings,
    db: Database,
    audit: AuditStore,
    nudge: Callable[[], None] | None = None,
) -> WebhookService:
    """The endpoints' service over ``db``, with the operator's limits."""
    config = settings.webhooks
    return WebhookService(
        WebhookStore(db, audit=audit),
        _box(settings),
        _policy(settings),
        limit=config.endpoints_per_principal,
        grace_seconds=config.rotation_grace_hours * 3600,
        nudge=nudge,
    )


def webhook_dispatcher(settings: Settings, db: Database, audit: AuditStore) -> WebhookDispatcher:
    """A dispatcher for this process (not started), named after the host and process."""
    config = settings.webhooks
    return WebhookDispatcher(
        WebhookStore(db, audit=audit),
        WebhookSender(_policy(settings), timeout=config.timeout),
        _box(settings),
        RetryPolicy(
            base_seconds=config.retry_base_seconds,
            max_delay_seconds=config.max_delay_seconds,
            max_age_seconds=config.max_age_hours * 3600,
            disable_after_seconds=config.disable_after_hours * 3600,
            keep_seconds=config.keep_days * 86400,
        ),
        holder=f"{socket.gethostname()}-{os.getpid()}/webhooks.{secrets.token_hex(3)}",
        concurrency=config.concurrency,
        poll_seconds=config.poll_seconds,
    )


def open_webhooks(settings: Settings) -> tuple[WebhookService, PrincipalStore]:
    """The endpoints' service and the principals over the configured database (migrated),
    for the CLI, which names owners by their principal's name."""
    db = open_database(settings)
    db.migrate()
    audit = AuditStore(db)
    return webhook_service(settings, db, audit), PrincipalStore(db, audit=audit)
