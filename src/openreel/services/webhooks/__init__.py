"""Webhooks: signed notices to their owners' endpoints when a video ends.

``signing`` (the Standard Webhooks signature), ``targets`` (which addresses may be called),
``sender`` (one HTTP attempt), ``dispatch`` (the dispatcher that claims and retries
deliveries) and ``endpoints`` (what the API and the CLI call). The outbox itself is written by
the job store (``storage/webhooks.py``).
"""

from openreel.services.webhooks.dispatch import RetryPolicy, WebhookDispatcher
from openreel.services.webhooks.endpoints import CreatedEndpoint, WebhookService
from openreel.services.webhooks.sender import WebhookSender
from openreel.services.webhooks.targets import TargetPolicy

__all__ = [
    "CreatedEndpoint",
    "RetryPolicy",
    "TargetPolicy",
    "WebhookDispatcher",
    "WebhookSender",
    "WebhookService",
]
