"""The ``jobs`` table: every video's record, and the claim/lease protocol workers follow.

A job moves queued -> in_progress -> completed | failed. Workers never hold a job without a
lease: :meth:`JobStore.claim` hands out the oldest claimable job together with a lease that
expires ``lease_seconds`` later, :meth:`JobStore.heartbeat` renews it, and a job whose lease
ran out (its worker died) is claimable again. Every state change is one conditional UPDATE, so
two workers, two processes or a worker and a cancelling user can never both win.

The reference image of a request is not stored in the row: the caller saves it through the
artifact store and passes its relative path (``input_reference_path``); jobs read back carry
``request.input_reference = None`` and :meth:`JobStore.get_input_reference` says where the
image is.

Imports: storage.db, domain, errors, SQLAlchemy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import ConflictError, InvalidRequestError, NotFoundError
from openreel.storage import usage as ledger
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.content import ContentRecord, record_content
from openreel.storage.db import JOBS, Database
from openreel.storage.pauses import paused_job
from openreel.storage.prompts import PromptPolicy, scrub_prompts
from openreel.storage.usage import Quota, UsageReport

__all__ = [
    "CANCELLED_BEFORE_START",
    "CANCELLED_WHILE_ABANDONED",
    "Beat",
    "InputReference",
    "JobPage",
    "JobStore",
    "LeaseState",
]

CANCELLED_BEFORE_START = JobError(
    code="cancelled",
    message="the video was cancelled before it started",
    type="invalid_request_error",
)
"""Error of a queued job that was cancelled."""

CANCELLED_WHILE_ABANDONED = JobError(
    code="cancelled",
    message="the video was cancelled",
    type="invalid_request_error",
)
"""Error of a job cancelled while running whose worker stopped before finishing it."""

_QUEUED = JobStatus.QUEUED.value
_RUNNING = JobStatus.IN_PROGRESS.value
_COMPLETED = JobStatus.COMPLETED.value
_FAILED = JobStatus.FAILED.value


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of a job listing.

    Attributes:
        items: The jobs, in the order asked for.
        has_more: Whether more jobs follow the last one (pass its id as ``after``).
    """

    items: list[Job]
    has_more: bool

    @property
    def first_id(self) -> str | None:
        """Id of the first item (OpenAI list field ``first_id``)."""
        return self.items[0].id if self.items else None

    @property
    def last_id(self) -> str | None:
        """Id of the last item, the cursor for the next page (``last_id``)."""
        return self.items[-1].id if self.items else None


@dataclass(frozen=True, slots=True)
class InputReference:
    """Where a job's reference image lies and what it is.

    Attributes:
        path: Path relative to the artifact store (resolve it with ``ArtifactStore.resolve``).
        media_type: Its MIME type.
        width: Width in pixels.
        height: Height in pixels.
    """

    path: str
    media_type: str
    width: int
    height: int


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


