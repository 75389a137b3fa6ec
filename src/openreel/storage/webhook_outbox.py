"""The webhook outbox: what a job's end writes, in the transaction that ends it.

:func:`record_ended` runs inside every transaction that may end a job (from
``storage.jobs.recovery.settle_ended``): it turns the jobs that have just ended into one
delivery row per subscribed endpoint, so an event exists exactly when the end state does and
no crash between the commit and the HTTP call can lose it. ``storage/webhooks.py`` holds the
endpoints and the dispatchers' lease over these rows.
"""

from __future__ import annotations

import functools
import json
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from openreel.storage.db import JOBS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS

__all__ = ["record_ended"]


def _event(job: RowMapping, now: float) -> tuple[str, str, str]:
    """The event id, type and body (OpenAI's event shape) of a job that has just ended."""
    event_id = "evt_" + secrets.token_hex(16)
    data: dict[str, Any] = {"id": job["id"]}
    if job["status"] == "completed":
        kind = "video.completed"
    else:
        kind = "video.failed"
        error = json.loads(job["error"]) if job["error"] else None
        if isinstance(error, dict):
            data["error"] = {"code": error.get("code"), "message": error.get("message")}
    body = {"id": event_id, "object": "event", "created_at": int(now), "type": kind, "data": data}
    return event_id, kind, json.dumps(body, separators=(",", ":"))


@functools.cache
def _statements() -> tuple[sa.Update, sa.Select[Any]]:
    """:func:`record_ended`'s statements, built on first use and kept: every ending
    transaction runs them (see ``storage.usage._settle_statement``)."""
    ended = (
        sa.update(JOBS)
        .where(JOBS.c.announced.is_(False), JOBS.c.status.in_(("completed", "failed")))
        .values(announced=True)
        .returning(JOBS.c.id, JOBS.c.owner_id, JOBS.c.status, JOBS.c.error)
    )
    listeners = sa.select(
        WEBHOOK_ENDPOINTS.c.id, WEBHOOK_ENDPOINTS.c.owner_id, WEBHOOK_ENDPOINTS.c.events
    ).where(
        WEBHOOK_ENDPOINTS.c.owner_id.in_(sa.bindparam("owners", expanding=True)),
        WEBHOOK_ENDPOINTS.c.disabled_at.is_(None),
    )
    return ended, listeners


def record_ended(conn: Connection, now: float) -> int:
    """Writes the outbox rows of every job that has ended and was not announced yet.

    Runs inside the transaction that ended the job (any path: completion, failure, cancel,
    recovery), so the event commits with the end state or not at all. Each job is announced
    once; an owner without endpoints costs one indexed read.

    Returns:
        How many deliveries were written.
    """
    ended, listeners = _statements()
    jobs = conn.execute(ended).mappings().all()
    if not jobs:
        return 0
    owners = sorted({job["owner_id"] for job in jobs})
    endpoints = conn.execute(listeners, {"owners": owners}).all()
    if not endpoints:
        return 0
    rows: list[dict[str, Any]] = []
    for job in jobs:
        event_id, kind, body = _event(job, now)
        for endpoint in endpoints:
            if endpoint.owner_id != job["owner_id"] or kind not in json.loads(endpoint.events):
                continue
            rows.append(
                {
                    "id": "msg_" + secrets.token_hex(16),
                    "endpoint_id": endpoint.id,
                    "event_id": event_id,
                    "event_type": kind,
                    "video_id": job["id"],
                    "payload": body,
                    "created_at": now,
                    "window_start": now,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                }
            )
    if rows:
        conn.execute(sa.insert(WEBHOOK_DELIVERIES), rows)
    return len(rows)
