"""How every queue's workers run a claimed job, so that it always ends: completed, failed or
handed back.
"""

from __future__ import annotations

import logging

from openreel.domain import Job, JobError, JobStatus
from openreel.errors import ConflictError, NotFoundError, OpenReelError
from openreel.queue.contract import JobRunner
from openreel.queue.keeper import LeaseKeeper
from openreel.queue.lease import Lease, LeaseLostError
from openreel.queue.reservation import Reservation
from openreel.storage.jobs import JobStore

__all__ = ["INTERNAL_ERROR", "UNFINISHED_ERROR", "run_claimed"]

_log = logging.getLogger(__name__)


INTERNAL_ERROR = JobError(
    code="internal_error",
    message="the worker failed unexpectedly; see the server log",
    type="server_error",
)
"""How a job fails when its runner raised something unexpected (details go to the log only)."""

UNFINISHED_ERROR = JobError(
    code="internal_error",
    message="the worker stopped without finishing the video; see the server log",
    type="server_error",
)
"""How a job fails when its runner returned without completing or failing it."""


def run_claimed(
    store: JobStore,
    runner: JobRunner,
    job: Job,
    worker: str,
    *,
    lease_seconds: float,
    keeper: LeaseKeeper | None = None,
    admission: Reservation | None = None,
) -> None:
    """Runs a claimed job under a new lease and makes sure it ends: every queue's workers
    call this. With an ``admission`` the job is an early start whose row may not exist yet
    (see :class:`Reservation`); it is released when the attempt ends, whatever its end.

    With a ``keeper`` the lease is batched with the keeper's other leases for as long as the
    runner runs. The runner normally completes or fails the job itself. An error of ours
    that escapes fails it with that error's code and message (meant for people); anything
    else fails it as an internal error with the details in the log only; a runner that
    returns with the job still running under this lease fails it as unfinished. A lost lease
    ends the attempt quietly: the job is another worker's now.
    """
    lease = Lease(
        store,
        job,
        worker,
        lease_seconds=lease_seconds,
        kept=keeper is not None,
        admission=admission,
    )
    if keeper is not None:
        keeper.track(lease)
    try:
        _run(store, runner, job, lease)
    finally:
        if keeper is not None:
            keeper.untrack(lease)
        if admission is not None:
            admission.release()


def _run(store: JobStore, runner: JobRunner, job: Job, lease: Lease) -> None:
    worker = lease.worker
    try:
        runner(job, lease)
    except LeaseLostError:
        _log.warning("worker %s lost video %s; another worker owns it now", worker, job.id)
        return
    except OpenReelError as exc:
        _log.warning("video %s failed: %s", job.id, exc.message, exc_info=True)
        _fail(store, job.id, worker, _job_error(exc))
        return
    except Exception:
        _log.exception("worker %s failed unexpectedly on video %s", worker, job.id)
        _fail(store, job.id, worker, INTERNAL_ERROR)
        return
    if lease.finished:
        return
    try:
        current = store.get(job.id)
    except NotFoundError:
        return  # deleted while running
    except Exception:
        _log.exception("could not read video %s after its runner returned", job.id)
        return
    if current.status is JobStatus.IN_PROGRESS and current.worker == worker:
        _log.error("runner returned without finishing video %s; failing it", job.id)
        _fail(store, job.id, worker, UNFINISHED_ERROR)


def _fail(store: JobStore, job_id: str, worker: str, error: JobError) -> None:
    try:
        store.fail(job_id, worker, error)
    except (ConflictError, NotFoundError) as exc:
        _log.info("video %s was not failed (%s)", job_id, exc.message)
    except Exception:
        _log.exception("could not mark video %s as failed", job_id)


def _job_error(exc: OpenReelError) -> JobError:
    return JobError(code=exc.code, message=exc.message, type=exc.error_type, param=exc.param)
