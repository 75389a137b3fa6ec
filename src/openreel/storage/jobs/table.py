"""What every part of the job store shares: the database, the clock, and who hears of changes.

The store is assembled from one class per concern (lease, lifecycle, recovery, queries); each
derives from :class:`JobTable`, so they all see one database and one clock, and
:class:`~openreel.storage.jobs.JobStore` combines them into the object callers use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import Database
from openreel.storage.prompts import PromptPolicy


class JobTable:
    """The state the parts of the job store share.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
        on_change: Called with a job's id after each committed change to it (live progress).
        audit: Where admissions and end states are logged, in the changing transaction.
        prompts: What is kept of a prompt once its job ends: ``full``, ``hashed`` or
            ``dropped``.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[str], None] | None = None,
        audit: AuditStore | None = None,
        prompts: PromptPolicy = "full",
    ) -> None:
        if prompts not in ("full", "hashed", "dropped"):
            raise ValueError(f"prompts must be full, hashed or dropped; got {prompts!r}")
        self._prompts = prompts
        self._db = db
        self._clock = clock
        self._on_change = on_change
        self._audit = audit

    def now(self) -> float:
        """The store's clock: leases and timestamps are in its time."""
        return self._clock()

    def _log(self, conn: Connection, action: str, job_id: str, **fields: Any) -> None:
        """Appends an audit row for ``job_id`` inside the transaction that made the change."""
        if self._audit is not None:
            self._audit.append(conn, AuditEntry(action=action, target_id=job_id, **fields))

    def _changed(self, job_id: str) -> None:
        """Tells the listener (live progress streams) that a committed change hit ``job_id``."""
        if self._on_change is not None:
            self._on_change(job_id)
