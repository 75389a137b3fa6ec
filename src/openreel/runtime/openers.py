"""Settings into the objects one-shot commands need: the runtime, the database, the stores.

Each opener builds exactly what one command uses, so ``openreel tokens`` never loads a model
and ``openreel generate`` never opens a database it does not need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import Settings
from openreel.errors import ConfigurationError
from openreel.media.certs import ensure_instance_identity, load_identity
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.media.opencv import use_opencv_threads
from openreel.services.source_links import SourceLinks
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.artists import ArtistStore
from openreel.storage.audit import AuditStore
from openreel.storage.db import DATABASE_FILE, Database
from openreel.storage.jobs import JobStore
from openreel.storage.objects import S3ObjectStore
from openreel.storage.pauses import PauseStore
from openreel.storage.principals import PrincipalStore
from openreel.trust.artists import ArtistService
from openreel.trust.audit import ANCHOR_FILE, AuditService
from openreel.trust.auth import AuthService, load_or_create_secret
from openreel.trust.killswitch import KillSwitch
from openreel.trust.moderation import (
    ModerationPipeline,
    build_pipeline,
    fold,
)
from openreel.trust.provenance import Provenance

__all__ = [
    "KEYS_DIR",
    "Runtime",
    "auth_service",
    "cli_moderation",
    "open_artifacts",
    "open_artists",
    "open_audit",
    "open_auth",
    "open_database",
    "open_killswitch",
    "signing",
    "source_links",
]


KEYS_DIR = "keys"
"""Folder of the instance's CA and signer inside the data folder (owner-only)."""


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


def source_links(settings: Settings, store: JobStore, artifacts: ArtifactStore) -> SourceLinks:
    """The links to edits' sources that providers fetching a video by URL are given: the
    bucket's presigned URLs, or links signed with the server's secret on ``public_url``."""
    return SourceLinks(
        load_or_create_secret(Path(settings.data_dir)),
        store,
        artifacts,
        public_url=settings.public_url,
        seconds=settings.source_link_seconds,
    )


def open_database(settings: Settings) -> Database:
    """The configured database: ``database_url`` when set, else the data folder's SQLite."""
    url = database_url(settings)
    return Database.for_data_dir(settings.data_dir) if url is None else Database(url)


def database_url(settings: Settings) -> str | None:
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

    The semantic model runs here only with ``semantic = "on"``: loading it would hold every
    command up for seconds (benchmarks/moderation.py times the load), and the command line is
    the operator's own tool; the server, where other people's prompts arrive, runs it whenever
    it is installed (``auto``).

    Raises:
        ConfigurationError: The policy file is unusable, or ``on`` without the extra.
    """
    config = settings.moderation
    if config.semantic == "auto":
        config = config.model_copy(update={"semantic": "off"})
    artists = None
    if database_url(settings) is not None or (Path(settings.data_dir) / DATABASE_FILE).is_file():
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