class JobStore:
    """Reads and changes job rows.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
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
        # Built once: a status poll runs this on every request, and building the statement
        # cost about as much as running it (benchmarks/api.py).
        self._by_id = sa.select(JOBS).where(JOBS.c.id == sa.bindparam("job_id"))
        self._insert = sa.insert(JOBS).returning(*JOBS.c)
        self._take = (
            sa.update(JOBS)
            .where(
                JOBS.c.id == sa.bindparam("job_id"),
                JOBS.c.status == _QUEUED,
                JOBS.c.cancel_requested.is_(False),
                ~paused_job(),
            )
            .values(
                status=_RUNNING,
                worker=sa.bindparam("taker"),
                attempts=JOBS.c.attempts + 1,
                lease_until=sa.bindparam("until"),
                started_at=sa.func.coalesce(JOBS.c.started_at, sa.bindparam("began")),
                phase=sa.bindparam("step"),
                progress=sa.bindparam("done"),
            )
            .returning(*JOBS.c)
        )
        # The completion runs once a video, between the finished file and the client seeing
        # it; building its statement took about as long as running it.
        self._complete = (
            sa.update(JOBS)
            .where(*_owned_by(sa.bindparam("job_id"), sa.bindparam("holder")))
            .values(
                status=_COMPLETED,
                progress=100,
                phase="done",
                completed_at=sa.bindparam("now"),
                lease_until=None,
                artifacts=sa.bindparam("files"),
                interpretation=sa.bindparam("understood"),
                total_seconds=sa.bindparam("length"),
                expires_at=sa.bindparam("expiry"),
            )
            .returning(*JOBS.c)
        )
        # An idle worker asks for work after every job and on every wake-up: the question,
        # built once for each shape it comes in (any model or some; any job or one).
        self._probes: dict[tuple[bool, bool], sa.Select[tuple[int]]] = {}

    def _probe(self, by_model: bool, by_id: bool) -> sa.Select[tuple[int]]:
        """Whether anything is claimable or abandoned, as a read (see :meth:`claim`)."""
        probe = self._probes.get((by_model, by_id))
        if probe is None:
            now: sa.BindParameter[Any] = sa.bindparam("now")
            candidate = _claim_filter(
                now,
                sa.bindparam("models", expanding=True) if by_model else None,
                sa.bindparam("job_id") if by_id else None,
            )
            probe = sa.select(JOBS.c.seq).where(sa.or_(candidate, _abandoned(now))).limit(1)
            self._probes[by_model, by_id] = probe
        return probe

    def now(self) -> float:
        """The store's clock: leases and timestamps are in its time."""
        return self._clock()

    def _log(self, conn: Connection, action: str, job_id: str, **fields: Any) -> None:
        """Appends an audit row for ``job_id`` inside the transaction that made the change."""
        if self._audit is not None:
            self._audit.append(conn, AuditEntry(action=action, target_id=job_id, **fields))

    def _settle(self, conn: Connection, now: float) -> None:
        """What every transaction that may end a job does: settle the quota ledger and, when
        the operator keeps no prompts, scrub those of jobs that have just ended."""
        ledger.settle(conn, now)
        if self._prompts != "full":
            scrub_prompts(conn, self._prompts)

    def _changed(self, job_id: str) -> None:
        """Tells the listener (live progress streams) that a committed change hit ``job_id``."""
        if self._on_change is not None:
            self._on_change(job_id)

    # -- creating and reading ------------------------------------------------------------------

    def create(
        self,
        job: Job,
        *,
        input_reference_path: str | None = None,
        quota: Quota | None = None,
    ) -> Job:
        """Stores a new job, admitting it against its owner's quota in the same transaction.

        Args:
            job: The job; a ``created_at`` of 0 means "now" by this store's clock.
            input_reference_path: Relative path of the saved reference image; required
                exactly when ``job.request.input_reference`` is set, because the image bytes
                themselves are not stored in the row.
            quota: The owner's limits; its seconds are reserved with the job (see
                :mod:`openreel.storage.usage`). None admits without accounting.

        Returns:
            The job as stored (and as :meth:`get` would return it).

        Raises:
            RateLimitError: Over the concurrent cap or the period's seconds.
            InvalidRequestError: The video alone exceeds the whole allowance.
            ConflictError: A job with this id exists.
            ValueError: ``input_reference_path`` and the request's image disagree (a bug in
                the caller, not a user error).
        """
        if (job.request.input_reference is None) != (input_reference_path is None):
            raise ValueError(
                "input_reference_path must be given exactly when the request has an input_reference"
            )
        if job.created_at == 0.0:
            job = replace(job, created_at=self._clock())
        values = _job_values(job)
        values["input_reference_path"] = input_reference_path
        try:
            with self._db.begin() as conn:
                if quota is not None:
                    ledger.admit(
                        conn,
                        job_id=job.id,
                        owner_id=job.owner_id,
                        seconds=float(job.request.seconds),
                        now=self._clock(),
                        quota=quota,
                    )
                row = conn.execute(self._insert, values).one()
                self._log(
                    conn,
                    "video.admitted",
                    job.id,
                    actor_id=job.owner_id,
                    token_id=job.token_id,
                    detail={"model": job.request.model, "seconds": job.request.seconds},
                )
        except IntegrityError as exc:
            raise ConflictError(f"video {job.id} already exists") from exc
        return _to_job(row._mapping)

    def get(self, job_id: str) -> Job:
        """The job with this id.

        Raises:
            NotFoundError: No such job.
        """
        with self._db.query() as conn:
            row = conn.execute(self._by_id, {"job_id": job_id}).first()
        if row is None:
            raise _not_found(job_id)
        return _to_job(row._mapping)

    def get_input_reference_path(self, job_id: str) -> str | None:
        """Relative path of the job's reference image, or None when it has none.

        Raises:
            NotFoundError: No such job.
        """
        reference = self.get_input_reference(job_id)
        return None if reference is None else reference.path

    def get_input_reference(self, job_id: str) -> InputReference | None:
        """The job's reference image (path, type, size), or None when it has none.

        Raises:
            NotFoundError: No such job.
        """
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(JOBS.c.input_reference_path, JOBS.c.request).where(JOBS.c.id == job_id)
            ).first()
        if row is None:
            raise _not_found(job_id)
        path = row._mapping["input_reference_path"]
        if path is None:
            return None
        summary = json.loads(row._mapping["request"]).get("input_reference") or {}
        return InputReference(
            path=str(path),
            media_type=str(summary.get("media_type", "application/octet-stream")),
            width=int(summary.get("width", 0)),
            height=int(summary.get("height", 0)),
        )

    def count_active(self, owner_id: str) -> int:
        """How many of an owner's jobs are queued or in progress (for concurrency limits)."""
        with self._db.read() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(JOBS)
                .where(JOBS.c.owner_id == owner_id, JOBS.c.status.in_((_QUEUED, _RUNNING)))
            ).scalar_one()
        return int(count)

    # -- the worker protocol ---------------------------------------------------------------------

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

        In the same transaction, before claiming, jobs that can never finish normally are
        closed: cancelled jobs whose worker is gone fail as ``cancelled``, and, when
        ``max_attempts`` is given, jobs already claimed that many times fail as
        ``worker_lost`` (see :meth:`fail_exhausted`).

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
        candidate = sa.select(JOBS.c.seq).where(_claim_filter(now, wanted, job_id))
        with self._db.begin() as conn:
            self._close_abandoned(conn, now)
            if max_attempts is not None:
                self._fail_exhausted(conn, now, max_attempts)
            self._settle(conn, now)
            candidate = (
                candidate.order_by(JOBS.c.created_at, JOBS.c.seq)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.seq == candidate.scalar_subquery())
                .values(
                    status=_RUNNING,
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
        claimed = _to_job(row._mapping)
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
        One short statement (built once), without :meth:`claim`'s housekeeping: this worker
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
            row = conn.execute(self._take, values).first()
        if row is None:
            return None
        taken = _to_job(row._mapping)
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
            values["interpretation"] = _dumps(dict(interpretation))
        with self._db.begin() as conn:
            result = conn.execute(sa.update(JOBS).where(*_owned_by(job_id, worker)).values(values))
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
            .where(*_owned_by(sa.bindparam("b_id"), sa.bindparam("b_worker")))
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
                    None if beat.interpretation is None else _dumps(dict(beat.interpretation))
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
                        held=row.status == _RUNNING and row.worker == held[row.id],
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

    def complete(
        self,
        job_id: str,
        worker: str,
        *,
        artifacts: Mapping[str, str],
        interpretation: Mapping[str, Any],
        total_seconds: float,
        expires_at: float | None,
        content: ContentRecord | None = None,
    ) -> Job:
        """Marks the job completed with its artifacts (progress 100, phase ``done``).

        Args:
            job_id: The job.
            worker: The worker that claimed it; it must still hold the job.
            artifacts: Artifact kind (``video``, ``thumbnail``...) -> relative path.
            interpretation: What the backend understood (JSON-ready).
            total_seconds: Length of the finished video.
            expires_at: Unix seconds after which the files may be deleted, or None.
            content: The video's content-registry row, written in the same transaction.

        Returns:
            The completed job.

        Raises:
            NotFoundError: No such job.
            ConflictError: The job is not ``in_progress`` under ``worker`` any more.
        """
        now = self._clock()
        values = {
            "job_id": job_id,
            "holder": worker,
            "now": now,
            "files": _dumps(dict(artifacts)),
            "understood": _dumps(dict(interpretation)),
            "length": total_seconds,
            "expiry": expires_at,
        }
        with self._db.begin() as conn:
            row = conn.execute(self._complete, values).first()
            if row is None:
                raise _wrong_state(conn, job_id, "complete", worker)
            if content is not None:
                record_content(conn, content)
            self._settle(conn, now)
            self._log(conn, "video.completed", job_id, detail={"seconds": total_seconds})
        self._changed(job_id)
        return _to_job(row._mapping)

    def fail(self, job_id: str, worker: str | None, error: JobError) -> Job:
        """Marks the job failed with ``error``.

        Args:
            job_id: The job.
            worker: The worker that claimed it (it must still hold the job), or None for the
                admin and cancel paths, which may fail any job that is not final yet.
            error: Why it failed, in the OpenAI error shape.

        Returns:
            The failed job.

        Raises:
            NotFoundError: No such job.
            ConflictError: The job is final, or not held by ``worker``.
        """
        if worker is None:
            where: tuple[sa.ColumnElement[bool], ...] = (
                JOBS.c.id == job_id,
                JOBS.c.status.in_((_QUEUED, _RUNNING)),
            )
        else:
            where = _owned_by(job_id, worker)
        with self._db.begin() as conn:
            row = conn.execute(
                sa.update(JOBS)
                .where(*where)
                .values(_failed_values(error, self._clock()))
                .returning(*JOBS.c)
            ).first()
            if row is None:
                raise _wrong_state(conn, job_id, "fail", worker)
            self._settle(conn, self._clock())
            cancelled = error.code == "cancelled"
            self._log(
                conn,
                "video.cancelled" if cancelled else "video.failed",
                job_id,
                outcome="ok" if cancelled else f"error:{error.code}",
            )
        self._changed(job_id)
        return _to_job(row._mapping)

    # -- user and admin actions ------------------------------------------------------------------

    def request_cancel(self, job_id: str) -> Job:
        """Cancels a job: at once when queued, cooperatively when running.

        A queued job fails immediately with :data:`CANCELLED_BEFORE_START`. A running job
        gets ``cancel_requested``; its worker sees the flag at its next step and finishes the
        job as failed/cancelled without artifacts.

        Returns:
            The job after the change.

        Raises:
            NotFoundError: No such job.
            ConflictError: The job is already completed or failed.
        """
        now = self._clock()
        with self._db.begin() as conn:
            row = conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == _QUEUED)
                .values({**_failed_values(CANCELLED_BEFORE_START, now), "cancel_requested": True})
                .returning(*JOBS.c)
            ).first()
            if row is None:
                row = conn.execute(
                    sa.update(JOBS)
                    .where(JOBS.c.id == job_id, JOBS.c.status == _RUNNING)
                    .values(cancel_requested=True)
                    .returning(*JOBS.c)
                ).first()
            if row is None:
                status = conn.execute(
                    sa.select(JOBS.c.status).where(JOBS.c.id == job_id)
                ).scalar_one_or_none()
                if status is None:
                    raise _not_found(job_id)
                raise ConflictError(
                    f"video {job_id} is already {status}; only queued or in-progress videos "
                    "can be cancelled"
                )
            self._settle(conn, now)
            self._log(conn, "video.cancel_requested", job_id, actor_id=str(row.owner_id))
        self._changed(job_id)
        return _to_job(row._mapping)

    def cancel_queued(
        self,
        *,
        owner_id: str | None = None,
        model: str | None = None,
        token_id: str | None = None,
    ) -> int:
        """Cancels every queued job, optionally only one owner's, model's or token's.

        Returns:
            How many jobs were cancelled.
        """
        where = _matching(owner_id=owner_id, model=model, token_id=token_id)
        where.append(JOBS.c.status == _QUEUED)
        with self._db.begin() as conn:
            ids = (
                conn.execute(
                    sa.update(JOBS)
                    .where(*where)
                    .values(
                        {
                            **_failed_values(CANCELLED_BEFORE_START, self._clock()),
                            "cancel_requested": True,
                        }
                    )
                    .returning(JOBS.c.id)
                )
                .scalars()
                .all()
            )
            self._settle(conn, self._clock())
            for job_id in ids:
                self._log(conn, "video.cancelled", job_id, detail={"by": "kill switch"})
        return len(ids)

    def cancel_running(
        self,
        *,
        owner_id: str | None = None,
        model: str | None = None,
        token_id: str | None = None,
    ) -> int:
        """Asks every matching running job to stop; each worker sees it at its next step.

        Returns:
            How many running jobs were asked.
        """
        where = _matching(owner_id=owner_id, model=model, token_id=token_id)
        where += [JOBS.c.status == _RUNNING, JOBS.c.cancel_requested.is_(False)]
        with self._db.begin() as conn:
            ids = (
                conn.execute(
                    sa.update(JOBS).where(*where).values(cancel_requested=True).returning(JOBS.c.id)
                )
                .scalars()
                .all()
            )
        for job_id in ids:
            self._changed(job_id)
        return len(ids)

    def delete(self, job_id: str) -> None:
        """Removes the job's row; the caller removes its files.

        A worker still running the job loses its lease (its next heartbeat returns False), so
        callers should :meth:`request_cancel` first if they want the work to stop promptly.

        Raises:
            NotFoundError: No such job.
        """
        with self._db.begin() as conn:
            owner = conn.execute(
                sa.delete(JOBS).where(JOBS.c.id == job_id).returning(JOBS.c.owner_id)
            ).scalar()
            if owner is None:
                raise _not_found(job_id)
            self._settle(conn, self._clock())
            self._log(conn, "video.deleted", job_id, actor_id=str(owner))
        self._changed(job_id)

    def usage(self, owner_id: str, quota: Quota) -> UsageReport:
        """Where ``owner_id`` stands against ``quota`` (reserved and committed seconds)."""
        with self._db.read() as conn:
            return ledger.report(conn, owner_id, self._clock(), quota)

    # -- recovery --------------------------------------------------------------------------------

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
                .where(JOBS.c.status == _RUNNING, JOBS.c.cancel_requested.is_(True))
                .values(_failed_values(CANCELLED_WHILE_ABANDONED, now))
            )
            self._settle(conn, now)
            result = conn.execute(
                sa.update(JOBS)
                .where(JOBS.c.status == _RUNNING)
                .values(status=_QUEUED, worker=None, lease_until=None, phase="requeued")
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
            .where(_claimable(now))
            .order_by(JOBS.c.created_at, JOBS.c.seq)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_to_job(row._mapping) for row in conn.execute(query)]

    def fail_exhausted(self, max_attempts: int) -> int:
        """Fails jobs that would need more than ``max_attempts`` claims (a poison pill).

        A job that has been claimed ``max_attempts`` times and is claimable again (queued
        after a restart, or its lease ran out) has killed or outlived that many workers;
        running it again would likely do the same. It fails with code ``worker_lost``.

        Returns:
            How many jobs failed.
        """
        with self._db.begin() as conn:
            return self._fail_exhausted(conn, self._clock(), max_attempts)

    def _fail_exhausted(self, conn: Connection, now: float, max_attempts: int) -> int:
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
            .where(_claimable(now), JOBS.c.attempts >= max_attempts)
            .values(_failed_values(error, now))
        )
        return int(result.rowcount)

    def _close_abandoned(self, conn: Connection, now: float) -> None:
        """Fails cancelled jobs that no worker will finish (requeued, or lease expired)."""
        conn.execute(
            sa.update(JOBS)
            .where(_abandoned(now))
            .values(_failed_values(CANCELLED_WHILE_ABANDONED, now))
        )

    # -- listing (last: its name shadows the builtin ``list`` inside the class body) -------------

    def list(
        self,
        owner_id: str | None,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Literal["asc", "desc"] = "desc",
    ) -> JobPage:
        """One page of jobs, newest first by default (OpenAI ``GET /v1/videos``).

        Jobs are ordered by ``created_at`` and then by insertion order, a total order, so
        pages never skip or repeat a job even when many share a timestamp.

        Args:
            owner_id: Only this principal's jobs; None lists every owner's (admins).
            after: Id of a job in this listing (the previous page's ``last_id``): the page
                starts strictly after it in ``order``.
            limit: Largest number of items (at least 1).
            order: ``desc`` (newest first) or ``asc``.

        Raises:
            InvalidRequestError: ``after`` is not a job in this listing (unknown, or another
                owner's: the two look the same so ids do not leak), ``limit`` is below 1 or
                ``order`` is neither ``asc`` nor ``desc``.
        """
        if order not in ("asc", "desc"):
            raise InvalidRequestError.for_value("order", order, "must be 'asc' or 'desc'")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequestError.for_value("limit", limit, "must be a whole number >= 1")
        query = sa.select(JOBS)
        if owner_id is not None:
            query = query.where(JOBS.c.owner_id == owner_id)
        with self._db.read() as conn:
            if after is not None:
                cursor_query = sa.select(JOBS.c.created_at, JOBS.c.seq).where(JOBS.c.id == after)
                if owner_id is not None:
                    cursor_query = cursor_query.where(JOBS.c.owner_id == owner_id)
                cursor = conn.execute(cursor_query).first()
                if cursor is None:
                    raise InvalidRequestError(
                        f"after must be the id of a video in this list; got {after!r}",
                        param="after",
                    )
                created, seq = cursor._mapping["created_at"], cursor._mapping["seq"]
                if order == "asc":
                    query = query.where(
                        sa.or_(
                            JOBS.c.created_at > created,
                            sa.and_(JOBS.c.created_at == created, JOBS.c.seq > seq),
                        )
                    )
                else:
                    query = query.where(
                        sa.or_(
                            JOBS.c.created_at < created,
                            sa.and_(JOBS.c.created_at == created, JOBS.c.seq < seq),
                        )
                    )
            if order == "asc":
                query = query.order_by(JOBS.c.created_at.asc(), JOBS.c.seq.asc())
            else:
                query = query.order_by(JOBS.c.created_at.desc(), JOBS.c.seq.desc())
            rows = conn.execute(query.limit(limit + 1)).all()
        items = [_to_job(row._mapping) for row in rows[:limit]]
        return JobPage(items=items, has_more=len(rows) > limit)


