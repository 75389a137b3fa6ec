"""The Standard Webhooks signature, as the official ``openai`` SDK's ``webhooks.unwrap``
checks it.

A secret is ``whsec_`` and the base64 of 32 random bytes; the signature of a message is
``v1,`` and the base64 HMAC-SHA256, keyed with those bytes, of ``"<webhook-id>.<timestamp>.
<body>"`` (the ``standardwebhooks`` package, the specification's reference code, computes it).
Several signatures go in one header, separated by spaces (a receiver accepts any that
matches), which is how a rotated secret and its predecessor both sign for a while.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable

from standardwebhooks.webhooks import Webhook

__all__ = ["SECRET_PREFIX", "new_secret", "signature", "signed_headers"]

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``message_id.timestamp.body`` under ``secret``."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    when = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return Webhook(secret).sign(message_id, when, body)


def signed_headers(
    secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, one signature per secret, space-separated."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_
        ),
    }
