"""Jobs whose worker is gone, and the bookkeeping owed once jobs end.

Workers die, servers restart and cancelled jobs lose their worker; nothing else would ever
finish those rows. They are dealt with here: requeued at startup, listed for a distributed
queue to resend, failed after too many attempts, or closed by :func:`sweep`, the step every
claim runs first. :func:`settle_ended` is what every transaction that may end a job runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.domain import Job, JobError
from openreel.storage import usage as ledger
from openreel.storage.db import JOBS
from openreel.storage.jobs.records import (
    QUEUED,
    RUNNING,
    abandoned,
    claimable,
    failed_values,
    to_job,
)
from openreel.storage.jobs.table import JobTable
from openreel.storage.prompts import PromptPolicy, scrub_prompts
from openreel.storage.webhook_outbox import record_ended

CANCELLED_WHILE_ABANDONED = JobError(
    code="cancelled",
    message="the video was cancelled",
    type="invalid_request_error",
)
"""Error of a job cancelled while running whose worker stopped before finishing it."""


def settle_ended(conn: Connection, now: float, prompts: PromptPolicy) -> None:
    """What every transaction that may end a job does: settle the quota ledger, write the
    webhook events of jobs that have just ended (the outbox) and, when the operator keeps no
    prompts, scrub those jobs' prompts."""
    ledger.settle(conn, now)
    record_ended(conn, now)
    if prompts != "full":
        scrub_prompts(conn, prompts)


def close_abandoned(conn: Connection, now: float) -> None:
    """Fails cancelled jobs that no worker will finish (requeued, or lease expired)."""
    conn.execute(
        sa.update(JOBS).where(abandoned(now)).values(failed_values(CANCELLED_WHILE_ABANDONED, now))
    )


def fail_exhausted_jobs(conn: Connection, now: float, max_attempts: int) -> int:
    """Fails claimable jobs already claimed ``max_attempts`` times, as ``worker_lost``.

    Returns:
        How many jobs failed.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1; got {max_attempts!r}")
    error = JobError(
        code="worker_lost",
        message=(
            f"the video was interrupted {max_attempts} time"
            f"{'' if max_attempts == 1 else 's'} (its worker stopped) and was given up"
        ),
        type="server_error",
    )
    result = conn.execute(
        sa.update(JOBS)
        .where(claimable(now), JOBS.c.attempts >= max_attempts)
        .values(failed_values(error, now))
    )
    return int(result.rowcount)


def sweep(conn: Connection, now: float, *, max_attempts: int | None, prompts: PromptPolicy) -> None:
    """The housekeeping a claim does first, in its own transaction.

    Closes cancelled jobs whose worker is gone, fails jobs claimed ``max_attempts`` times
    already (when given), then settles what those ended (:func:`settle_ended`), so the job
    the claim then takes is never one that can only fail.
    """
    close_abandoned(conn, now)
    if max_attempts is not None:
        fail_exhausted_jobs(conn, now, max_attempts)
    settle_ended(conn, now, prompts)


class JobRecovery(JobTable):
    """Finding and closing jobs whose worker stopped (see the module docstring)."""

    def recover_interrupted(self) -> int:
        """Requeues every ``in_progress`` job, for a server starting up.

        Only call this while holding the data-folder lock (``storage.lock.DataDirLock``):
        then no other worker can be running, so every ``in_progress`` row was interrupted.
        Requeued jobs keep their attempts and their progress (progress never goes backwards
        for clients) and get phase ``requeued``. Interrupted jobs that were being cancelled
        fail as cancelled instead.

        Returns:
            How many jobs were requeued.
        """
        now = self._clock()
        with self._db.begin() as conn:
            conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.status == RUNNING, JOBS.c.cancel_requested.is_(True))
                .values(failed_values(CANCELLED_WHILE_ABANDONED, now))
            )
            settle_ended(conn, now, self._prompts)
            result = conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.status == RUNNING)
                .values(status=QUEUED, worker=None, lease_until=None, phase="requeued")
            )
        return int(result.rowcount)

    def orphans(self, limit: int = 10_000) -> list[Job]:
        """Jobs a distributed queue may hold no message for, oldest first.

        Queued jobs (the process that wrote one may have died before sending it) and running
        jobs whose lease ran out (their worker died and the message may be gone with it).
        Unlike :meth:`recover_interrupted` this changes nothing, so it is safe while other
        servers' workers run: a job sent twice is claimed once.
        """
        now = self._clock()
        query = (
            sa.select(*JOBS.c)
            .where(claimable(now))
            .order_by(JOBS.c.created_at, JOBS.c.seq)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [to_job(row._mapping) for row in conn.execute(query)]

    def fail_exhausted(self, max_attempts: int) -> int:
        """Fails jobs that would need more than ``max_attempts`` claims (a poison pill).

        A job that has been claimed ``max_attempts`` times and is claimable again (queued
        after a restart, or its lease ran out) has killed or outlived that many workers;
        running it again would likely do the same. It fails with code ``worker_lost``.

        Returns:
            How many jobs failed.
        """
        with self._db.begin() as conn:
            now = self._clock()
            failed = fail_exhausted_jobs(conn, now, max_attempts)
            settle_ended(conn, now, self._prompts)
            return failed
