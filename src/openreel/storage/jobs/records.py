"""Rows of the ``jobs`` table and the :class:`~openreel.domain.Job` records they hold.

Every part of the job store reads and writes rows the same way, and asks the same questions
of them (is this job claimable, abandoned, held by this worker?), so the mapping and those
conditions live once, here.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import ConflictError, NotFoundError
from openreel.storage.db import JOBS

QUEUED = JobStatus.QUEUED.value
RUNNING = JobStatus.IN_PROGRESS.value
COMPLETED = JobStatus.COMPLETED.value
FAILED = JobStatus.FAILED.value


# -- conditions on rows ---------------------------------------------------------------------------


def claimable(now: float | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """Queued and not being cancelled, or running under a lease that ran out (worker died)."""
    return sa.or_(
        sa.and_(JOBS.c.status == QUEUED, JOBS.c.cancel_requested.is_(False)),
        sa.and_(JOBS.c.status == RUNNING, JOBS.c.lease_until < now),
    )


def abandoned(now: float | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """Cancelled jobs no worker will finish: requeued, or their worker's lease ran out."""
    return sa.and_(
        JOBS.c.cancel_requested.is_(True),
        sa.or_(
            JOBS.c.status == QUEUED,
            sa.and_(JOBS.c.status == RUNNING, JOBS.c.lease_until < now),
        ),
    )


def owned_by(
    job_id: str | sa.BindParameter[Any], worker: str | sa.BindParameter[Any]
) -> tuple[sa.ColumnElement[bool], ...]:
    """The job, while it is ``in_progress`` under ``worker``."""
    return (JOBS.c.id == job_id, JOBS.c.worker == worker, JOBS.c.status == RUNNING)


# -- values written -------------------------------------------------------------------------------


def dumps(value: object) -> str:
    """The JSON text stored in a row's JSON columns (compact, keys sorted)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def failed_values(error: JobError, now: float) -> dict[str, Any]:
    """The columns that end a job as failed with ``error`` at ``now``."""
    return {
        "status": FAILED,
        "phase": "cancelled" if error.code == "cancelled" else "failed",
        "error": dumps(error.to_dict()),
        "completed_at": now,
        "lease_until": None,
    }


def job_values(job: Job) -> dict[str, Any]:
    """The row of a new job (the reference image's path is added by the caller)."""
    request = job.request
    return {
        "id": job.id,
        "owner_id": job.owner_id,
        "request": dumps(request.to_dict()),
        "model": request.model,
        "seed": request.seed,
        "status": JobStatus(job.status).value,
        "progress": max(0, min(100, job.progress)),
        "phase": job.phase,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "expires_at": job.expires_at,
        "error": None if job.error is None else dumps(job.error.to_dict()),
        "remixed_from": job.remixed_from,
        "extended_from": job.extended_from,
        "interpretation": dumps(job.interpretation),
        "artifacts": dumps(job.artifacts),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "lease_until": job.lease_until,
        "worker": job.worker,
        "total_seconds": job.total_seconds,
        "token_id": job.token_id,
    }


# -- records read ---------------------------------------------------------------------------------


def _request_from_json(text: str) -> VideoRequest:
    return VideoRequest.from_dict(json.loads(text))


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


def to_job(row: RowMapping) -> Job:
    """The job a row holds (``request.input_reference`` is None: the row keeps only a path)."""
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


# -- refusals -------------------------------------------------------------------------------------


def not_found(job_id: str) -> NotFoundError:
    """The error for a job id with no row."""
    return NotFoundError(f"no video with id {job_id!r}", param="video_id")


def wrong_state(conn: Connection, job_id: str, action: str, worker: str | None) -> Exception:
    """Why ``action`` changed no row: no such job, another worker holds it, or it is final."""
    row = conn.execute(sa.select(JOBS.c.status, JOBS.c.worker).where(JOBS.c.id == job_id)).first()
    if row is None:
        return not_found(job_id)
    status, holder = row._mapping["status"], row._mapping["worker"]
    if worker is not None and status == RUNNING and holder != worker:
        return ConflictError(
            f"cannot {action} video {job_id}: worker {worker!r} no longer holds it "
            f"(now held by {holder!r})"
        )
    return ConflictError(f"cannot {action} video {job_id}: it is already {status}")
