"""The audit log: append-only rows, each chained to the one before it by a SHA-256 hash.

Every admission, refusal, token change and admin action leaves one row (docs/operations.md,
"Audit log"). Callers write it with :meth:`AuditStore.append` inside the same write transaction
as the action itself, so an action and its audit row commit or roll back together.

The chain. Each row stores ``prev_hash`` (the ``row_hash`` of the row before it, or 64 zeros
for the first row) and ``row_hash = sha256(prev_hash + canonical_json(fields))`` where
``fields`` are every column except ``seq`` and ``row_hash`` (see :func:`compute_row_hash`).
Editing a row breaks its own hash; deleting or reordering rows breaks the next row's link; and
``prev_hash`` is unique in the table, so two writers can never both extend the same head (the
chain cannot fork even if a caller forgets to serialise). What the chain alone cannot show is
a deleted *tail*, or a log rewritten wholesale with fresh hashes: for that, copy
:meth:`AuditStore.head` somewhere the database's users cannot write (a file, another log) now
and then, and pass it back to :meth:`AuditStore.verify` as ``expected_head``.

Timestamps. ``ts`` is rounded to whole microseconds before it is stored, and enters the hash as
the text ``f"{ts:.6f}"`` (fixed point, six decimals), not as a JSON float: fixed-point text of a
microsecond-rounded double is the same in every language, and a double holds unix seconds to
better than half a microsecond until the year 2242, so the stored value always prints back to
the hashed text. ``detail`` is stored as canonical JSON text and that exact text is hashed, so
verifying never re-serialises anything.

Secrets. A bug elsewhere must never put a bearer token into a log that is kept for years and
read by reviewers, so :meth:`AuditStore.append` refuses any entry in which something shaped
like an OpenReel token (``or_`` + base62, see trust/auth.py) appears in any field.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from openreel.storage.db import AUDIT, Database

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHead",
    "AuditRecord",
    "AuditStore",
    "AuditVerification",
    "compute_row_hash",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first row."""

TOKEN_PATTERN = re.compile(r"(?<![0-9A-Za-z])or_[0-9A-Za-z]{20,}")
"""Anything shaped like an OpenReel token, or at least 20 characters of one.

A real token is ``or_`` + 32 base62 characters + a 6-character checksum (41 in all); matching
from 20 on also catches a truncated copy, while the 10-character display prefix stays allowed.
The look-behind keeps words that merely end in "or" (``vendor_...``) from matching.
"""

MAX_LIST = 1000
"""Most rows one :meth:`AuditStore.list` call returns."""

MAX_DETAIL_CHARS = 4096
"""Longest ``detail`` (as canonical JSON); the log records decisions, not payloads."""

VERIFY_CHUNK = 1000
"""Rows :meth:`AuditStore.verify` reads per query, so memory stays flat however long the log."""

_PG_AUDIT_LOCK = 0x0E4E_A0D1
"""Key of the PostgreSQL advisory lock that serialises appends (distinct from migrations')."""

_HASHED = (
    "ts",
    "actor_id",
    "token_id",
    "action",
    "target_id",
    "outcome",
    "detail",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
)
"""Columns covered by ``row_hash``: all but ``seq`` and ``row_hash`` itself."""

