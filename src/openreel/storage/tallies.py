"""AuditTallies: what the audit log says happened in a period, as counts, for the public report.

The transparency report (trust/transparency.py) publishes how many videos were made and refused,
and why; the audit log already records each of those decisions with its category and never the
prompt, so the figures are computed from it alone. Every figure here is one SQL aggregate
(``GROUP BY`` over the ``action`` and ``ts`` indexes), never a scan of rows into Python, so a
report over a year of a busy server costs a few queries. ``detail`` is JSON text; its fields are
read with the database's own JSON functions (``json_extract`` on SQLite,
``json_extract_path_text`` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.storage.db import AUDIT, Database

__all__ = [
    "AUTOMATIC_PREFIX",
    "ROTATED_PREFIX",
    "AuditTallies",
    "MadeCount",
    "PublicPause",
    "Tallies",
    "Tally",
]

AUTOMATIC_PREFIX = "suspended automatically"
"""How the abuse monitor's revocations' reasons begin (trust/abuse.py)."""

ROTATED_PREFIX = "rotated to "
"""How a rotation's revocation of the old token reads (trust/auth.py)."""

MAX_PAUSES = 200
"""Most public pauses one report lists (newest first)."""

VIDEO_ACTIONS = (
    "video.admitted",
    "video.completed",
    "video.failed",
    "video.cancelled",
    "video.refused",
)
LOOKUP_ACTIONS = ("provenance.lookup", "provenance.verify")


@dataclass(frozen=True, slots=True)
class MadeCount:
    """Videos completed in the period for one model and backend.

    Attributes:
        model: The model id, or None for rows from before models were recorded.
        backend: The backend's name, or None where the admission did not record it.
        videos: Videos completed.
        seconds: Their total length in seconds.
    """

    model: str | None
    backend: str | None
    videos: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Tally:
    """One group's count.

    Attributes:
        key: What was counted (a category, a check, an outcome).
        count: How many rows.
    """

    key: str
    count: int


@dataclass(frozen=True, slots=True)
class PublicPause:
    """A pause of everything or of one model: public, as its reason is shown to every refused
    request.

    Attributes:
        ts: Unix seconds when it was set.
        scope: ``all`` or ``model``.
        model: The model paused, for scope ``model``.
        reason: The reason shown to those it refused.
    """

    ts: float
    scope: str
    model: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Tallies:
    """The period's counts (see :class:`AuditTallies`).

    Attributes:
        videos: Videos per outcome: admitted, completed, failed, cancelled (asked to stop,
            each video once) and refused.
        made: Completed videos per model and backend.
        refusals_by_reason: Refusals per admission check (``moderation_blocked``,
            ``generation_paused``, ``rate_limit_exceeded``).
        refusals_by_category: Moderation refusals per category.
        refusals_by_check: Moderation refusals per moderation check (rules, names...).
        revoked: Token revocations: ``automatic``, ``by_hand`` and ``rotated``.
        pauses: Public pauses set in the period, newest first.
        private_pauses: Pauses of one person or one token set in the period (a count only).
        lookups: Provenance questions answered: ``lookup:made_here``, ``lookup:not_found``
            and ``verify:<status>``.
    """

    videos: dict[str, int]
    made: list[MadeCount]
    refusals_by_reason: list[Tally]
    refusals_by_category: list[Tally]
    refusals_by_check: list[Tally]
    revoked: dict[str, int]
    pauses: list[PublicPause]
    private_pauses: int
    lookups: list[Tally]


