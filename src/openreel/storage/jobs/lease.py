"""The lease protocol: how a worker comes to hold a job, keeps it, and learns it lost it.

A worker never holds a job without a lease that runs out unless renewed, so a job whose
worker died becomes claimable again by itself. Every step is one conditional UPDATE, so two
workers, two processes or a worker and a cancelling user can never both win.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from openreel.domain import Job
from openreel.storage.db import JOBS
from openreel.storage.jobs.records import (
    QUEUED,
    RUNNING,
    abandoned,
    claimable,
    dumps,
    owned_by,
    to_job,
)
from openreel.storage.jobs.recovery import sweep
from openreel.storage.jobs.table import JobTable
from openreel.storage.pauses import paused_job


@dataclass(frozen=True, slots=True)
class Beat:
    """One held job's news for :meth:`JobStore.heartbeat_many`.

    Attributes:
        job_id: The job.
        worker: The worker holding it.
        progress: Percent done, or None to leave it.
        phase: What the worker is doing now, or None to leave it.
        interpretation: What the backend understood, or None to leave it.
    """

    job_id: str
    worker: str
    progress: int | None = None
    phase: str | None = None
    interpretation: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LeaseState:
    """What :meth:`JobStore.lease_states` read of one held job.

    Attributes:
        held: Whether the job is still ``in_progress`` under the asking worker.
        cancel_requested: Whether someone asked to stop it (a deleted job counts as asked).
    """

    held: bool
    cancel_requested: bool


def claim_filter(
    now: float | sa.BindParameter[Any],
    models: Collection[str] | sa.BindParameter[Any] | None,
    job_id: str | sa.BindParameter[Any] | None,
) -> sa.ColumnElement[bool]:
    """The rows a claim may take: claimable, matched by no pause (a job some kill switch
    matches stays queued until the pause is lifted), of ``models`` and ``job_id`` when given."""
    rule = sa.and_(claimable(now), ~paused_job())
    if models is not None:
        rule = sa.and_(rule, JOBS.c.model.in_(models))
    if job_id is not None:
        rule = sa.and_(rule, JOBS.c.id == job_id)
    return rule


class JobLease(JobTable):
    """Claiming, taking and renewing jobs, and telling a worker whether it still holds one."""

    @cached_property
    def _take_statement(self) -> sa.Update:
        """:meth:`take`'s UPDATE, built once per store (it runs in an early start's path)."""
        return (
            sa.update(JOBS)
            .where(
                JOBS.c.id == sa.bindparam("job_id"),
                JOBS.c.status == QUEUED,
                JOBS.c.cancel_requested.is_(False),
                ~paused_job(),
            )
            .values(
                status=RUNNING,
                worker=sa.bindparam("taker"),
                attempts=JOBS.c.attempts + 1,
                lease_until=sa.bindparam("until"),
                started_at=sa.func.coalesce(JOBS.c.started_at, sa.bindparam("began")),
                phase=sa.bindparam("step"),
                progress=sa.bindparam("done"),
            )
            .returning(*JOBS.c)
        )

    @cached_property
    def _probes(self) -> dict[tuple[bool, bool], sa.Select[tuple[int]]]:
        """An idle worker asks for work after every job and on every wake-up: the question,
        built once for each shape it comes in (any model or some; any job or one)."""
        return {}

    def _probe(self, by_model: bool, by_id: bool) -> sa.Select[tuple[int]]:
        """Whether anything is claimable or abandoned, as a read (see :meth:`claim`)."""
        probe = self._probes.get((by_model, by_id))
        if probe is None:
            now: sa.BindParameter[Any] = sa.bindparam("now")
            candidate = claim_filter(
                now,
                sa.bindparam("models", expanding=True) if by_model else None,
                sa.bindparam("job_id") if by_id else None,
            )
            probe = sa.select(JOBS.c.seq).where(sa.or_(candidate, abandoned(now))).limit(1)
            self._probes[by_model, by_id] = probe
        return probe

    def claim(
        self,
        worker: str,
        *,
        lease_seconds: float,
        models: Collection[str] | None = None,
        max_attempts: int | None = None,
        job_id: str | None = None,
    ) -> Job | None:
        """Atomically takes the oldest job this worker can run, with a lease.

        Claimable: a ``queued`` job that nobody asked to cancel, or an ``in_progress`` job
        whose lease has run out (its worker died). The job becomes ``in_progress`` with
        ``worker``, ``attempts + 1``, ``lease_until = now + lease_seconds``, ``started_at``
        (first claim only) and phase ``starting``. On SQLite this is one ``BEGIN IMMEDIATE``
        transaction around ``UPDATE ... WHERE seq = (SELECT ... LIMIT 1) RETURNING``; on
        PostgreSQL the inner SELECT uses ``FOR UPDATE SKIP LOCKED``.

        In the same transaction, before claiming, the recovery sweep
        (:func:`~openreel.storage.jobs.recovery.sweep`) closes jobs that can never finish
        normally: cancelled jobs whose worker is gone fail as ``cancelled``, and, when
        ``max_attempts`` is given, jobs already claimed that many times fail as
        ``worker_lost`` (see :meth:`~openreel.storage.jobs.recovery.JobRecovery.fail_exhausted`);
        then it settles the quota ledger and scrubs prompts of what ended.

        Args:
            worker: Unique id of the claiming worker (also written to the row).
            lease_seconds: How long the lease lasts without a heartbeat.
            models: Only claim jobs for these models; None means any model.
            max_attempts: Give up on jobs claimed this many times already; None never does.
            job_id: Claim only this job (a Celery task names the job it was sent for).

        Returns:
            The claimed job, or None when nothing is claimable.
        """
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive; got {lease_seconds!r}")
        wanted = None if models is None else sorted(set(models))
        if wanted == []:
            return None
        now = self._clock()
        # Idle workers ask often; a read answers "nothing to do" without taking the write lock.
        # It looks for everything the write below would touch: a job to claim (exhausted ones
        # are claimable too) or an abandoned cancelled one to close.
        asked: dict[str, Any] = {"now": now}
        if wanted is not None:
            asked["models"] = wanted
        if job_id is not None:
            asked["job_id"] = job_id
        with self._db.read() as conn:
            probe = self._probe(wanted is not None, job_id is not None)
            if conn.execute(probe, asked).first() is None:
                return None
        candidate = sa.select(JOBS.c.seq).where(claim_filter(now, wanted, job_id))
        with self._db.begin() as conn:
            sweep(conn, now, max_attempts=max_attempts, prompts=self._prompts)
            candidate = (
                candidate.order_by(JOBS.c.created_at, JOBS.c.seq)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.seq == candidate.scalar_subquery())
                .values(
                    status=RUNNING,
                    worker=worker,
                    attempts=JOBS.c.attempts + 1,
                    lease_until=now + lease_seconds,
                    started_at=sa.func.coalesce(JOBS.c.started_at, now),
                    phase="starting",
                )
                .returning(*JOBS.c)
            ).first()
        if row is None:
            return None
        claimed = to_job(row._mapping)
        self._changed(claimed.id)
        return claimed

    def take(
        self,
        job_id: str,
        worker: str,
        *,
        lease_seconds: float,
        started_at: float | None = None,
        progress: int = 0,
        phase: str = "starting",
    ) -> Job | None:
        """Claims the named job for ``worker`` if it is still queued, as :meth:`claim` would.

        The embedded queue's early start uses it: a worker that began rendering a job while
        its row was being written takes that row, and only that row, once it is committed.
        One short statement (built once), without :meth:`claim`'s sweep: this worker
        already knows which job it wants, and the next ordinary claim does the rest.

        Args:
            job_id: The job.
            worker: The worker taking it.
            lease_seconds: Lease length, from now.
            started_at: When the work began (before the row existed); now by default.
            progress: How far the work already is (0-100).
            phase: What the worker is doing now.

        Returns:
            The job, now ``in_progress`` under ``worker``; None when it is no longer queued
            (another worker took it, it was cancelled or deleted) or a pause matches it.
        """
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive; got {lease_seconds!r}")
        now = self._clock()
        values = {
            "job_id": job_id,
            "taker": worker,
            "until": now + lease_seconds,
            "began": now if started_at is None else min(started_at, now),
            "step": phase,
            "done": max(0, min(100, int(progress))),
        }
        with self._db.begin() as conn:
            row = conn.execute(self._take_statement, values).first()
        if row is None:
            return None
        taken = to_job(row._mapping)
        self._changed(taken.id)
        return taken

    def heartbeat(
        self,
        job_id: str,
        worker: str,
        *,
        lease_seconds: float,
        progress: int | None = None,
        phase: str | None = None,
        interpretation: Mapping[str, Any] | None = None,
    ) -> bool:
        """Renews the worker's lease and records its progress.

        Progress never goes backwards for clients: the stored value becomes
        ``max(old, new)``, with ``new`` clamped to 0..100.

        Args:
            job_id: The job.
            worker: The worker that claimed it.
            lease_seconds: New lease length, counted from now.
            progress: Percent done, or None to leave it.
            phase: What the worker is doing now, or None to leave it.
            interpretation: What the backend understood, once known, or None to leave it.

        Returns:
            True while the worker still owns the job; False when the job is no longer
            ``in_progress`` under this worker (reclaimed, failed, deleted): the worker has lost
            it and must stop without writing results.
        """
        values: dict[str, Any] = {"lease_until": self._clock() + lease_seconds}
        if progress is not None:
            value = max(0, min(100, int(progress)))
            values["progress"] = sa.case((JOBS.c.progress < value, value), else_=JOBS.c.progress)
        if phase is not None:
            values["phase"] = phase
        if interpretation is not None:
            values["interpretation"] = dumps(dict(interpretation))
        with self._db.begin() as conn:
            result = conn.execute(sa.update(JOBS).where(*owned_by(job_id, worker)).values(values))
        owned = bool(result.rowcount == 1)
        if owned:
            self._changed(job_id)
        return owned

    def heartbeat_many(self, beats: Collection[Beat], *, lease_seconds: float) -> None:
        """:meth:`heartbeat` for many jobs in one transaction and one prepared statement.

        A pool following hundreds of hosted jobs renews their leases this way instead of
        queueing hundreds of write transactions for SQLite's one write lock. Rows no longer
        held by their worker are left alone; :meth:`lease_states` tells the worker.
        """
        if not beats:
            return
        until = self._clock() + lease_seconds
        statement = (
            sa.update(JOBS)
            .where(*owned_by(sa.bindparam("b_id"), sa.bindparam("b_worker")))
            .values(
                lease_until=until,
                progress=sa.case(
                    (JOBS.c.progress < sa.bindparam("b_progress"), sa.bindparam("b_progress")),
                    else_=JOBS.c.progress,
                ),
                phase=sa.func.coalesce(sa.bindparam("b_phase", type_=sa.String), JOBS.c.phase),
                interpretation=sa.func.coalesce(
                    sa.bindparam("b_interpretation", type_=sa.Text), JOBS.c.interpretation
                ),
            )
        )
        rows = [
            {
                "b_id": beat.job_id,
                "b_worker": beat.worker,
                "b_progress": -1 if beat.progress is None else max(0, min(100, beat.progress)),
                "b_phase": beat.phase,
                "b_interpretation": (
                    None if beat.interpretation is None else dumps(dict(beat.interpretation))
                ),
            }
            for beat in beats
        ]
        with self._db.begin() as conn:
            conn.execute(statement, rows)
        for beat in beats:
            self._changed(beat.job_id)

    def lease_states(self, held: Mapping[str, str]) -> dict[str, LeaseState]:
        """Whether each job is still held by its worker and whether it should stop, in one read.

        Args:
            held: Job id to the worker that believes it holds the job.

        Returns:
            A state for every id in ``held``; a job that no longer exists is neither held nor
            anything but cancelled.
        """
        if not held:
            return {}
        found: dict[str, LeaseState] = {}
        columns = (JOBS.c.id, JOBS.c.worker, JOBS.c.status, JOBS.c.cancel_requested)
        ids = list(held)
        with self._db.read() as conn:
            for start in range(0, len(ids), 500):  # SQLite caps bound parameters per statement
                chunk = ids[start : start + 500]
                for row in conn.execute(sa.select(*columns).where(JOBS.c.id.in_(chunk))):
                    found[row.id] = LeaseState(
                        held=row.status == RUNNING and row.worker == held[row.id],
                        cancel_requested=bool(row.cancel_requested),
                    )
        gone = LeaseState(held=False, cancel_requested=True)
        return {job_id: found.get(job_id, gone) for job_id in held}

    def is_cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked to stop this job (one indexed single-column read).

        A job that no longer exists (deleted while running) counts as cancelled.
        """
        with self._db.read() as conn:
            value = conn.execute(
                sa.select(JOBS.c.cancel_requested).where(JOBS.c.id == job_id)
            ).scalar_one_or_none()
        return True if value is None else bool(value)
