"""Celery on Redis: the queue of a deployment on several machines.

The jobs table stays the record of every video (docs/architecture.md, "The life of a job"). A
Celery message carries only a job id, sent to the queue of the job's model
(``openreel.<model id>``); the ``openreel worker`` that receives it claims that row with a
lease, exactly as an embedded worker claims one, and runs the same runner under the same
:class:`~openreel.queue.lease.Lease`.
Progress and the cancel flag therefore go through the table, so a cancel reaches a job on any
machine at its next step, and the API reads progress the same way whatever runs the job.

What Celery adds is delivery across machines, set up for minutes-long jobs:

- late acknowledgement and reject-on-worker-lost: a worker killed mid-job leaves its message
  unacknowledged, and Redis hands it out again: at once when only the pool's child process
  died, after the visibility timeout when the whole worker did;
- prefetch 1: a worker holds one message at a time, so no job waits behind a long render
  while another worker of its model is idle;
- a message can arrive twice (the visibility timeout passed on a job still running, a
  republish at start). The second delivery finds the lease held by a live worker and steps
  aside; a delivery whose job's worker died waits for that lease to run out, then takes the
  job over, counting an attempt, so ``max_attempts`` still ends a job that kills its workers.

Celery is imported only here and only when this queue is chosen (the ``openreel[celery]``
extra), so the one-machine tier never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from openreel.config import CeleryConfig
from openreel.domain import Job, JobError, JobStatus
from openreel.errors import (
    ConfigurationError,
    NotFoundError,
    OpenReelError,
    QueueUnavailableError,
)
from openreel.queue.contract import JobRunner, QueueStats
from openreel.queue.keeper import LeaseKeeper
from openreel.queue.run import run_claimed
from openreel.storage.jobs import JobStore

if TYPE_CHECKING:
    from celery import Celery

__all__ = [
    "QUEUE_DOWN",
    "TASK_NAME",
    "CeleryDispatch",
    "JobTaker",
    "Taken",
    "celery_app",
    "delivery_redelivered",
    "queue_name",
    "register_task",
    "run_worker",
    "worker_queues",
]

TASK_NAME = "openreel.run_job"
"""The one task: its only argument is a job id."""

QUEUE_DOWN = JobError(
    code="queue_unavailable",
    message="the job queue was not answering when this video was submitted; nothing was charged",
    type="server_error",
)
"""How a job fails when its id could not be sent to Celery."""

_log = logging.getLogger(__name__)


def queue_name(prefix: str, model: str) -> str:
    """The Celery queue of ``model``'s jobs (``openreel.ltx-video``)."""
    return f"{prefix}.{model}"


def celery_app(config: CeleryConfig) -> Celery:
    """A Celery application on the configured Redis, with the settings long jobs need.

    Raises:
        ConfigurationError: Celery is not installed, or the broker URL is missing or not
            a Redis URL (the URL itself is never repeated: it may hold a password).
    """
    try:
        from celery import Celery
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise ConfigurationError(
            "OPENREEL_QUEUE=celery needs Celery: pip install 'openreel[celery]'"
        ) from exc
    url = "" if config.broker_url is None else config.broker_url.get_secret_value()
    if not url:
        raise ConfigurationError(
            "OPENREEL_QUEUE=celery needs OPENREEL_CELERY__BROKER_URL (redis://host:6379/0)"
        )
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in ("redis", "rediss"):
        raise ConfigurationError(
            "OPENREEL_CELERY__BROKER_URL must be a redis:// or rediss:// URL; "
            f"got scheme {scheme or 'none'!r}"
        )
    app = Celery("openreel", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # acknowledged when the job returns: a crash leaves it unacked
        task_reject_on_worker_lost=True,  # a killed child puts its message back at once
        worker_prefetch_multiplier=1,  # one message held per process
        task_ignore_result=True,  # the jobs table is the result
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=f"{config.queue_prefix}.default",
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": config.visibility_timeout,
            "unacked_restore_interval": config.restore_interval,
            # Sweep at every interval: the default throttle of 10 makes the period 10x longer.
            "unacked_restore_throttle": 1,
        },
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app