# -- row <-> record ------------------------------------------------------------------------------


def _matching(
    *, owner_id: str | None, model: str | None, token_id: str | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if owner_id is not None:
        where.append(JOBS.c.owner_id == owner_id)
    if model is not None:
        where.append(JOBS.c.model == model)
    if token_id is not None:
        where.append(JOBS.c.token_id == token_id)
    return where


def _claimable(now: float | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(JOBS.c.status == _QUEUED, JOBS.c.cancel_requested.is_(False)),
        sa.and_(JOBS.c.status == _RUNNING, JOBS.c.lease_until < now),
    )


def _claim_filter(
    now: float | sa.BindParameter[Any],
    models: Collection[str] | sa.BindParameter[Any] | None,
    job_id: str | sa.BindParameter[Any] | None,
) -> sa.ColumnElement[bool]:
    """The rows a claim may take: claimable, matched by no pause (a job some kill switch
    matches stays queued until the pause is lifted), of ``models`` and ``job_id`` when given."""
    rule = sa.and_(_claimable(now), ~paused_job())
    if models is not None:
        rule = sa.and_(rule, JOBS.c.model.in_(models))
    if job_id is not None:
        rule = sa.and_(rule, JOBS.c.id == job_id)
    return rule


def _abandoned(now: float | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """Cancelled jobs no worker will finish: requeued, or their worker's lease ran out."""
    return sa.and_(
        JOBS.c.cancel_requested.is_(True),
        sa.or_(
            JOBS.c.status == _QUEUED,
            sa.and_(JOBS.c.status == _RUNNING, JOBS.c.lease_until < now),
        ),
    )


def _owned_by(
    job_id: str | sa.BindParameter[Any], worker: str | sa.BindParameter[Any]
) -> tuple[sa.ColumnElement[bool], ...]:
    return (JOBS.c.id == job_id, JOBS.c.worker == worker, JOBS.c.status == _RUNNING)


def _failed_values(error: JobError, now: float) -> dict[str, Any]:
    return {
        "status": _FAILED,
        "phase": "cancelled" if error.code == "cancelled" else "failed",
        "error": _dumps(error.to_dict()),
        "completed_at": now,
        "lease_until": None,
    }


def _not_found(job_id: str) -> NotFoundError:
    return NotFoundError(f"no video with id {job_id!r}", param="video_id")


def _wrong_state(conn: Connection, job_id: str, action: str, worker: str | None) -> Exception:
    row = conn.execute(sa.select(JOBS.c.status, JOBS.c.worker).where(JOBS.c.id == job_id)).first()
    if row is None:
        return _not_found(job_id)
    status, holder = row._mapping["status"], row._mapping["worker"]
    if worker is not None and status == _RUNNING and holder != worker:
        return ConflictError(
            f"cannot {action} video {job_id}: worker {worker!r} no longer holds it "
            f"(now held by {holder!r})"
        )
    return ConflictError(f"cannot {action} video {job_id}: it is already {status}")


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _job_values(job: Job) -> dict[str, Any]:
    request = job.request
    return {
        "id": job.id,
        "owner_id": job.owner_id,
        "request": _dumps(request.to_dict()),
        "model": request.model,
        "seed": request.seed,
        "status": JobStatus(job.status).value,
        "progress": max(0, min(100, job.progress)),
        "phase": job.phase,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "expires_at": job.expires_at,
        "error": None if job.error is None else _dumps(job.error.to_dict()),
        "remixed_from": job.remixed_from,
        "extended_from": job.extended_from,
        "interpretation": _dumps(job.interpretation),
        "artifacts": _dumps(job.artifacts),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "lease_until": job.lease_until,
        "worker": job.worker,
        "total_seconds": job.total_seconds,
        "token_id": job.token_id,
    }


_REQUEST_FIELDS = frozenset(VideoRequest.__dataclass_fields__) - {"input_reference"}


def _request_from_json(text: str) -> VideoRequest:
    data = json.loads(text)
    # Unknown keys are skipped so rows written by a newer version still load.
    return VideoRequest(**{k: v for k, v in data.items() if k in _REQUEST_FIELDS})


def _error_from_json(text: str | None) -> JobError | None:
    if text is None:
        return None
    data = json.loads(text)
    return JobError(
        code=str(data["code"]),
        message=str(data["message"]),
        type=str(data.get("type") or "server_error"),
        param=data.get("param"),
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _to_job(row: RowMapping) -> Job:
    return Job(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        request=_request_from_json(row["request"]),
        status=JobStatus(row["status"]),
        progress=int(row["progress"]),
        phase=str(row["phase"]),
        created_at=float(row["created_at"]),
        started_at=_opt_float(row["started_at"]),
        completed_at=_opt_float(row["completed_at"]),
        expires_at=_opt_float(row["expires_at"]),
        error=_error_from_json(row["error"]),
        remixed_from=_opt_str(row["remixed_from"]),
        extended_from=_opt_str(row["extended_from"]),
        interpretation=dict(json.loads(row["interpretation"])),
        artifacts={str(k): str(v) for k, v in json.loads(row["artifacts"]).items()},
        attempts=int(row["attempts"]),
        cancel_requested=bool(row["cancel_requested"]),
        lease_until=_opt_float(row["lease_until"]),
        worker=_opt_str(row["worker"]),
        total_seconds=_opt_float(row["total_seconds"]),
        token_id=None if row["token_id"] is None else str(row["token_id"]),
    )
