"""PauseStore: the kill switches in force, read on every admission and every claim.

A pause has a scope (``all``, ``model``, ``principal`` or ``token``) and a target (empty for
``all``; otherwise the model id, principal id or token id). New work that matches any pause is
refused, and workers never claim a queued job that matches one, so pausing takes effect on
the next request and the next claim, in every process that shares the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from openreel.errors import InvalidRequestError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import JOBS, PAUSES, Database

__all__ = ["SCOPES", "Pause", "PauseScope", "PauseStore", "paused_job"]

PauseScope = Literal["all", "model", "principal", "token"]
SCOPES: tuple[PauseScope, ...] = ("all", "model", "principal", "token")


@dataclass(frozen=True, slots=True)
class Pause:
    """One kill switch in force.

    Attributes:
        scope: What it stops: ``all``, one ``model``, one ``principal`` or one ``token``.
        target: The model id, principal id or token id ('' for ``all``).
        reason: Told to everyone whose work it refuses.
        created_at: Unix seconds.
        created_by: Principal id of the admin who set it (None: the command line).
    """

    scope: PauseScope
    target: str
    reason: str
    created_at: float
    created_by: str | None


def paused_job() -> sa.ColumnElement[bool]:
    """SQL that is true for a ``jobs`` row some pause matches (used by the claim)."""
    return sa.exists().where(
        sa.or_(
            PAUSES.c.scope == "all",
            sa.and_(PAUSES.c.scope == "model", PAUSES.c.target == JOBS.c.model),
            sa.and_(PAUSES.c.scope == "principal", PAUSES.c.target == JOBS.c.owner_id),
            sa.and_(PAUSES.c.scope == "token", PAUSES.c.target == JOBS.c.token_id),
        )
    )


class PauseStore:
    """Pauses: set, lift, list and match."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        audit: AuditStore | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        # Asked on every create: built once, as building it cost more than running it.
        self._matching = (
            sa.select(PAUSES)
            .where(
                sa.or_(
                    PAUSES.c.scope == "all",
                    sa.and_(PAUSES.c.scope == "model", PAUSES.c.target == sa.bindparam("model")),
                    sa.and_(PAUSES.c.scope == "principal", PAUSES.c.target == sa.bindparam("who")),
                    sa.and_(PAUSES.c.scope == "token", PAUSES.c.target == sa.bindparam("token")),
                )
            )
            .order_by(
                sa.case((PAUSES.c.scope == "all", 0), (PAUSES.c.scope == "model", 1), else_=2)
            )
            .limit(1)
        )

    def _log(
        self,
        conn: Connection,
        action: str,
        scope: str,
        target: str,
        actor_id: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if self._audit is not None:
            entry = AuditEntry(
                action=action,
                actor_id=actor_id,
                target_id=f"{scope}:{target}" if target else scope,
                detail=detail,
            )
            self._audit.append(conn, entry)

    def pause(
        self, scope: PauseScope, target: str, reason: str, *, created_by: str | None = None
    ) -> Pause:
        """Sets a pause; setting one that exists replaces its reason.

        Raises:
            InvalidRequestError: Unknown scope, a target for ``all`` or none for the others,
                or an empty reason.
        """
        scope, target = _checked(scope, target)
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise InvalidRequestError.for_value("reason", reason, "must say why (it is shown)")
        pause = Pause(scope, target, reason[:500], self._clock(), created_by)
        values = {
            "scope": scope,
            "target": target,
            "reason": pause.reason,
            "created_at": pause.created_at,
            "created_by": created_by,
        }
        with self._db.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(PAUSES).values(values))
            except IntegrityError:
                conn.execute(
                    sa.update(PAUSES)
                    .where(PAUSES.c.scope == scope, PAUSES.c.target == target)
                    .values(values)
                )
            self._log(conn, "admin.pause", scope, target, created_by, {"reason": pause.reason})
        return pause

    def resume(self, scope: PauseScope, target: str, *, by: str | None = None) -> bool:
        """Lifts a pause; returns whether there was one.

        Raises:
            InvalidRequestError: Unknown scope or a malformed target.
        """
        scope, target = _checked(scope, target)
        with self._db.begin() as conn:
            result = conn.execute(
                sa.delete(PAUSES).where(PAUSES.c.scope == scope, PAUSES.c.target == target)
            )
            if result.rowcount:
                self._log(conn, "admin.resume", scope, target, by)
        return bool(result.rowcount)

    def list(self) -> list[Pause]:
        """Every pause in force, oldest first."""
        with self._db.query() as conn:
            rows = conn.execute(sa.select(PAUSES).order_by(PAUSES.c.created_at)).all()
        return [_pause(row._mapping) for row in rows]

    def matching(self, *, model: str, principal_id: str, token_id: str | None) -> Pause | None:
        """The pause that refuses new work of this shape, if any (``all`` first)."""
        asked = {"model": model, "who": principal_id, "token": token_id or ""}
        with self._db.query() as conn:
            row = conn.execute(self._matching, asked).first()
        return None if row is None else _pause(row._mapping)


def _checked(scope: str, target: str) -> tuple[PauseScope, str]:
    if scope not in SCOPES:
        raise InvalidRequestError.for_value("scope", scope, f"must be one of {', '.join(SCOPES)}")
    target = target.strip() if isinstance(target, str) else ""
    if scope == "all" and target:
        raise InvalidRequestError.for_value("target", target, "must be empty for scope all")
    if scope != "all" and not target:
        raise InvalidRequestError(f"scope {scope} needs a target", param="target")
    return scope, target


def _pause(row: sa.RowMapping) -> Pause:
    scope = str(row["scope"])
    if scope not in SCOPES:
        raise ValueError(f"unknown pause scope in the database: {scope!r}")
    return Pause(
        scope=scope,  # checked just above
        target=str(row["target"]),
        reason=str(row["reason"]),
        created_at=float(row["created_at"]),
        created_by=None if row["created_by"] is None else str(row["created_by"]),
    )
