"""Child-process body for the two-dispatcher test on PostgreSQL (tests/services/).

Run with ``runpy.run_path(..., init_globals={"DISPATCH_ARGS": (...)}, run_name="__main__")``
in a spawned process, like ``claim_worker.py``. It runs a real dispatcher until the outbox
has nothing pending, then writes how many deliveries its own attempts got a 2xx for.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from openreel.services.webhooks import RetryPolicy, TargetPolicy, WebhookDispatcher, WebhookSender
from openreel.services.webhooks.sender import Reply
from openreel.storage.db import Database
from openreel.storage.webhooks import WebhookStore
from openreel.trust.sealing import SecretBox


class CountingSender(WebhookSender):
    """The real sender, counting the 2xx answers its process got."""

    delivered = 0

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        reply = super().send(url, body, headers)
        if reply.ok:
            CountingSender.delivered += 1
        return reply


def dispatch(url: str, key: bytes, name: str, out: str, start: Any) -> None:
    db = Database(url)
    store = WebhookStore(db)
    sender = CountingSender(TargetPolicy(allow_private=True, allow_http=True), timeout=5)
    dispatcher = WebhookDispatcher(
        store,
        sender,
        SecretBox(key),
        RetryPolicy(
            base_seconds=0.1, max_delay_seconds=1, max_age_seconds=600, disable_after_seconds=600
        ),
        holder=name,
        concurrency=4,
        poll_seconds=0.05,
    )
    db.current_revision()  # connect before the barrier
    start.wait(60)
    dispatcher.start()
    deadline = time.monotonic() + 90
    while store.next_due() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    dispatcher.stop(10)
    db.dispose()
    Path(out).write_text(str(CountingSender.delivered))


if __name__ == "__main__":
    dispatch(*globals()["DISPATCH_ARGS"])
