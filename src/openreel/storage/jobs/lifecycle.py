"""A job's life from its admission to its end state, and its removal.

Each step that starts or ends a job changes the quota ledger and the audit log in the same
transaction as the row, so the accounting can never disagree with the jobs; they live
together here. A job moves queued -> in_progress (see :mod:`.lease`) -> completed | failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from openreel.domain import Job, JobError
from openreel.errors import ConflictError
from openreel.storage import usage as ledger
from openreel.storage.content import ContentRecord, record_content
from openreel.storage.db import JOBS
from openreel.storage.jobs.records import (
    COMPLETED,
    QUEUED,
    RUNNING,
    dumps,
    failed_values,
    job_values,
    not_found,
    owned_by,
    to_job,
    wrong_state,
)
from openreel.storage.jobs.recovery import settle_ended
from openreel.storage.jobs.table import JobTable
from openreel.storage.usage import Quota

CANCELLED_BEFORE_START = JobError(
    code="cancelled",
    message="the video was cancelled before it started",
    type="invalid_request_error",
)
"""Error of a queued job that was cancelled."""


def _matching(
    *, owner_id: str | None, model: str | None, token_id: str | None
) -> list[sa.ColumnElement[bool]]:
    """The rows of this owner, model and token, each only when given."""
    where: list[sa.ColumnElement[bool]] = []
    if owner_id is not None:
        where.append(JOBS.c.owner_id == owner_id)
    if model is not None:
        where.append(JOBS.c.model == model)
    if token_id is not None:
        where.append(JOBS.c.token_id == token_id)
    return where


class JobLifecycle(JobTable):
    """Creating jobs, their end states (completed, failed, cancelled) and deleting them."""

    @cached_property
    def _insert_statement(self) -> sa.Insert:
        """:meth:`create`'s INSERT, built once per store (every admission runs it)."""
        return sa.insert(JOBS).returning(*JOBS.c)

    @cached_property
    def _complete_statement(self) -> sa.Update:
        """:meth:`complete`'s UPDATE, built once per store: it runs once a video, between the
        finished file and the client seeing it, and building it costs about as much as
        running it."""
        return (
            sa.update(JOBS)
            .where(*owned_by(sa.bindparam("job_id"), sa.bindparam("holder")))
            .values(
                status=COMPLETED,
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

    def create(
        self,
        job: Job,
        *,
        input_reference_path: str | None = None,
        quota: Quota | None = None,
        backend: str | None = None,
    ) -> Job:
        """Stores a new job, admitting it against its owner's quota in the same transaction.

        Args:
            job: The job; a ``created_at`` of 0 means "now" by this store's clock.
            input_reference_path: Relative path of the saved reference image; required
                exactly when ``job.request.input_reference`` is set, because the image bytes
                themselves are not stored in the row.
            quota: The owner's limits; its seconds are reserved with the job (see
                :mod:`openreel.storage.usage`). None admits without accounting.
            backend: Name of the backend serving the model, recorded in the audit row for the
                public transparency report.

        Returns:
            The job as stored (and as ``get`` would return it).

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
        values = job_values(job)
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
                row = conn.execute(self._insert_statement, values).one()
                self._log(
                    conn,
                    "video.admitted",
                    job.id,
                    actor_id=job.owner_id,
                    token_id=job.token_id,
                    detail=admitted_detail(job, backend),
                )
        except IntegrityError as exc:
            raise ConflictError(f"video {job.id} already exists") from exc
        return to_job(row._mapping)

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
            "files": dumps(dict(artifacts)),
            "understood": dumps(dict(interpretation)),
            "length": total_seconds,
            "expiry": expires_at,
        }
        with self._db.begin() as conn:
            row = conn.execute(self._complete_statement, values).first()
            if row is None:
                raise wrong_state(conn, job_id, "complete", worker)
            if content is not None:
                record_content(conn, content)
            settle_ended(conn, now, self._prompts)
            self._log(conn, "video.completed", job_id, detail={"seconds": total_seconds})
        self._changed(job_id)
        return to_job(row._mapping)

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
                JOBS.c.status.in_((QUEUED, RUNNING)),
            )
        else:
            where = owned_by(job_id, worker)
        with self._db.begin() as conn:
            row = conn.execute(
                sa.update(JOBS)
                .where(*where)
                .values(failed_values(error, self._clock()))
                .returning(*JOBS.c)
            ).first()
            if row is None:
                raise wrong_state(conn, job_id, "fail", worker)
            settle_ended(conn, self._clock(), self._prompts)
            cancelled = error.code == "cancelled"
            self._log(
                conn,
                "video.cancelled" if cancelled else "video.failed",
                job_id,
                outcome="ok" if cancelled else f"error:{error.code}",
            )
        self._changed(job_id)
        return to_job(row._mapping)

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
                .where(JOBS.c.id == job_id, JOBS.c.status == QUEUED)
                .values({**failed_values(CANCELLED_BEFORE_START, now), "cancel_requested": True})
                .returning(*JOBS.c)
            ).first()
            if row is None:
                row = conn.execute(
                    sa.update(JOBS)
                    .where(JOBS.c.id == job_id, JOBS.c.status == RUNNING)
                    .values(cancel_requested=True)
                    .returning(*JOBS.c)
                ).first()
            if row is None:
                status = conn.execute(
                    sa.select(JOBS.c.status).where(JOBS.c.id == job_id)
                ).scalar_one_or_none()
                if status is None:
                    raise not_found(job_id)
                raise ConflictError(
                    f"video {job_id} is already {status}; only queued or in-progress videos "
                    "can be cancelled"
                )
            settle_ended(conn, now, self._prompts)
            self._log(conn, "video.cancel_requested", job_id, actor_id=str(row.owner_id))
        self._changed(job_id)
        return to_job(row._mapping)

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
        where.append(JOBS.c.status == QUEUED)
        with self._db.begin() as conn:
            ids = (
                conn.execute(
                    sa.update(JOBS)
                    .where(*where)
                    .values(
                        {
                            **failed_values(CANCELLED_BEFORE_START, self._clock()),
                            "cancel_requested": True,
                        }
                    )
                    .returning(JOBS.c.id)
                )
                .scalars()
                .all()
            )
            settle_ended(conn, self._clock(), self._prompts)
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
        where += [JOBS.c.status == RUNNING, JOBS.c.cancel_requested.is_(False)]
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
                raise not_found(job_id)
            settle_ended(conn, self._clock(), self._prompts)
            self._log(conn, "video.deleted", job_id, actor_id=str(owner))
        self._changed(job_id)


def admitted_detail(job: Job, backend: str | None) -> dict[str, Any]:
    """The ``video.admitted`` audit detail: what the public transparency report counts (model,
    backend, seconds asked for), never the prompt."""
    detail: dict[str, Any] = {"model": job.request.model, "seconds": job.request.seconds}
    if backend is not None:
        detail["backend"] = backend
    return detail
