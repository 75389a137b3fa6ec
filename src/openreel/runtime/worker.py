"""The job body of an ``openreel worker`` process: the same video worker as the server's, fed
by Celery instead of the embedded queue.
"""

from __future__ import annotations

import os
import secrets
import socket

from openreel.config import Settings
from openreel.queue.celery import JobTaker
from openreel.queue.keeper import LeaseKeeper
from openreel.runtime.openers import (
    Runtime,
    open_artifacts,
    open_database,
    source_links,
)
from openreel.runtime.webhooks import webhook_dispatcher
from openreel.services.pace import PaceBook
from openreel.services.worker import VideoWorker
from openreel.storage.audit import AuditStore
from openreel.storage.content import ContentStore
from openreel.storage.jobs import JobStore
from openreel.trust.provenance import ContentRegistry

__all__ = ["worker_taker"]


def worker_taker(settings: Settings, *, batched_leases: bool = False) -> JobTaker:
    """What one ``openreel worker`` process runs Celery's job messages with.

    Call it in the process that runs the jobs (Celery's pool child), not before the fork. It
    shares the API servers' database, artifact store and signing identity through the same
    settings, and needs no moderation, quotas or tokens: those act at admission, in the API.
    ``batched_leases`` gives a threads pool one lease keeper for all its jobs, as ``serve``
    does for its hosted pool: hundreds of jobs waiting on providers then cost one write and
    one read a second, not hundreds.

    Raises:
        ConfigurationError: Unusable settings (database, Celery, signing, catalogue).
    """
    runtime = Runtime.from_settings(settings)
    db = open_database(settings)
    db.migrate()  # at head already when an API server started first; then this only checks
    audit = AuditStore(db)
    dispatcher = webhook_dispatcher(settings, db, audit) if settings.webhooks.dispatch else None
    store = JobStore(
        db,
        audit=audit,
        prompts=settings.prompts,
        on_change=None if dispatcher is None else (lambda _job_id: dispatcher.nudge()),
    )
    artifacts = open_artifacts(settings)
    jobs = VideoWorker(
        links=source_links(settings, store, artifacts),
        store=store,
        artifacts=artifacts,
        registry=runtime.registry,
        encoder=runtime.encoder,
        pace=PaceBook(),  # nothing reads it here: poll hints come from the API servers
        label=runtime.label,
        provenance=runtime.provenance,
        content=ContentRegistry(ContentStore(db)),
    )
    worker = f"{socket.gethostname()}-{os.getpid()}/celery.{secrets.token_hex(3)}"
    keeper = None
    if batched_leases:
        lease = settings.lease_seconds
        keeper = LeaseKeeper(store, lease_seconds=lease, tick=min(1.0, lease / 4))
        keeper.start()  # for the life of the worker process
    if dispatcher is not None:  # last, once nothing above can fail
        dispatcher.start()  # webhooks of the videos that end here, and of others; for life
    return JobTaker(
        store, jobs.run, worker=worker, lease_seconds=settings.lease_seconds, keeper=keeper
    )