# Fields the program chooses: too long is a bug, so it raises.
_CHECKED = {"action": 64, "outcome": 64, "actor_id": 64, "token_id": 64, "target_id": 200}
# Fields a client controls (headers, addresses): too long is cut, never a failed action.
_TRUNCATED = {"ip": 64, "user_agent": 512, "request_id": 128}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, as a caller reports it; the store adds time, sequence and hashes.

    Attributes:
        action: What was attempted, dotted (``token.created``, ``video.refused``, ``admin.pause``).
        outcome: ``ok``, or a reason code such as ``denied:quota`` or ``denied:policy``.
        actor_id: The principal who acted, or None for the system itself.
        token_id: The token used (its id, never its secret), or None.
        target_id: What was acted on (video, token or principal id), or None.
        detail: A small JSON-serialisable dict (at most :data:`MAX_DETAIL_CHARS` as JSON).
        ip: Client address.
        user_agent: Client ``User-Agent`` (cut to 512 characters).
        request_id: The request id, to join the log with access logs.
    """

    action: str
    outcome: str = "ok"
    actor_id: str | None = None
    token_id: str | None = None
    target_id: str | None = None
    detail: Mapping[str, Any] | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored audit row.

    Attributes:
        seq: Position in the chain (increasing; may have gaps on PostgreSQL, see
            :meth:`AuditStore.verify`).
        ts: Unix seconds, rounded to microseconds.
        action: See :class:`AuditEntry`.
        outcome: See :class:`AuditEntry`.
        actor_id: See :class:`AuditEntry`.
        token_id: See :class:`AuditEntry`.
        target_id: See :class:`AuditEntry`.
        detail: The stored detail, parsed (``{"unreadable": text}`` if the text is not JSON).
        ip: See :class:`AuditEntry`.
        user_agent: See :class:`AuditEntry`.
        request_id: See :class:`AuditEntry`.
        prev_hash: ``row_hash`` of the previous row, or :data:`GENESIS_HASH`.
        row_hash: This row's hash (hex SHA-256).
    """

    seq: int
    ts: float
    action: str
    outcome: str
    actor_id: str | None
    token_id: str | None
    target_id: str | None
    detail: dict[str, Any] | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    prev_hash: str
    row_hash: str


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest row's position and hash: the anchor to keep outside the database.

    Attributes:
        seq: The newest row's seq.
        row_hash: Its hash.
    """

    seq: int
    row_hash: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of checking the chain.

    Attributes:
        ok: Whether every row checked out (and the anchor, when one was given).
        rows_checked: Rows whose link and hash were confirmed before the first problem.
        first_bad_seq: The seq where the first problem shows, or None when ok.
        reason: One sentence naming that seq and what is wrong, or None when ok.
    """

    ok: bool
    rows_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def compute_row_hash(row: Mapping[str, Any] | RowMapping) -> str:
    """The ``row_hash`` of a row, from its hashed columns (written out so others can re-check).

    ``sha256(prev_hash.encode() + canonical.encode())`` in hex, where ``canonical`` is
    ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, UTF-8,
    and ``fields`` holds every column but ``seq`` and ``row_hash``, with ``ts`` written as the
    string ``f"{ts:.6f}"`` and ``detail`` as its stored JSON text (or null).

    Args:
        row: A mapping with at least the hashed columns (a database row or insert values).

    Raises:
        TypeError, ValueError: ``ts`` is not a number (only a tampered row can do that).
    """
    fields = {name: row[name] for name in _HASHED}
    ts = row["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise TypeError(f"ts must be a number, got {type(ts).__name__}")
    fields["ts"] = f"{float(ts):.6f}"
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev_hash = str(row["prev_hash"])
    return hashlib.sha256(prev_hash.encode() + canonical.encode()).hexdigest()


class AuditStore:
    """Appends to, lists and verifies the audit log.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        # Built once: an append runs in every transaction that changes a video.
        self._head = sa.select(AUDIT.c.row_hash).order_by(AUDIT.c.seq.desc()).limit(1)
        self._insert = sa.insert(AUDIT).returning(AUDIT.c.seq)

    def append(self, conn: Connection, entry: AuditEntry) -> AuditRecord:
        """Writes one row inside the caller's open write transaction.

        The row commits or rolls back with whatever else the transaction does. Reading the
        chain head and inserting must not interleave with another appender: on SQLite the
        ``BEGIN IMMEDIATE`` of :meth:`Database.begin` already holds the one write lock; on
        PostgreSQL this takes ``pg_advisory_xact_lock`` first (held to commit), which is
        enough under the default READ COMMITTED isolation because the head query after the
        lock sees the previous appender's committed row. The PostgreSQL path has not been run
        against a server here. Whatever happens, the unique ``prev_hash`` turns a lost race
        into an ``IntegrityError``, never a forked chain.

        Args:
            conn: A connection from :meth:`Database.begin` (its transaction still open).
            entry: What to record.

        Returns:
            The stored record.

        Raises:
            ValueError: ``conn`` has no open transaction, a field is malformed or too long,
                or a field looks like it holds an access token (the message names the field,
                never its value).
        """
        if not _in_transaction(conn):
            raise ValueError("append needs a connection inside an open write transaction")
        values = _prepare(entry)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
        head = conn.execute(self._head).scalar()
        values["prev_hash"] = GENESIS_HASH if head is None else str(head)
        values["ts"] = round(float(self._clock()), 6)
        values["row_hash"] = compute_row_hash(values)
        seq = int(conn.execute(self._insert, values).scalar_one())
        return _record({**values, "seq": seq})

    def record(self, entry: AuditEntry) -> AuditRecord:
        """Writes one row in a transaction of its own (for events with no other write).

        Raises:
            ValueError: As for :meth:`append`.
        """
        with self._db.begin() as conn:
            return self.append(conn, entry)

    def head(self) -> AuditHead | None:
        """The newest row's seq and hash, or None when the log is empty.

        Store it outside the database from time to time; :meth:`verify` can then tell that
        rows after it were deleted or that the log was rewritten.
        """
        query = sa.select(AUDIT.c.seq, AUDIT.c.row_hash).order_by(AUDIT.c.seq.desc()).limit(1)
        with self._db.query() as conn:
            row = conn.execute(query).first()
        return None if row is None else AuditHead(seq=int(row.seq), row_hash=str(row.row_hash))

    def verify(
        self,
        expected_head: AuditHead | tuple[int, str] | None = None,
        *,
        chunk_size: int = VERIFY_CHUNK,
    ) -> AuditVerification:
        """Checks every row's hash and link, oldest first, ``chunk_size`` rows per query.

        Gaps in ``seq`` are not errors (a rolled-back insert on PostgreSQL skips a number);
        only the hashes are evidence. It stops at the first problem.

        Args:
            expected_head: An earlier :meth:`head` kept outside the database: the row at its
                seq must still exist with that hash. Without it a deleted tail, or a log
                rewritten with fresh hashes, cannot be detected.
            chunk_size: Rows read per query.

        Returns:
            The verdict; ``first_bad_seq`` names the row where the chain first fails (for a
            deleted tail, the anchor's seq: the one row known to be missing).
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        anchor = None if expected_head is None else AuditHead(*_head_parts(expected_head))
        prev_hash, last_seq, checked, anchor_seen = GENESIS_HASH, None, 0, False

        def bad(seq: int, reason: str) -> AuditVerification:
            return AuditVerification(
                ok=False, rows_checked=checked, first_bad_seq=seq, reason=reason
            )

        while True:
            query = sa.select(AUDIT).order_by(AUDIT.c.seq).limit(chunk_size)
            if last_seq is not None:
                query = query.where(AUDIT.c.seq > last_seq)
            with self._db.query() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                data = row._mapping
                seq = int(data["seq"])
                if data["prev_hash"] != prev_hash:
                    return bad(seq, _link_reason(seq, last_seq))
                try:
                    computed = compute_row_hash(data)
                except (TypeError, ValueError):
                    return bad(seq, f"Row seq {seq} was altered: a column holds a malformed value.")
                if computed != data["row_hash"]:
                    return bad(
                        seq, f"Row seq {seq} was altered: its row_hash does not match its contents."
                    )
                if anchor is not None and seq == anchor.seq:
                    anchor_seen = True
                    if data["row_hash"] != anchor.row_hash:
                        return bad(
                            seq,
                            f"Row seq {seq} has a different row_hash than the anchor recorded: "
                            f"the log was rewritten at or before seq {seq}.",
                        )
                checked += 1
                prev_hash, last_seq = str(data["row_hash"]), seq
            if len(rows) < chunk_size:
                break
        if anchor is not None and not anchor_seen:
            if last_seq is None:
                reason = (
                    f"The log is empty but the anchor names seq {anchor.seq}: rows were deleted."
                )
            elif last_seq < anchor.seq:
                reason = (
                    f"The log ends at seq {last_seq} but the anchor names seq {anchor.seq}: "
                    f"rows after seq {last_seq} were deleted."
                )
            else:
                reason = (
                    f"The anchor names seq {anchor.seq}, which is missing although the chain "
                    f"runs on to seq {last_seq}: the log was rewritten."
                )
            return bad(anchor.seq, reason)
        return AuditVerification(ok=True, rows_checked=checked)

    # Last: the name shadows the builtin ``list`` inside the class body.
    def list(
        self,
        *,
        action: str | None = None,
        actor_id: str | None = None,
        target_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        limit: int = 100,
        order: Literal["desc", "asc"] = "desc",
    ) -> list[AuditRecord]:
        """Rows matching every given filter, newest first by default.

        Page like ``GET /v1/videos``: pass the last returned ``seq`` as ``after_seq`` to get
        the rows that come after it in this order (older ones for ``desc``, newer for ``asc``).

        Args:
            action: Only this action.
            actor_id: Only rows by this principal.
            target_id: Only rows about this target.
            since: Only rows with ``ts >= since``.
            until: Only rows with ``ts < until``.
            after_seq: Cursor: the last seq of the previous page.
            limit: Rows to return, 1 to :data:`MAX_LIST`.
            order: ``desc`` (newest first) or ``asc`` (chain order).

        Raises:
            ValueError: ``limit`` or ``order`` is out of range.
        """
        if not 1 <= limit <= MAX_LIST:
            raise ValueError(f"limit must be between 1 and {MAX_LIST}, got {limit}")
        if order not in ("desc", "asc"):
            raise ValueError(f"order must be 'desc' or 'asc', got {order!r}")
        query = sa.select(AUDIT).limit(limit)
        if action is not None:
            query = query.where(AUDIT.c.action == action)
        if actor_id is not None:
            query = query.where(AUDIT.c.actor_id == actor_id)
        if target_id is not None:
            query = query.where(AUDIT.c.target_id == target_id)
        if since is not None:
            query = query.where(AUDIT.c.ts >= since)
        if until is not None:
            query = query.where(AUDIT.c.ts < until)
        if order == "desc":
            query = query.order_by(AUDIT.c.seq.desc())
            if after_seq is not None:
                query = query.where(AUDIT.c.seq < after_seq)
        else:
            query = query.order_by(AUDIT.c.seq)
            if after_seq is not None:
                query = query.where(AUDIT.c.seq > after_seq)
        with self._db.query() as conn:
            rows = conn.execute(query).all()
        return [_record(row._mapping) for row in rows]


def _in_transaction(conn: Connection) -> bool:
    """Whether statements on ``conn`` run inside one open transaction.

    With SQLite, SQLAlchemy may think a transaction is open while the driver runs each
    statement on its own (``Database.query`` connections), so the driver is asked too.
    """
    if not conn.in_transaction():
        return False
    if conn.dialect.name == "sqlite":
        return bool(getattr(conn.connection.driver_connection, "in_transaction", True))
    return True


def _prepare(entry: AuditEntry) -> dict[str, Any]:
    """Checks an entry and turns it into column values (without ts and hashes)."""
    values: dict[str, Any] = {}
    for name in (*_CHECKED, *_TRUNCATED):
        value = getattr(entry, name)
        if value is None:
            if name in ("action", "outcome"):
                raise ValueError(f"audit field {name!r} is required")
            values[name] = None
            continue
        if not isinstance(value, str):
            raise ValueError(f"audit field {name!r} must be a string, got {type(value).__name__}")
        _refuse_secret(name, value)
        if name in _TRUNCATED:
            value = value[: _TRUNCATED[name]]
        elif not value or len(value) > _CHECKED[name]:
            raise ValueError(
                f"audit field {name!r} must be 1 to {_CHECKED[name]} characters, got {len(value)}"
            )
        values[name] = value
    values["detail"] = _detail_text(entry.detail)
    return values


def _detail_text(detail: Mapping[str, Any] | None) -> str | None:
    if detail is None:
        return None
    if not isinstance(detail, Mapping):
        raise ValueError(f"audit detail must be a mapping, got {type(detail).__name__}")
    try:
        text = json.dumps(
            dict(detail),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit detail must be plain JSON: {exc}") from None
    # Scanned as JSON text: covers keys, nested values and numbers' neighbours alike.
    _refuse_secret("detail", text)
    if len(text) > MAX_DETAIL_CHARS:
        raise ValueError(
            f"audit detail is {len(text)} characters as JSON; the limit is {MAX_DETAIL_CHARS}"
        )
    return text


def _refuse_secret(name: str, value: str) -> None:
    if TOKEN_PATTERN.search(value):
        raise ValueError(
            f"audit field {name!r} contains what looks like an access token; "
            "refusing to write it to the audit log"
        )


def _head_parts(head: AuditHead | tuple[int, str]) -> tuple[int, str]:
    if isinstance(head, AuditHead):
        return head.seq, head.row_hash
    seq, row_hash = head
    return int(seq), str(row_hash)


def _link_reason(seq: int, prev_seq: int | None) -> str:
    if prev_seq is None:
        return (
            f"Row seq {seq} is the first row but its prev_hash is not the genesis hash: "
            "earlier rows were deleted or the row was altered."
        )
    return (
        f"Row seq {seq} does not link to the row before it (seq {prev_seq}): rows between "
        "them were deleted, or rows were reordered or altered."
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_detail(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        parsed = json.loads(str(text))
    except ValueError:
        return {"unreadable": str(text)}
    return parsed if isinstance(parsed, dict) else {"unreadable": str(text)}


def _record(row: Mapping[str, Any] | RowMapping) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        ts=float(row["ts"]),
        action=str(row["action"]),
        outcome=str(row["outcome"]),
        actor_id=_opt_str(row["actor_id"]),
        token_id=_opt_str(row["token_id"]),
        target_id=_opt_str(row["target_id"]),
        detail=_parse_detail(row["detail"]),
        ip=_opt_str(row["ip"]),
        user_agent=_opt_str(row["user_agent"]),
        request_id=_opt_str(row["request_id"]),
        prev_hash=str(row["prev_hash"]),
        row_hash=str(row["row_hash"]),
    )