class CeleryDispatch:
    """The API side of the Celery queue: sends each new job's id to its model's queue.

    It runs no workers (``openreel worker`` processes do), so :meth:`start` only sends
    again the ids of jobs that may have no message: queued jobs (the process that wrote one
    may have died before sending it) and running jobs whose lease ran out. A second message
    for a job is harmless (see the module docstring).

    Args:
        app: The Celery application (see :func:`celery_app`).
        store: The job store.
        prefix: Queue name prefix.
    """

    def __init__(self, app: Celery, store: JobStore, prefix: str) -> None:
        self._app = app
        self._store = store
        self._prefix = prefix

    def connect(self) -> None:
        """Opens the broker connection now, so a wrong URL stops the server at start and the
        first video does not pay for the connection (benchmarks/scale.py, dispatch cost).

        Raises:
            ConfigurationError: Redis does not answer (the URL is not repeated: it may hold a
                password).
        """
        try:
            with self._app.pool.acquire(block=True) as connection:
                connection.ensure_connection(max_retries=2, interval_start=0.2)
        except Exception as exc:
            raise ConfigurationError(
                "cannot reach the Celery broker at OPENREEL_CELERY__BROKER_URL: "
                f"{type(exc).__name__}"
            ) from None

    def start(self, runner: JobRunner) -> None:
        """Re-sends jobs that may have lost their message (the runner is not used here)."""
        del runner
        orphans = self._store.orphans()
        for job in orphans:
            self._send(job)
        if orphans:
            _log.info("sent %d queued or abandoned jobs to their queues again", len(orphans))

    def enqueued(self, job: Job) -> None:
        """Sends ``job``'s id to the queue of its model.

        Raises:
            QueueUnavailableError: Redis did not take the message (after Celery's own
                retries). The job is failed first, so it is neither charged nor left queued
                without a message; the caller may simply try again.
        """
        try:
            self._send(job)
        except Exception as exc:
            _log.error("could not send video %s to Celery: %s", job.id, type(exc).__name__)
            # Already ended: a worker got the message after all.
            with contextlib.suppress(OpenReelError):
                self._store.fail(job.id, None, QUEUE_DOWN)
            raise QueueUnavailableError(
                "the job queue (OPENREEL_CELERY__BROKER_URL) is not answering; the video "
                "was not started and nothing was charged: try again shortly"
            ) from None

    def reserve(self, job: Job) -> None:
        """Never: workers are other processes, sent a job only once its row is committed."""
        del job

    def _send(self, job: Job) -> None:
        self._app.send_task(
            TASK_NAME, args=[job.id], queue=queue_name(self._prefix, job.request.model)
        )

    def stop(self, timeout: float) -> None:
        """Closes the broker connections (jobs already sent stay in Redis)."""
        del timeout
        self._app.close()

    def stats(self) -> QueueStats:
        """No workers run in this process."""
        return QueueStats(workers=0, busy=0)


class Taken(Enum):
    """What a delivery of a job id came to."""

    RAN = "ran"
    """This worker claimed the job and ran it to its end."""
    FINISHED = "finished"
    """The job had already ended (completed, failed or cancelled)."""
    GONE = "gone"
    """The job was deleted."""
    HELD = "held"
    """Another live worker holds the job; this delivery was a duplicate."""
    PAUSED = "paused"
    """A kill switch holds the job in the queue; look again later."""


