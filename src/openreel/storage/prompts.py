"""Prompt retention: keep prompts in full, only their SHA-256, or nothing once a job ends.

A prompt can say more about a person than the video does, and operators differ in what they
may keep. The worker needs the prompt until the video is made, so the job row holds it while
the job is queued or running; with ``hashed`` or ``dropped`` it is rewritten in the very
transaction that ends the job (completed, failed or cancelled), and a later sweep catches any
row an older version left behind. ``hashed`` keeps ``sha256:<hex>`` (the same hash the C2PA
manifest carries, so a person who knows the prompt can still prove it); ``dropped`` keeps a
fixed placeholder. The backend's plan (``interpretation``) is kept: it names what the engine
drew, not what the person wrote.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.config import PromptStorage
from openreel.storage.db import JOBS

__all__ = ["DROPPED", "PromptPolicy", "scrub_prompts", "scrubbed"]

PromptPolicy = PromptStorage

DROPPED: Final = "[prompt not kept]"
"""What a dropped prompt reads as (a prompt may not be empty)."""

_BATCH: Final = 200
_ENDED: Final = ("completed", "failed")


def scrubbed(text: str, policy: PromptPolicy) -> str:
    """``text`` as ``policy`` keeps it ('' stays '')."""
    if not text or policy == "full":
        return text
    if policy == "hashed":
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return DROPPED


def scrub_prompts(conn: Connection, policy: PromptPolicy) -> int:
    """Rewrites the prompts of ended jobs still held in full; returns how many.

    Runs inside the caller's write transaction, in batches, so the first run after an
    operator switches from ``full`` spreads the old rows over the next few transactions.
    """
    if policy == "full":
        return 0
    rows = conn.execute(
        sa.select(JOBS.c.id, JOBS.c.request)
        .where(JOBS.c.prompt_kept.is_(True), JOBS.c.status.in_(_ENDED))
        .limit(_BATCH)
    ).all()
    for job_id, text in rows:
        request = json.loads(text)
        for key in ("prompt", "negative_prompt"):
            if isinstance(request.get(key), str):
                request[key] = scrubbed(request[key], policy)
        conn.execute(
            sa.update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(request=json.dumps(request), prompt_kept=False)
        )
    return len(rows)
