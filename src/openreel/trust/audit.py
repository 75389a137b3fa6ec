"""AuditService: check the audit chain against an anchor kept outside the database.

The chain alone proves that no row was edited or removed from the middle; it cannot show that
the newest rows were cut off, or that the whole log was rewritten with fresh hashes. So each
successful check writes the newest row's (seq, hash) to an anchor file, by default
``audit-head.json`` in the data folder (copy it elsewhere, or point ``anchor`` at a path on
other storage, for a stronger guarantee), and the next check requires that row to still be
there with that hash (docs/operations.md, "Audit log").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openreel.errors import ConfigurationError
from openreel.storage.artifacts import write_bytes_atomic
from openreel.storage.audit import (
    AuditEntry,
    AuditHead,
    AuditRecord,
    AuditStore,
    AuditVerification,
)

__all__ = ["ANCHOR_FILE", "AuditReport", "AuditService", "Verified"]

ANCHOR_FILE = "audit-head.json"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """A check's verdict and the anchors involved.

    Attributes:
        verification: What the chain check found.
        anchor: The anchor checked against, or None when there was none yet.
        new_anchor: The anchor written after a successful check, or None.
    """

    verification: AuditVerification
    anchor: AuditHead | None
    new_anchor: AuditHead | None


@dataclass(frozen=True, slots=True)
class Verified:
    """The last successful check, as its anchor file records it.

    Attributes:
        head: The newest row the check confirmed.
        at: Unix seconds of the check (the anchor file's modification time for anchors
            written before the time was recorded in them).
    """

    head: AuditHead
    at: float


class AuditService:
    """Lists audit rows and verifies the chain with an anchor file.

    Args:
        store: The audit log.
        anchor: The anchor file.
        clock: Unix seconds, recorded in the anchor with each successful check.
    """

    def __init__(
        self, store: AuditStore, anchor: Path, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._anchor = anchor
        self._clock = clock

    def record(self, entry: AuditEntry) -> AuditRecord:
        """Writes one row in a transaction of its own (see :meth:`AuditStore.record`)."""
        return self._store.record(entry)

    def head(self) -> AuditHead | None:
        """The chain's newest row, or None when the log is empty."""
        return self._store.head()

    def last_verified(self) -> Verified | None:
        """When the chain was last verified and up to which row, or None if never.

        Raises:
            ConfigurationError: The anchor file exists but cannot be read.
        """
        head = self._read_anchor()
        if head is None:
            return None
        try:
            at = json.loads(self._anchor.read_text()).get("verified_at")
            if isinstance(at, bool) or not isinstance(at, int | float):
                at = self._anchor.stat().st_mtime
        except (OSError, ValueError, AttributeError):
            return None  # replaced or removed since it was read: as if never verified
        return Verified(head, float(at))

    def verify(self, *, update_anchor: bool = True) -> AuditReport:
        """Checks every row; on success, moves the anchor to the newest row.

        Raises:
            ConfigurationError: The anchor file exists but cannot be read.
        """
        anchor = self._read_anchor()
        verdict = self._store.verify(anchor)
        written = None
        if verdict.ok and update_anchor:
            written = self._store.head()
            if written is not None:
                self._write_anchor(written)
        return AuditReport(verdict, anchor, written)

    def list(
        self,
        *,
        action: str | None = None,
        actor_id: str | None = None,
        target_id: str | None = None,
        after_seq: int | None = None,
        limit: int = 100,
        order: Literal["desc", "asc"] = "desc",
    ) -> list[AuditRecord]:
        """Rows matching every given filter (see :meth:`AuditStore.list`)."""
        return self._store.list(
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            after_seq=after_seq,
            limit=limit,
            order=order,
        )

    def _read_anchor(self) -> AuditHead | None:
        if not self._anchor.exists():
            return None
        try:
            data = json.loads(self._anchor.read_text())
            return AuditHead(int(data["seq"]), str(data["row_hash"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"audit anchor {self._anchor} is unreadable ({exc}); restore it from a copy, "
                "or remove it to start a new anchor"
            ) from None

    def _write_anchor(self, head: AuditHead) -> None:
        anchor = {"seq": head.seq, "row_hash": head.row_hash, "verified_at": self._clock()}
        write_bytes_atomic(self._anchor, json.dumps(anchor).encode())