class JobTaker:
    """The body of the Celery task in a worker: claim the named job and run it.

    Args:
        store: The job store.
        runner: What makes the video (``VideoWorker.run``).
        worker: This worker's id, written to the rows it claims.
        lease_seconds: Lease length.
        max_attempts: Fail a job as ``worker_lost`` once it has been claimed this often.
        clock: Wall clock (leases are stored in Unix seconds).
        sleep: How to wait for a dead worker's lease to run out (tests pass a fake).
        keeper: Renews, reports and watches every running job's lease in one batch a tick
            (see :class:`~openreel.queue.keeper.LeaseKeeper`), for a threads pool following
            many hosted jobs at once; None lets each job's lease do its own store calls.
    """

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        *,
        worker: str,
        lease_seconds: float,
        max_attempts: int | None = 3,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        keeper: LeaseKeeper | None = None,
    ) -> None:
        self._keeper = keeper
        self._store = store
        self._runner = runner
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep

    def take(self, job_id: str, *, redelivered: bool = False) -> Taken:
        """Claims ``job_id`` and runs it, or says why this delivery has nothing to do.

        A job held under a lease is either a live worker's (a duplicate delivery) or a dead
        one's (this message was handed back after its worker died). A first delivery that
        finds a lease renewed within the last third of its length steps aside at once: a
        live holder renews that often. Otherwise this waits until the lease has run out and
        claims the job, or steps aside if the lease is renewed meanwhile.
        """
        waited_for: tuple[str | None, float | None] | None = None
        while True:
            job = self._store.claim(
                self._worker,
                lease_seconds=self._lease_seconds,
                max_attempts=self._max_attempts,
                job_id=job_id,
            )
            if job is not None:
                run_claimed(
                    self._store,
                    self._runner,
                    job,
                    self._worker,
                    lease_seconds=self._lease_seconds,
                    keeper=self._keeper,
                )
                return Taken.RAN
            try:
                current = self._store.get(job_id)
            except NotFoundError:
                return Taken.GONE
            if current.status.is_final:
                return Taken.FINISHED
            if current.status is JobStatus.QUEUED:
                return Taken.PAUSED  # queued yet not claimable: a kill switch holds it
            holder = (current.worker, current.lease_until)
            left = (current.lease_until or 0.0) - self._clock()
            renewed_lately = left > self._lease_seconds * 2 / 3
            if waited_for is not None and holder != waited_for:
                return Taken.HELD  # renewed (or taken) while we waited: its worker is alive
            if waited_for is None and renewed_lately and not redelivered:
                return Taken.HELD
            waited_for = holder
            # A claim at the lease's end wins or finds it renewed; wait just past it.
            self._sleep(max(0.05, min(left, self._lease_seconds) + 0.05))


def register_task(app: Celery, make_taker: Callable[[], JobTaker], paused_retry: float) -> None:
    """Registers the job task on ``app``; each worker process builds its taker on first use.

    The taker (database connections, backends, loaded models) is built lazily in the process
    that runs the task, never in Celery's parent before it forks its pool: database
    connections must not cross a fork, and CUDA cannot be initialised again in a forked child.
    """
    from celery.signals import worker_process_init

    holder: list[JobTaker] = []
    lock = threading.Lock()

    def taker() -> JobTaker:
        with lock:  # a threads pool asks from many threads at once
            if not holder:
                holder.append(make_taker())
            return holder[0]

    def warm(**_: Any) -> None:
        # Built as each pool child starts, so the first job does not pay for it.
        try:
            taker()
        except Exception:  # the first task builds it again and reports the error
            _log.exception("could not prepare this worker process; its first job will retry")

    worker_process_init.connect(warm, weak=False)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,  # a pause may last any time; retry() alone cannot lift the default 3
    )
    def run_job(task: Any, job_id: str) -> str:
        outcome = taker().take(job_id, redelivered=delivery_redelivered(task.request))
        _log.info("job %s: %s", job_id, outcome.value)
        if outcome is Taken.PAUSED:
            # Held by a kill switch: look again later (a new message; this one is acked).
            raise task.retry(countdown=paused_retry)
        value: str = outcome.value
        return value

    del run_job


def run_worker(
    app: Celery, queues: Iterable[str], *, concurrency: int, pool: str, name: str
) -> None:
    """Runs a Celery worker consuming ``queues`` until it is stopped (blocks)."""
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--hostname",
            name,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def worker_queues(prefix: str, models: Iterable[str]) -> list[str]:
    """The queue names a worker serving ``models`` consumes, in a stable order."""
    return [queue_name(prefix, model) for model in sorted(set(models))]


def delivery_redelivered(request: Any) -> bool:
    """Whether Celery's task request says the broker handed this message out before."""
    info = getattr(request, "delivery_info", None) or {}
    return bool(info.get("redelivered"))
