"""Server: a running single-machine OpenReel, its database, workers and the API's services.

``openreel serve`` and the tests that run a real server open one; what it builds is wired
here and nowhere else.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openreel.api.deps import ApiServices
from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.config import Settings
from openreel.media.uploaded import UploadLimits
from openreel.queue.celery import CeleryDispatch, celery_app
from openreel.queue.contract import JobQueue
from openreel.queue.embedded import EmbeddedQueue, QueueGroup
from openreel.runtime.openers import (
    Runtime,
    auth_service,
    database_url,
    open_artifacts,
    open_database,
    source_links,
)
from openreel.runtime.webhooks import webhook_dispatcher, webhook_service
from openreel.services.characters import CharacterService
from openreel.services.pace import PaceBook
from openreel.services.render_process import RenderProcesses
from openreel.services.uploads import UploadService
from openreel.services.videos import VideoService
from openreel.services.watch import JobWatch
from openreel.services.webhooks import WebhookDispatcher
from openreel.services.worker import VideoWorker
from openreel.storage.artists import ArtistStore
from openreel.storage.audit import AuditStore
from openreel.storage.characters import CharacterStore
from openreel.storage.content import ContentStore
from openreel.storage.db import Database
from openreel.storage.files import FileStore
from openreel.storage.jobs import JobStore
from openreel.storage.lock import DataDirLock
from openreel.storage.pauses import PauseStore
from openreel.storage.principals import PrincipalStore
from openreel.storage.sessions import SessionStore
from openreel.storage.tallies import AuditTallies
from openreel.trust.abuse import AbuseMonitor, AbuseThresholds
from openreel.trust.admission import Admission
from openreel.trust.artists import ArtistService
from openreel.trust.audit import ANCHOR_FILE, AuditService
from openreel.trust.auth import IssuedToken
from openreel.trust.killswitch import KillSwitch
from openreel.trust.moderation import (
    ArtistStyleCheck,
    ModerationPipeline,
    SemanticCheck,
    build_pipeline,
    fold,
    load_policy,
)
from openreel.trust.provenance import ContentRegistry
from openreel.trust.quotas import QuotaService
from openreel.trust.ratelimit import RateLimiter
from openreel.trust.sessions import StudioSessions
from openreel.trust.transparency import TransparencyService

__all__ = ["Server"]

log = logging.getLogger(__name__)


@dataclass
class Server:
    """A running single-machine OpenReel: database, workers and the services the API calls."""

    settings: Settings
    services: ApiServices
    worker: VideoWorker
    moderation: ModerationPipeline | None
    queue: JobQueue
    lock: DataDirLock
    db: Database
    first_admin: IssuedToken | None = None
    processes: RenderProcesses | None = None
    registry: BackendRegistry | None = None
    webhooks: WebhookDispatcher | None = None
    _started: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Server:
        """Takes the data folder, migrates, requeues interrupted jobs and builds the services.

        Raises:
            ConfigurationError: Another server holds the data folder.
        """
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = DataDirLock(data_dir)
        lock.acquire()
        try:
            runtime = Runtime.from_settings(settings)
            db = open_database(settings)
            db.migrate()
            watch = JobWatch()
            audit = AuditStore(db)
            dispatcher = None
            on_change: Callable[[str], None] = watch.notify
            if settings.webhooks.dispatch:
                dispatcher = webhook_dispatcher(settings, db, audit)
                on_change = _both(watch.notify, dispatcher.nudge)
            store = JobStore(db, on_change=on_change, audit=audit, prompts=settings.prompts)
            own_database = database_url(settings) is None
            if own_database:
                # The data folder's own SQLite: holding its lock, no other worker can be
                # running, so every running job was interrupted. A shared database's running
                # jobs may be other servers' or workers': their leases tell instead.
                recovered = store.recover_interrupted()
                if recovered:
                    log.info("requeued %d interrupted jobs", recovered)
                if dispatcher is not None and dispatcher.recover_interrupted():
                    log.info("resending webhook deliveries a stopped server left in flight")
            artifacts = open_artifacts(settings)
            if settings.queue == "embedded" and own_database:
                # Only this process writes here; `openreel worker`s may share the folder.
                swept = artifacts.sweep_partials()
                if swept:
                    log.info("removed %d half-written files of interrupted renders", swept)
            # One principal store for tokens, quotas and pauses: one last-used throttle.
            principals = PrincipalStore(db, audit=audit)
            auth = auth_service(settings, principals)
            prefix = f"{socket.gethostname()}-{os.getpid()}"
            queue = _queues(settings, runtime.registry, store, prefix)
            quotas = QuotaService(settings.quota, principals, store)
            killswitch = KillSwitch(PauseStore(db, audit=audit), store, principals)
            artists = ArtistStore(db, fold, audit=audit)
            moderation = build_pipeline(settings.moderation, artists)
            content = ContentRegistry(ContentStore(db))
            audit_service = AuditService(audit, data_dir / ANCHOR_FILE)
            processes = None
            if settings.queue == "embedded" and settings.render_processes:
                processes = RenderProcesses(
                    (SketchBackend,), opencv_threads=settings.opencv_threads
                )
            pace = PaceBook()
            admission = Admission(
                killswitch=killswitch, moderation=moderation, quotas=quotas, audit=audit
            )
            upload_limits = UploadLimits(
                max_bytes=settings.video_uploads.max_bytes,
                max_seconds=settings.video_uploads.max_seconds,
                max_side=settings.video_uploads.max_side,
            )
            characters = CharacterService(
                CharacterStore(db), artifacts, upload_limits, admission.screen_name
            )
            videos = VideoService(
                store=store,
                artifacts=artifacts,
                registry=runtime.registry,
                queue=queue,
                admission=admission,
                pace=pace,
                default_model=settings.default_model,
                upload_limits=upload_limits,
                characters=characters.named_in,
            )
            links = source_links(settings, store, artifacts)
            worker = VideoWorker(
                links=links,
                store=store,
                artifacts=artifacts,
                registry=runtime.registry,
                encoder=runtime.encoder,
                pace=pace,
                label=runtime.label,
                provenance=runtime.provenance,
                content=content,
                processes=processes,
            )
            style = None if moderation is None else moderation.find(ArtistStyleCheck)
            limiter = RateLimiter(
                requests_per_minute=settings.rate_requests_per_minute,
                creates_per_minute=settings.rate_creates_per_minute,
                sign_ins_per_minute=settings.sign_ins_per_minute,
                storage_uri=settings.rate_limit_storage,
            )
            services = ApiServices(
                settings=settings,
                videos=videos,
                watch=watch,
                auth=auth,
                uploads=UploadService(FileStore(db), artifacts),
                registry=runtime.registry,
                quotas=quotas,
                killswitch=killswitch,
                sessions=StudioSessions(
                    SessionStore(db, audit=audit),
                    auth,
                    limiter,
                    audit,
                    lifetime=settings.session_hours * 3600,
                ),
                limiter=limiter,
                audit=audit_service,
                abuse=AbuseMonitor(
                    AbuseThresholds(
                        max_addresses=settings.abuse.max_addresses,
                        max_seconds=settings.abuse.max_seconds,
                        window_seconds=settings.abuse.window_minutes * 60,
                    ),
                    auth,
                ),
                inline_reads=db.reads_are_local,
                webhooks=webhook_service(
                    settings, db, audit, None if dispatcher is None else dispatcher.nudge
                ),
                artists=ArtistService(artists, style),
                content=content,
                trust_anchors=()
                if runtime.provenance is None
                else (runtime.provenance.identity.anchor_pem,),
                transparency=_transparency(settings, db, artists, audit_service, runtime),
                characters=characters,
                source_links=links,
            )
            first_admin = auth.ensure_admin()
        except BaseException:
            lock.release()
            raise
        return cls(
            settings=settings,
            services=services,
            worker=worker,
            moderation=moderation,
            queue=queue,
            lock=lock,
            db=db,
            first_admin=first_admin,
            registry=runtime.registry,
            processes=processes,
            webhooks=dispatcher,
        )

    def start(self, *, freeze_heap: bool = False) -> None:
        """Starts the render workers, and loads the moderation model in the background so the
        first prompt does not wait for it (benchmarks/moderation.py times the load).

        Args:
            freeze_heap: Move every object made so far, and the moderation model's once it
                is loaded, out of the garbage collector's sight (``gc.freeze``), for a
                process that serves from now on (``openreel serve``). The model and the
                libraries under it are a great many objects that live as long as the
                process: each full collection walked them all, holding every thread
                meanwhile (benchmarks/gc_pause.py). Not for a process that opens
                servers and drops them (tests): their cycles would never be collected.
        """
        self.queue.start(self.worker.run)
        if self.webhooks is not None:
            self.webhooks.start()
        self._started = True
        if self.processes is not None:  # one child per worker, started while nothing waits
            threading.Thread(
                target=self.processes.warm,
                args=(self.settings.workers,),
                name="openreel-render-warm",
                daemon=True,
            ).start()
        if freeze_heap:
            gc.freeze()
        semantic = _semantic(self.moderation)
        if semantic is not None:
            threading.Thread(
                target=_warm,
                args=(semantic, freeze_heap),
                name="openreel-moderation-warm",
                daemon=True,
            ).start()

    def close(self, timeout: float = 5.0) -> None:
        """Stops the workers (running jobs resume on the next start) and frees the folder."""
        if self._started:
            self.queue.stop(timeout)
            if self.webhooks is not None:
                self.webhooks.stop(timeout)
            self._started = False
        if self.processes is not None:
            self.processes.close(timeout)
        if self.registry is not None:
            self.registry.close()  # hosted backends' connections to their providers
        # A PostgreSQL server keeps each connection's backend process until it is closed.
        self.db.dispose()
        self.lock.release()


def _transparency(
    settings: Settings,
    db: Database,
    artists: ArtistStore,
    audit: AuditService,
    runtime: Runtime,
) -> TransparencyService | None:
    """The public transparency report, or None when the operator turned it off."""
    if not settings.transparency.enabled:
        return None
    moderation = settings.moderation
    return TransparencyService(
        tallies=AuditTallies(db),
        artists=artists,
        audit=audit,
        policy=load_policy(moderation.policy) if moderation.enabled else None,
        semantic=moderation.semantic,
        prompts=settings.prompts,
        publish_prompts=settings.provenance.publish_prompts,
        identity=None if runtime.provenance is None else runtime.provenance.identity,
        threshold=settings.transparency.threshold,
        max_days=settings.transparency.max_days,
    )


def _queues(
    settings: Settings, registry: BackendRegistry, store: JobStore, prefix: str
) -> JobQueue:
    """The render workers, plus a pool of their own for hosted models when any is served;
    with ``queue = "celery"``, no workers here: jobs go to ``openreel worker`` processes.

    Raises:
        ConfigurationError: Celery is chosen but not installed or not configured.
    """
    if settings.queue == "celery":
        dispatch = CeleryDispatch(celery_app(settings.celery), store, settings.celery.queue_prefix)
        dispatch.connect()
        return dispatch
    entries = registry.models()
    hosted = [e.model for e in entries if e.hosted]
    local = EmbeddedQueue(
        store,
        workers=settings.workers,
        lease_seconds=settings.lease_seconds,
        worker_prefix=prefix,
        models=[e.model for e in entries if not e.hosted] if hosted else None,
        # Sketch renders start in milliseconds and check for a cancel at every frame.
        early_start=[e.model for e in entries if e.backend == "sketch" and not e.hosted],
    )
    if not hosted:
        return local
    waiting = EmbeddedQueue(
        store,
        workers=settings.hosted_workers,
        lease_seconds=settings.lease_seconds,
        worker_prefix=f"{prefix}-hosted",
        models=hosted,
        poll_interval=5.0,  # idle hosted workers are many; new jobs wake them via notify()
        batched_leases=True,  # hundreds of waiting jobs share one keeper's store calls
    )
    return QueueGroup(local, waiting)


def _both(first: Callable[[str], None], second: Callable[[], None]) -> Callable[[str], None]:
    """A job-change listener that tells the live streams, then nudges the webhook dispatcher."""

    def changed(job_id: str) -> None:
        first(job_id)
        second()

    return changed


def _semantic(pipeline: ModerationPipeline | None) -> SemanticCheck | None:
    return None if pipeline is None else pipeline.find(SemanticCheck)


def _warm(check: SemanticCheck, freeze_heap: bool) -> None:
    try:
        check.warm()
    except Exception:  # the first prompt retries and reports it; the server keeps serving
        log.exception("loading the moderation model failed")
        return
    if freeze_heap:
        gc.freeze()  # the model's objects join the start-up heap (see Server.start)
