"""Runtime: the composition root that turns Settings into live objects.

Nothing in the package builds its own collaborators from globals. ``Runtime`` is the light part
every command needs (models, encoder); ``Server`` adds the database, stores, queue workers and
API services for ``openreel serve`` and for tests that run a real server.

Imports: everything below (config, backends, media, storage, queue, services, api).
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openreel.api.deps import ApiServices
from openreel.backends.base import BackendCapabilities
from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import load_catalogue
from openreel.backends.hosted import fal, luma, replicate, runway, veo
from openreel.backends.hosted.base import HostedBackend, HostedModel
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.config import Settings
from openreel.errors import ConfigurationError
from openreel.media.certs import ensure_instance_identity, load_identity
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.media.opencv import use_opencv_threads
from openreel.queue.base import JobQueue
from openreel.queue.celery import CeleryDispatch, JobTaker, celery_app

if TYPE_CHECKING:
    from celery import Celery
from openreel.queue.embedded import EmbeddedQueue, QueueGroup
from openreel.queue.keeper import LeaseKeeper
from openreel.services.abuse import AbuseMonitor, AbuseThresholds
from openreel.services.artists import ArtistService
from openreel.services.audit import ANCHOR_FILE, AuditService
from openreel.services.auth import AuthService, IssuedToken, load_or_create_secret
from openreel.services.jobs import JobService
from openreel.services.killswitch import KillSwitch
from openreel.services.moderation import (
    ArtistStyleCheck,
    ModerationPipeline,
    SemanticCheck,
    build_pipeline,
    fold,
)
from openreel.services.provenance import ContentRegistry, Provenance
from openreel.services.quotas import QuotaService
from openreel.services.ratelimit import RateLimiter
from openreel.services.render_process import RenderProcesses
from openreel.services.uploads import UploadService
from openreel.services.watch import JobWatch
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.artists import ArtistStore
from openreel.storage.audit import AuditStore
from openreel.storage.content import ContentStore
from openreel.storage.db import DATABASE_FILE, Database
from openreel.storage.files import FileStore
from openreel.storage.jobs import JobStore
from openreel.storage.lock import DataDirLock
from openreel.storage.objects import S3ObjectStore
from openreel.storage.pauses import PauseStore
from openreel.storage.principals import PrincipalStore

KEYS_DIR = "keys"
"""Folder of the instance's CA and signer inside the data folder (owner-only)."""

__all__ = [
    "KEYS_DIR",
    "Runtime",
    "Server",
    "build_registry",
    "cli_moderation",
    "open_artifacts",
    "open_artists",
    "open_audit",
    "open_auth",
    "open_killswitch",
    "signing",
    "worker_taker",
]

log = logging.getLogger(__name__)


def build_registry(settings: Settings) -> BackendRegistry:
    """Registers every backend this installation can serve.

    Hosted models are registered only when their credentials are configured, and local
    models only when ``OPENREEL_LOCAL__ENABLED`` or ``__CATALOGUE`` is set, so
    ``/v1/models`` never offers what cannot run.

    Raises:
        ConfigurationError: The local model catalogue is unusable.
    """
    registry = BackendRegistry()
    registry.register("sketch", SketchBackend.models, SketchBackend)
    if settings.local.is_enabled:
        local = DiffusersBackend(load_catalogue(settings.local.catalogue), settings.local)
        registry.register("diffusers", local.models, lambda: local)
    # As many hosted results render at once as there are local render workers.
    hosted: dict[str, Any] = {
        "fit": settings.hosted_fit,
        "render_slots": threading.Semaphore(settings.workers),
    }
    providers: dict[str, tuple[tuple[HostedModel, ...], Callable[..., HostedBackend]]] = {
        "runway": (runway.MODELS, runway.build_runway),
        "fal": (fal.MODELS, fal.build_fal),
        "replicate": (replicate.MODELS, replicate.build_replicate),
        "luma": (luma.MODELS, luma.build_luma),
    }
    for name, (catalogue, build) in providers.items():
        key = getattr(settings.providers, name)
        if key is not None and key.get_secret_value():
            registry.register(
                name,
                tuple(m.id for m in catalogue),
                functools.partial(build, key.get_secret_value(), **hosted),
                hosted=True,
            )
    google = settings.providers.google
    if settings.veo.project or (google is not None and google.get_secret_value()):
        registry.register(
            "veo",
            tuple(m.id for m in veo.MODELS),
            functools.partial(
                veo.build_veo,
                project=settings.veo.project,
                location=settings.veo.location,
                api_key=None if google is None else google.get_secret_value() or None,
                **hosted,
            ),
            hosted=True,
        )
    upstream = settings.upstream
    key = settings.providers.upstream
    if upstream.url and key is not None and upstream.models:
        models = tuple(
            HostedModel(f"{upstream.prefix}/{m}", m, _upstream_caps(upstream.max_seconds))
            for m in upstream.models
        )
        url, secret = upstream.url, key.get_secret_value()
        registry.register(
            "upstream",
            tuple(m.id for m in models),
            lambda: HostedBackend("upstream", UpstreamClient(url, secret), models, **hosted),
            hosted=True,
        )
    return registry