class AuditTallies:
    """Counts audit rows for a period, by SQL aggregates only.

    Args:
        db: The database (migrated).
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def tally(self, since: float, until: float) -> Tallies:
        """Every figure of the report for rows with ``since <= ts < until``.

        Raises:
            ValueError: ``until`` is not after ``since``.
        """
        if not until > since:
            raise ValueError(f"until ({until}) must be after since ({since})")
        with self._db.query() as conn:
            period = _within(AUDIT, since, until)
            return Tallies(
                videos=self._videos(conn, period),
                made=self._made(conn, since, until),
                refusals_by_reason=self._refusals(conn, period, AUDIT.c.outcome),
                refusals_by_category=self._refusals(conn, period, _field(conn, "category")),
                refusals_by_check=self._refusals(conn, period, _field(conn, "check")),
                revoked=self._revoked(conn, period),
                pauses=self._pauses(conn, period),
                private_pauses=self._private_pauses(conn, period),
                lookups=self._lookups(conn, period),
            )

    @staticmethod
    def _videos(conn: Connection, period: Sequence[sa.ColumnElement[bool]]) -> dict[str, int]:
        query = (
            sa.select(AUDIT.c.action, sa.func.count())
            .where(AUDIT.c.action.in_(VIDEO_ACTIONS), *period)
            .group_by(AUDIT.c.action)
        )
        counted = {str(action): int(n) for action, n in conn.execute(query).all()}
        # A queued video cancelled is logged as cancel_requested only; a running one as both
        # (then cancelled when its worker stops): one video, counted once.
        cancels = (
            sa.select(sa.func.count(sa.distinct(AUDIT.c.target_id)))
            .select_from(AUDIT)
            .where(AUDIT.c.action.in_(("video.cancelled", "video.cancel_requested")), *period)
        )
        counted["video.cancelled"] = int(conn.execute(cancels).scalar_one())
        return {action.removeprefix("video."): counted.get(action, 0) for action in VIDEO_ACTIONS}

    @staticmethod
    def _made(conn: Connection, since: float, until: float) -> list[MadeCount]:
        """Completed videos joined to their admission (the row that names model and backend)."""
        done = AUDIT.alias("done")
        admitted = AUDIT.alias("admitted")
        model = _field(conn, "model", admitted.c.detail)
        backend = _field(conn, "backend", admitted.c.detail)
        seconds = sa.cast(_field(conn, "seconds", done.c.detail), sa.Float)
        query = (
            sa.select(model, backend, sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0.0))
            .select_from(
                done.outerjoin(
                    admitted,
                    sa.and_(
                        admitted.c.target_id == done.c.target_id,
                        admitted.c.action == "video.admitted",
                    ),
                )
            )
            .where(done.c.action == "video.completed", *_within(done, since, until))
            .group_by(model, backend)
        )
        rows = conn.execute(query).all()
        made = [
            MadeCount(
                model=None if m is None else str(m),
                backend=None if b is None else str(b),
                videos=int(n),
                seconds=round(float(s), 3),
            )
            for m, b, n, s in rows
        ]
        return sorted(made, key=lambda c: (-c.videos, c.model or "", c.backend or ""))

    @staticmethod
    def _refusals(
        conn: Connection, period: Sequence[sa.ColumnElement[bool]], key: sa.ColumnElement[str]
    ) -> list[Tally]:
        query = (
            sa.select(key, sa.func.count())
            .where(AUDIT.c.action == "video.refused", *period)
            .group_by(key)
        )
        tallies = [
            Tally(str(k).removeprefix("denied:"), int(n))
            for k, n in conn.execute(query).all()
            if k is not None
        ]
        return sorted(tallies, key=lambda t: (-t.count, t.key))

    @staticmethod
    def _revoked(conn: Connection, period: Sequence[sa.ColumnElement[bool]]) -> dict[str, int]:
        reason = _field(conn, "reason")
        kind = sa.case(
            (reason.like(AUTOMATIC_PREFIX + "%"), "automatic"),
            (reason.like(ROTATED_PREFIX + "%"), "rotated"),
            else_="by_hand",
        )
        query = (
            sa.select(kind, sa.func.count())
            .where(AUDIT.c.action == "token.revoked", *period)
            .group_by(kind)
        )
        counted = {str(k): int(n) for k, n in conn.execute(query).all()}
        return {k: counted.get(k, 0) for k in ("automatic", "by_hand", "rotated")}

    @staticmethod
    def _pauses(conn: Connection, period: Sequence[sa.ColumnElement[bool]]) -> list[PublicPause]:
        public = sa.or_(AUDIT.c.target_id == "all", AUDIT.c.target_id.like("model:%"))
        query = (
            sa.select(AUDIT.c.ts, AUDIT.c.target_id, _field(conn, "reason"))
            .where(AUDIT.c.action == "admin.pause", public, *period)
            .order_by(AUDIT.c.seq.desc())
            .limit(MAX_PAUSES)
        )
        pauses = []
        for ts, target, reason in conn.execute(query).all():
            scope, _, model = str(target).partition(":")
            pauses.append(PublicPause(float(ts), scope, model or None, str(reason or "")))
        return pauses

    @staticmethod
    def _private_pauses(conn: Connection, period: Sequence[sa.ColumnElement[bool]]) -> int:
        private = sa.or_(AUDIT.c.target_id.like("principal:%"), AUDIT.c.target_id.like("token:%"))
        query = (
            sa.select(sa.func.count())
            .select_from(AUDIT)
            .where(AUDIT.c.action == "admin.pause", private, *period)
        )
        return int(conn.execute(query).scalar_one())

    @staticmethod
    def _lookups(conn: Connection, period: Sequence[sa.ColumnElement[bool]]) -> list[Tally]:
        query = (
            sa.select(AUDIT.c.action, AUDIT.c.outcome, sa.func.count())
            .where(AUDIT.c.action.in_(LOOKUP_ACTIONS), *period)
            .group_by(AUDIT.c.action, AUDIT.c.outcome)
        )
        tallies = [
            Tally(f"{str(action).removeprefix('provenance.')}:{outcome}", int(n))
            for action, outcome, n in conn.execute(query).all()
        ]
        return sorted(tallies, key=lambda t: t.key)


def _within(table: sa.FromClause, since: float, until: float) -> tuple[sa.ColumnElement[bool], ...]:
    """Rows of ``table`` (the audit table or an alias of it) in ``[since, until)``."""
    return (table.c.ts >= since, table.c.ts < until)


def _field(
    conn: Connection, key: str, column: sa.ColumnElement[str] | None = None
) -> sa.ColumnElement[str]:
    """``detail``'s top-level ``key`` as SQL (NULL where absent), in the connection's dialect."""
    column = AUDIT.c.detail if column is None else column
    if conn.dialect.name == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(column, sa.JSON), key)
    return sa.func.json_extract(column, f"$.{key}")