def _upstream_caps(max_seconds: float) -> BackendCapabilities:
    """What an upstream's model is assumed to accept (it checks again itself)."""
    return BackendCapabilities(
        max_seconds=max_seconds,
        min_side=64,
        max_side=3840,
        fps_range=(1, 60),
        sizes=("1280x720", "720x1280", "1920x1080", "1080x1920"),
        image_input=True,
        deterministic=False,
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a one-shot command needs, built from settings.

    Attributes:
        settings: The settings it was built from.
        registry: Model id -> backend.
        encoder: Encoder settings for every video written.
        label: The visible label burned into every video, or None when turned off.
        provenance: The C2PA signer of every video, or None when turned off.
    """

    settings: Settings
    registry: BackendRegistry
    encoder: EncoderSettings
    label: LabelSpec | None = None
    provenance: Provenance | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Builds the runtime (creating the instance's signing identity on first run).

        Raises:
            ConfigurationError: An unusable label, certificate chain or key.
        """
        use_opencv_threads(settings.opencv_threads)
        encoder = EncoderSettings(preset=settings.encoder.preset, crf=settings.encoder.crf)
        config = settings.label
        label = LabelSpec(config.text, config.corner) if config.enabled else None
        return cls(
            settings=settings,
            registry=build_registry(settings),
            encoder=encoder,
            label=label,
            provenance=signing(settings),
        )


def signing(settings: Settings) -> Provenance | None:
    """The instance's C2PA signer: the operator's chain, or its own CA made on first run.

    Raises:
        ConfigurationError: Only one of chain and key is set, or they are unusable.
    """
    config = settings.provenance
    if not config.enabled:
        return None
    if (config.chain is None) != (config.key is None):
        raise ConfigurationError(
            "set both OPENREEL_PROVENANCE__CHAIN and OPENREEL_PROVENANCE__KEY, or neither"
        )
    if config.chain is not None and config.key is not None:
        identity = load_identity(config.chain, config.key)
    else:
        identity = ensure_instance_identity(Path(settings.data_dir) / KEYS_DIR)
    return Provenance(identity, publish_prompts=config.publish_prompts)


def open_database(settings: Settings) -> Database:
    """The configured database: ``database_url`` when set, else the data folder's SQLite."""
    url = _database_url(settings)
    return Database.for_data_dir(settings.data_dir) if url is None else Database(url)


def _database_url(settings: Settings) -> str | None:
    """The database elsewhere than the data folder (``database_url``), or None."""
    if settings.database_url is None:
        return None
    return settings.database_url.get_secret_value() or None


def open_artifacts(settings: Settings) -> ArtifactStore:
    """The artifact store: the data folder's ``artifacts``, shared through the configured
    bucket when ``OPENREEL_STORAGE__BUCKET`` is set.

    The bucket is asked once here (HeadBucket), so a wrong bucket, endpoint or credential
    stops the server or worker at start with a message naming the setting.

    Raises:
        ConfigurationError: boto3 is missing, or the bucket cannot be used.
    """
    remote = S3ObjectStore(settings.storage) if settings.storage.is_remote else None
    if remote is not None:
        remote.check()
    return ArtifactStore(Path(settings.data_dir) / "artifacts", remote)


def _migrated(settings: Settings) -> Database:
    """The configured database, upgraded to the newest schema (for one-shot commands)."""
    db = open_database(settings)
    db.migrate()
    return db


def open_auth(settings: Settings) -> AuthService:
    """The token service over the data folder's database (migrated if needed)."""
    db = _migrated(settings)
    return auth_service(settings, PrincipalStore(db, audit=AuditStore(db)))


def open_audit(settings: Settings, anchor: Path | None = None) -> AuditService:
    """The audit log of the data folder, anchored at ``anchor`` (default: in the folder)."""
    store = AuditStore(_migrated(settings))
    return AuditService(store, anchor or Path(settings.data_dir) / ANCHOR_FILE)


def open_artists(settings: Settings) -> ArtistService:
    """The artists' opt-out registry of the data folder (migrated if needed), for the CLI."""
    db = _migrated(settings)
    return ArtistService(ArtistStore(db, fold, audit=AuditStore(db)))


def cli_moderation(settings: Settings) -> ModerationPipeline | None:
    """Moderation for ``openreel generate``: the operator's rules, the public-figure list and,
    when the data folder has a database, its artists' opt-outs.

    The semantic model runs here only with ``semantic = "on"``: loading it costs about ten
    seconds a command, and the command line is the operator's own tool; the server, where
    other people's prompts arrive, runs it whenever it is installed (``auto``).

    Raises:
        ConfigurationError: The policy file is unusable, or ``on`` without the extra.
    """
    config = settings.moderation
    if config.semantic == "auto":
        config = config.model_copy(update={"semantic": "off"})
    artists = None
    if _database_url(settings) is not None or (Path(settings.data_dir) / DATABASE_FILE).is_file():
        db = _migrated(settings)
        artists = ArtistStore(db, fold, audit=AuditStore(db))
    return build_pipeline(config, artists)


def open_killswitch(settings: Settings) -> KillSwitch:
    """The kill switch over the data folder's database (migrated if needed), for the CLI."""
    db = _migrated(settings)
    audit = AuditStore(db)
    return KillSwitch(
        PauseStore(db, audit=audit),
        JobStore(db, audit=audit, prompts=settings.prompts),
        PrincipalStore(db, audit=audit),
    )


def auth_service(settings: Settings, principals: PrincipalStore) -> AuthService:
    """The token service with the operator's token lifetimes.

    Raises:
        ConfigurationError: The default lifetime is above the maximum.
    """
    if settings.token_days > settings.token_max_days:
        raise ConfigurationError(
            f"OPENREEL_TOKEN_DAYS ({settings.token_days:g}) must not exceed "
            f"OPENREEL_TOKEN_MAX_DAYS ({settings.token_max_days:g})"
        )
    return AuthService(
        principals,
        load_or_create_secret(Path(settings.data_dir)),
        default_days=settings.token_days,
        max_days=settings.token_max_days,
    )


@dataclass
class Server:
    """A running single-machine OpenReel: database, workers and the services the API calls."""

    settings: Settings
    services: ApiServices
    queue: JobQueue
    lock: DataDirLock
    db: Database
    first_admin: IssuedToken | None = None
    processes: RenderProcesses | None = None
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
            store = JobStore(db, on_change=watch.notify, audit=audit, prompts=settings.prompts)
            own_database = _database_url(settings) is None
            if own_database:
                # The data folder's own SQLite: holding its lock, no other worker can be
                # running, so every running job was interrupted. A shared database's running
                # jobs may be other servers' or workers': their leases tell instead.
                recovered = store.recover_interrupted()
                if recovered:
                    log.info("requeued %d interrupted jobs", recovered)
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
            processes = None
            if settings.queue == "embedded" and settings.render_processes:
                processes = RenderProcesses(
                    (SketchBackend,), opencv_threads=settings.opencv_threads
                )
            jobs = JobService(
                store=store,
                artifacts=artifacts,
                registry=runtime.registry,
                queue=queue,
                encoder=runtime.encoder,
                label=runtime.label,
                provenance=runtime.provenance,
                watch=watch,
                quotas=quotas,
                killswitch=killswitch,
                audit=audit,
                moderation=moderation,
                content=content,
                processes=processes,
            )
            style = None if moderation is None else moderation.find(ArtistStyleCheck)
            services = ApiServices(
                settings=settings,
                jobs=jobs,
                auth=auth,
                uploads=UploadService(FileStore(db), artifacts),
                registry=runtime.registry,
                quotas=quotas,
                killswitch=killswitch,
                limiter=RateLimiter(
                    requests_per_minute=settings.rate_requests_per_minute,
                    creates_per_minute=settings.rate_creates_per_minute,
                    storage_uri=settings.rate_limit_storage,
                ),
                audit=AuditService(audit, data_dir / ANCHOR_FILE),
                abuse=AbuseMonitor(
                    AbuseThresholds(
                        max_addresses=settings.abuse.max_addresses,
                        max_seconds=settings.abuse.max_seconds,
                        window_seconds=settings.abuse.window_minutes * 60,
                    ),
                    auth,
                ),
                inline_reads=db.reads_are_local,
                artists=ArtistService(artists, style),
                moderation=moderation,
                content=content,
                trust_anchors=()
                if runtime.provenance is None
                else (runtime.provenance.identity.anchor_pem,),
            )
            first_admin = auth.ensure_admin()
        except BaseException:
            lock.release()
            raise
        return cls(
            settings=settings,
            services=services,
            queue=queue,
            lock=lock,
            db=db,
            first_admin=first_admin,
            processes=processes,
        )

    def start(self, *, freeze_heap: bool = False) -> None:
        """Starts the render workers, and loads the moderation model in the background so the
        first prompt does not wait the ten seconds it takes.

        Args:
            freeze_heap: Move every object made so far, and the moderation model's once it
                is loaded, out of the garbage collector's sight (``gc.freeze``), for a
                process that serves from now on (``openreel serve``). The model and the
                libraries under it are half a million objects that live as long as the
                process: each full collection walked them all, holding every thread for a
                quarter of a second (benchmarks/gc_pause.py). Not for a process that opens
                servers and drops them (tests): their cycles would never be collected.
        """
        self.queue.start(self.services.jobs.run)
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
        semantic = _semantic(self.services.moderation)
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
            self._started = False
        if self.processes is not None:
            self.processes.close(timeout)
        # A PostgreSQL server keeps each connection's backend process until it is closed.
        self.db.dispose()
        self.lock.release()


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


def worker_taker(settings: Settings, app: Celery, *, batched_leases: bool = False) -> JobTaker:
    """What one ``openreel worker`` process runs Celery's job messages with.

    Call it in the process that runs the jobs (Celery's pool child), not before the fork, with
    the process's Celery ``app`` (from :func:`~openreel.queue.celery.celery_app`). It
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
    store = JobStore(db, audit=audit, prompts=settings.prompts)
    artifacts = open_artifacts(settings)
    dispatch = CeleryDispatch(app, store, settings.celery.queue_prefix)
    jobs = JobService(
        store=store,
        artifacts=artifacts,
        registry=runtime.registry,
        queue=dispatch,
        encoder=runtime.encoder,
        label=runtime.label,
        provenance=runtime.provenance,
        audit=audit,
        content=ContentRegistry(ContentStore(db)),
    )
    worker = f"{socket.gethostname()}-{os.getpid()}/celery.{secrets.token_hex(3)}"
    keeper = None
    if batched_leases:
        lease = settings.lease_seconds
        keeper = LeaseKeeper(store, lease_seconds=lease, tick=min(1.0, lease / 4))
        keeper.start()  # for the life of the worker process
    return JobTaker(
        store, jobs.run, worker=worker, lease_seconds=settings.lease_seconds, keeper=keeper
    )


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
