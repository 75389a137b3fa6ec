"""Settings: every knob an operator can turn, read from OPENREEL_* environment variables.

Nested groups use ``__`` (``OPENREEL_ENCODER__CRF=18``). Settings are built once by the
composition root (cli/runtime) and passed down; nothing reads the environment at import time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AbuseConfig",
    "CeleryConfig",
    "EncoderConfig",
    "GuardConfig",
    "LabelConfig",
    "ModerationConfig",
    "PromptStorage",
    "ProvenanceConfig",
    "ProviderKeys",
    "QuotaConfig",
    "Settings",
    "StorageConfig",
    "TransparencyConfig",
    "UpstreamConfig",
    "UpstreamServer",
    "VideoUploadConfig",
    "WebhooksConfig",
]

Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class EncoderConfig(BaseModel):
    """H.264 settings for every video OpenReel writes.

    The defaults are what benchmarks/encoder.py chose on a 2-core machine, encoding the
    README's stormy 10-second 1080p sketch clip (rain is the hardest case for the encoder):
    ``superfast`` is the fastest preset whose files stay near the slower presets' size at
    equal or better PSNR, and it keeps the whole render faster than real time. Operators who
    care more about storage than speed can set ``veryfast``.
    """

    preset: Preset = "superfast"
    crf: int = Field(20, ge=0, le=51)


class LabelConfig(BaseModel):
    """The visible "AI-generated" label burned into every video (media/label.py).

    Attributes:
        enabled: On by default; an operator may turn it off for the whole instance.
        text: What it says (ASCII, at most 40 characters).
        corner: Where it sits.
    """

    enabled: bool = True
    text: str = Field("AI-generated", min_length=1, max_length=40)
    corner: Literal["bottom-right", "bottom-left", "top-right", "top-left"] = "bottom-right"


class ProvenanceConfig(BaseModel):
    """C2PA signing of every video (trust/provenance.py).

    Attributes:
        enabled: Sign every video (on by default).
        publish_prompts: Put the prompt itself in the manifest; off, only its SHA-256 is.
        chain: PEM certificate chain of the operator's own signer (signer first); unset, the
            instance makes its own CA and signer in ``<data_dir>/keys`` on first run.
        key: The operator's private key (PEM), with ``chain``.
    """

    enabled: bool = True
    publish_prompts: bool = False
    chain: Path | None = None
    key: Path | None = None


class GuardConfig(BaseModel):
    """An external moderation check after the local ones (trust/moderation/guard.py).

    Attributes:
        kind: ``off`` (the default), ``moderations`` (an OpenAI-compatible
            ``/v1/moderations``) or ``chat`` (a guard model such as Llama Guard or ShieldGemma
            behind an OpenAI-compatible ``/v1/chat/completions``: vLLM, Ollama).
        url: The API's base URL, up to and including ``/v1``.
        model: The model named in each request.
        api_key: Sent as a bearer token when set.
        timeout_s: Longest wait for a verdict.
        on_failure: ``open`` lets a prompt through when the service fails (the local checks
            passed it), ``closed`` answers 503 ``moderation_unavailable``.
    """

    kind: Literal["off", "moderations", "chat"] = "off"
    url: str | None = None
    model: str = "omni-moderation-latest"
    api_key: SecretStr | None = None
    timeout_s: float = Field(5.0, gt=0, le=120)
    on_failure: Literal["open", "closed"] = "open"

    @model_validator(mode="after")
    def _url_when_on(self) -> GuardConfig:
        if self.kind != "off" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError(
                f"moderation.guard.url must be an http(s) URL when guard.kind is "
                f"{self.kind!r}; got {self.url!r}"
            )
        return self


class ModerationConfig(BaseModel):
    """Prompt moderation (trust/moderation/).

    Attributes:
        enabled: Moderate every prompt before any backend runs (on by default).
        policy: The operator's policy TOML; unset, the built-in one.
        semantic: The learned classifier over sentence embeddings: ``auto`` uses it when the
            optional extra ``openreel[moderation]`` is installed, ``on`` requires it, ``off``
            skips it.
        guard: An optional external moderation service, asked last.
    """

    enabled: bool = True
    policy: Path | None = None
    semantic: Literal["auto", "on", "off"] = "auto"
    guard: GuardConfig = GuardConfig()


PromptStorage = Literal["full", "hashed", "dropped"]


class TransparencyConfig(BaseModel):
    """The public transparency report (trust/transparency.py, ``/transparency``).

    Attributes:
        enabled: Publish the report, the model cards and the policy in force to anyone,
            signed in or not (on by default); off, every transparency route is a 404.
        threshold: Counts from 1 to ``threshold - 1`` are shown as "fewer than" it, so no
            one person's activity can be read from the figures.
        max_days: Longest period one report may cover.
    """

    enabled: bool = True
    threshold: int = Field(5, ge=1, le=1000)
    max_days: int = Field(366, ge=1, le=3660)


class QuotaConfig(BaseModel):
    """Default limits for every non-admin principal (admins override per principal).

    Attributes:
        seconds: Seconds of video per period; 0 means no limit.
        period_hours: Length of the rolling period.
        videos: Videos queued or rendering at once; 0 means no limit.
        admins: Whether admins are held to the defaults too (by default they are not).
    """

    seconds: float = Field(3600.0, ge=0)
    period_hours: float = Field(24.0, gt=0)
    videos: int = Field(4, ge=0)
    admins: bool = False


class VideoUploadConfig(BaseModel):
    """Limits on videos uploaded to be edited, extended or made into a character.

    An upload is probed before anything is kept; one past a limit is refused with a 400 naming
    ``video``. The request body limit of the routes that take uploads grows to fit ``max_bytes``.

    Attributes:
        max_bytes: Largest file accepted.
        max_seconds: Longest video accepted.
        max_side: Largest width or height in pixels.
    """

    max_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    max_seconds: float = Field(60.0, gt=0, le=3600)
    max_side: int = Field(3840, ge=64, le=8192)


class AbuseConfig(BaseModel):
    """When to suspend a token automatically (trust/abuse.py); 0 turns a signal off.

    Attributes:
        max_addresses: Distinct client addresses one token may use per window.
        max_seconds: Seconds of video one token may request per window.
        window_minutes: Length of the sliding window.
    """

    max_addresses: int = Field(20, ge=0)
    max_seconds: float = Field(0.0, ge=0)
    window_minutes: float = Field(10.0, gt=0)


class ProviderKeys(BaseModel):
    """Credentials of hosted providers: read by the workers that call them, nowhere else.

    They are ``SecretStr``, so printing the settings shows ``**********``; they are never
    stored in job rows, logs, errors or responses (tests/e2e/test_secrets.py plants one and
    looks for it everywhere).
    """

    runway: SecretStr | None = None
    fal: SecretStr | None = None
    replicate: SecretStr | None = None
    luma: SecretStr | None = None
    google: SecretStr | None = None
    upstream: SecretStr | None = None


class UpstreamConfig(BaseModel):
    """A ``/v1/videos`` upstream (another OpenReel or a compatible gateway); its key is
    ``providers.upstream``.

    Attributes:
        url: The upstream's API root, ending in ``/v1``; unset, no upstream.
        models: The upstream's model ids to offer; each is served here as ``PREFIX/ID``.
        prefix: What marks upstream models in our model ids.
        max_seconds: Longest video to ask for.
        certificate: The upstream OpenReel's signing certificate (PEM, as its
            ``/v1/transparency/certificate.pem`` serves it), pinned: see
            :class:`UpstreamServer`.
    """

    url: str | None = None
    models: list[str] = Field(default_factory=list)
    prefix: str = Field("upstream", min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    max_seconds: float = Field(60.0, gt=0, le=3600)
    certificate: Path | None = None


UpstreamDialect = Literal["openai", "vllm-omni", "sglang", "fastvideo"]
"""Which ``/v1/videos`` variant an upstream speaks: OpenAI's (another OpenReel, a gateway),
vLLM-Omni's, SGLang's diffusion server's or FastVideo's."""

_UNAUTHENTICATED: frozenset[str] = frozenset({"sglang", "fastvideo"})


class UpstreamServer(BaseModel):
    """One GPU server (or gateway) of a fleet, listed in ``OPENREEL_UPSTREAMS`` (JSON).

    Attributes:
        name: Its model prefix: model ``M`` is served here as ``NAME/M``; also its backend's
            name in logs and the admin view.
        url: Its API root, ending in ``/v1``.
        key: Its bearer token; SGLang and FastVideo check none, so none may be given.
        dialect: The ``/v1/videos`` variant it speaks.
        models: Its model ids to offer (vLLM-Omni, SGLang and FastVideo serve one each).
        concurrency: Most jobs sent to it at once (the rest wait here); None for no limit.
            FastVideo runs every job in a thread of its own with no queue, so it gets 1.
        max_seconds: Longest video to ask for.
        certificate: An upstream OpenReel's signing certificate (PEM, as its
            ``/v1/transparency/certificate.pem`` serves it), pinned: its videos signed under
            it are passed on by their signature, their label and fingerprint taken on its
            word, with no frame decoded here; without it every frame is checked for the label.
    """

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    url: str = Field(min_length=1, pattern=r"^https?://")
    key: SecretStr | None = None
    dialect: UpstreamDialect = "openai"
    models: list[str] = Field(min_length=1)
    concurrency: int | None = Field(None, ge=1, le=1000)
    max_seconds: float = Field(60.0, gt=0, le=3600)
    certificate: Path | None = None

    @model_validator(mode="after")
    def _fits_dialect(self) -> UpstreamServer:
        if self.dialect in _UNAUTHENTICATED and self.key is not None:
            raise ValueError(
                f"upstreams[{self.name}].key: a {self.dialect} server checks no key; keep it on "
                "a private network and leave key out"
            )
        if self.dialect == "fastvideo":
            if self.concurrency not in (None, 1):
                raise ValueError(
                    f"upstreams[{self.name}].concurrency is {self.concurrency}, but a fastvideo "
                    "server runs each job unqueued in its own thread: it must be 1"
                )
            self.concurrency = 1
        return self


class VeoConfig(BaseModel):
    """Google Veo on Vertex AI. Set ``project`` to use the Google Cloud credentials found in
    the environment (a service account via ``GOOGLE_APPLICATION_CREDENTIALS``, workload
    identity, ``gcloud auth application-default login``), or set ``providers.google`` to a
    Vertex API key instead.

    Attributes:
        project: Google Cloud project; unset (and no key), no Veo.
        location: Vertex region.
    """

    project: str | None = Field(None, min_length=1, max_length=100)
    location: str = Field("us-central1", pattern=r"^[a-z0-9-]+$")


class LocalConfig(BaseModel):
    """Local open models through diffusers (backends/diffusers/; needs ``openreel[local]``).

    Attributes:
        enabled: Offer the catalogue's models (off by default, so a machine without the
            extra or a GPU is unaffected). Setting ``catalogue`` turns it on too.
        catalogue: The operator's catalogue TOML; unset, the built-in one.
        models: Only these catalogue ids are offered; empty offers them all.
        device: ``auto`` picks cuda, then mps, then cpu.
        keep_warm: Keep the last model loaded for the next job of the same model (another
            model's job still releases it first); off, release after every job.
        interpolation: How frames are added when a model's rate is below the request's:
            ``flow`` (motion-compensated) or ``blend`` (cheaper).
        edit_strength: How far an edit by a video-to-video family may move from the source
            (0: not at all, 1: as far as a new video).
    """

    enabled: bool = False
    catalogue: Path | None = None
    models: list[str] = Field(default_factory=list)
    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    keep_warm: bool = True
    interpolation: Literal["flow", "blend"] = "flow"
    edit_strength: float = Field(0.6, gt=0, le=1)

    @property
    def is_enabled(self) -> bool:
        """Whether local models are offered."""
        return self.enabled or self.catalogue is not None


class CeleryConfig(BaseModel):
    """Celery on Redis, the queue of a deployment on several machines (``queue = "celery"``).

    The jobs table stays the record of every video; Celery only carries job ids to the
    ``openreel worker`` processes, one queue per model (docs/architecture.md, "The life of
    a job").

    Attributes:
        broker_url: ``redis://host:6379/0``; secret, since URLs carry passwords.
        queue_prefix: Start of every queue name (``openreel.<model id>``), so several
            installations can share one Redis.
        visibility_timeout: Seconds after which Redis hands a delivered, unacknowledged job
            to another worker (its worker machine died). Must exceed the longest job: a
            job still running then is delivered again (the second delivery finds its
            lease held and steps aside, but it holds a worker meanwhile).
        restore_interval: How often a worker looks for such jobs.
        paused_retry_seconds: How long a job held by a kill switch waits before its task
            looks again.
    """

    broker_url: SecretStr | None = None
    queue_prefix: str = Field(
        "openreel", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )
    visibility_timeout: float = Field(2 * 3600.0, ge=5)
    restore_interval: float = Field(10.0, gt=0)
    paused_retry_seconds: float = Field(10.0, gt=0)


class StorageConfig(BaseModel):
    """Where artifact files live: the data folder (the default) or an S3-compatible bucket.

    With a bucket, API servers and ``openreel worker`` processes on different machines share
    every video, preview and uploaded image; the data folder's ``artifacts`` becomes a
    working area for renders in progress. Needs ``openreel[s3]`` (boto3).

    Attributes:
        bucket: The bucket's name; unset, files stay in the data folder.
        endpoint_url: The S3 API's URL for a store other than AWS (MinIO, Ceph, R2...);
            unset, AWS S3 in ``region``.
        region: The bucket's region; unset, boto3's default (``AWS_DEFAULT_REGION``...).
        prefix: Key prefix inside the bucket, so several instances can share one
            (``openreel/`` puts videos under ``openreel/jobs/...``).
        access_key_id: With ``secret_access_key``; unset, boto3's own credential chain
            (environment, ``~/.aws``, an instance or workload role).
        secret_access_key: With ``access_key_id``.
        downloads: How ``/content`` serves a file: ``stream`` relays it from the bucket
            through the API server (HTTP Range included), ``presign`` answers 307 with a
            short-lived presigned URL so clients fetch it from the bucket directly.
        presign_seconds: Lifetime of a presigned URL.
        multipart_mb: Files of at least this many MiB are uploaded in parts of this size
            (S3 accepts parts of 5 MiB or more).
    """

    bucket: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
    endpoint_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    region: str | None = Field(None, pattern=r"^[a-z0-9-]+$")
    prefix: str = Field("", max_length=200, pattern=r"^([A-Za-z0-9_-][A-Za-z0-9._-]*/?)*$")
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    downloads: Literal["stream", "presign"] = "stream"
    presign_seconds: int = Field(300, ge=1, le=7 * 24 * 3600)
    multipart_mb: int = Field(8, ge=5, le=5 * 1024)

    @field_validator("prefix")
    @classmethod
    def _prefix_is_a_folder(cls, prefix: str) -> str:
        """Ends a non-empty prefix with one ``/`` so keys never run into it."""
        return prefix.rstrip("/") + "/" if prefix else ""

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> StorageConfig:
        """Refuses half a key pair, which boto3 would otherwise silently replace."""
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "set both OPENREEL_STORAGE__ACCESS_KEY_ID and "
                "OPENREEL_STORAGE__SECRET_ACCESS_KEY, or neither"
            )
        return self

    @property
    def is_remote(self) -> bool:
        """Whether artifacts go to a bucket."""
        return self.bucket is not None


class WebhooksConfig(BaseModel):
    """Signed notices to the owners' endpoints when a video ends (services/webhooks/).

    Attributes:
        allow_private: Let endpoints resolve to loopback, private, link-local or cloud
            metadata addresses (off: refused at creation and at every attempt).
        allow_http: Accept ``http://`` endpoints (off: ``https://`` only).
        retry_base_seconds: The first retry's delay; each later one doubles, with jitter.
        max_delay_seconds: The longest wait between two attempts (also caps ``Retry-After``).
        timeout: Seconds one attempt may take to connect, send and hear an answer.
        max_age_hours: How long a delivery is retried before it is given up.
        disable_after_hours: An endpoint whose every attempt failed for this long is
            disabled, with the reason shown to its owner.
        endpoints_per_principal: Most endpoints one principal may have.
        rotation_grace_hours: How long the old secret also signs after a rotation.
        keep_days: How long a delivery that ended stays listed with its attempts.
        concurrency: Attempts one process runs at once (one slow receiver holds one).
        poll_seconds: How often a dispatcher looks for due deliveries that no change in
            this process announced (other processes' videos, retries coming due).
        dispatch: Run a dispatcher in this process (``serve`` and ``worker`` alike).
        key: Fernet key that encrypts the endpoints' secrets; unset, one is made in the data
            folder (``webhooks.key``, owner-only). Set it on every machine of a deployment
            that shares one database.
    """

    allow_private: bool = False
    allow_http: bool = False
    retry_base_seconds: float = Field(5.0, gt=0, le=3600)
    max_delay_seconds: float = Field(3600.0, gt=0)
    timeout: float = Field(10.0, gt=0, le=120)
    max_age_hours: float = Field(72.0, gt=0)
    disable_after_hours: float = Field(120.0, gt=0)
    endpoints_per_principal: int = Field(10, ge=1, le=1000)
    rotation_grace_hours: float = Field(24.0, ge=0)
    keep_days: float = Field(30.0, gt=0)
    concurrency: int = Field(16, ge=1, le=256)
    poll_seconds: float = Field(1.0, gt=0, le=60)
    dispatch: bool = True
    key: SecretStr | None = None


class Settings(BaseSettings):
    """OpenReel's settings.

    Attributes:
        data_dir: Folder for the database, artifacts and keys.
        database_url: A SQLAlchemy URL (``postgresql+psycopg://user:pass@host/db``) to keep
            the database elsewhere than the data folder's SQLite file; secret, since URLs
            carry passwords.
        default_model: Model used when a request names none.
        encoder: H.264 encoder settings.
        host: Address the server listens on.
        port: Port the server listens on.
        keep_alive_seconds: How long the server keeps an idle connection open. Longer than the
            idle expiry of common clients (httpx and the ``openai`` SDK: 5 s) and load
            balancers (60 s), so a client never reuses a connection at the instant the server
            closes it; behind a reverse proxy keep it above the proxy's upstream idle timeout.
        forwarded_allow_ips: Addresses of reverse proxies whose ``X-Forwarded-For`` and
            ``X-Forwarded-Proto`` the server believes (comma-separated; ``*`` for any).
        workers: In-process render workers (each renders one video at a time).
        render_processes: Render sketch videos in child processes (one per busy worker,
            reused) instead of the workers' threads, so the server's own Python work never
            holds a render up (see ``services.render_process``).
        opencv_threads: Threads OpenCV may use inside one drawing or resizing call; 1 (the
            default) keeps its busy-waiting pool off (see ``media.opencv``), None leaves
            OpenCV's default of one per core.
        hosted_fit: What a hosted model does with a length, size or frame rate it does not
            make: ``reject`` it at admission naming the parameter, or ask the provider for
            the nearest it makes (``nearest``) and fit the result back to what was asked,
            recording both on the job.
        hosted_workers: Workers for hosted models (each follows one provider job; they wait
            far more than they compute).
        lease_seconds: How long a worker owns a job without reporting progress before
            another may take it over.
        poll_after_ms: The longest ``openai-poll-after-ms`` sent with unfinished videos
            (queued ones get it; running ones are asked back sooner when they will be done
            sooner).
        max_body_bytes: Largest request body accepted (reference images included).
        video_uploads: Limits on uploaded videos (edits, extensions, characters).
        token_days: Lifetime of a new token when its creator names none.
        token_max_days: Longest lifetime anyone may give a token.
        rate_requests_per_minute: Requests one token may make a minute (0: no limit).
        rate_creates_per_minute: Videos one token may start a minute (0: no limit).
        rate_limit_storage: ``memory://`` for one process, ``redis://...`` to share counts.
        sign_ins_per_minute: Refused studio sign-ins one client address may make a minute
            before its attempts get 429 (0: no limit).
        session_hours: Longest life of a studio session (it also ends with its token).
        label: The visible label on every video.
        provenance: C2PA signing of every video.
        moderation: Prompt moderation.
        prompts: How prompts are kept: ``full`` (the default: the API returns them and the
            studio's history shows them), ``hashed`` (replaced by their SHA-256 once the video
            is finished, failed or cancelled) or ``dropped`` (removed at that point).
        transparency: The public transparency report.
        quota: Default per-principal quotas.
        abuse: Automatic suspension of tokens that behave like leaked ones.
        providers: Hosted providers' credentials.
        upstream: A ``/v1/videos`` upstream whose models this server also offers (the
            single-upstream form, kept working as an ``openai`` upstream named ``prefix``).
        upstreams: A fleet of upstreams (``OPENREEL_UPSTREAMS``, a JSON list), each with its
            name, URL, key, dialect, models and concurrency.
        veo: Google Veo on Vertex AI (with ``providers.google`` or project credentials).
        local: Local open models through diffusers.
        queue: ``embedded`` (worker threads inside ``openreel serve``, the default) or
            ``celery`` (``openreel worker`` processes on other machines take the jobs).
        celery: Celery on Redis, for ``queue = "celery"``.
        storage: Where artifact files live (the data folder, or an S3-compatible bucket).
        webhooks: Signed notices when a video ends.
        public_url: The address the internet reaches this server at (``https://reel.example``),
            for providers that fetch an edit's video by URL themselves (Luma's modify): they
            are given a short-lived signed link to that one file here. Unset (and no bucket,
            whose presigned URLs serve instead), such providers cannot edit.
        source_link_seconds: How long such a link (or presigned URL) stays valid.
    """

    model_config = SettingsConfigDict(
        env_prefix="OPENREEL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    default_model: str = "openreel-sketch"
    encoder: EncoderConfig = EncoderConfig()
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    keep_alive_seconds: int = Field(75, ge=1, le=3600)
    forwarded_allow_ips: str = "127.0.0.1"
    workers: int = Field(2, ge=1, le=64)
    render_processes: bool = True
    opencv_threads: int | None = Field(1, ge=1, le=256)
    hosted_fit: Literal["reject", "nearest"] = "reject"
    hosted_workers: int = Field(32, ge=1, le=1000)
    lease_seconds: float = Field(30.0, gt=1.0)
    poll_after_ms: int = Field(1000, ge=100)
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    video_uploads: VideoUploadConfig = VideoUploadConfig()
    token_days: float = Field(90.0, gt=0)
    token_max_days: float = Field(365.0, gt=0)
    rate_requests_per_minute: int = Field(600, ge=0)
    rate_creates_per_minute: int = Field(20, ge=0)
    rate_limit_storage: str = "memory://"
    sign_ins_per_minute: int = Field(10, ge=0)
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    label: LabelConfig = LabelConfig()
    provenance: ProvenanceConfig = ProvenanceConfig()
    moderation: ModerationConfig = ModerationConfig()
    prompts: PromptStorage = "full"
    transparency: TransparencyConfig = TransparencyConfig()
    quota: QuotaConfig = QuotaConfig()
    abuse: AbuseConfig = AbuseConfig()
    providers: ProviderKeys = ProviderKeys()
    upstream: UpstreamConfig = UpstreamConfig()
    upstreams: list[UpstreamServer] = Field(default_factory=list)
    veo: VeoConfig = VeoConfig()
    local: LocalConfig = LocalConfig()
    queue: Literal["embedded", "celery"] = "embedded"
    celery: CeleryConfig = CeleryConfig()
    storage: StorageConfig = StorageConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    public_url: str | None = None
    source_link_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base(cls, url: str | None) -> str | None:
        """An ``http(s)://host[/path]`` base with no query, kept without its trailing ``/``."""
        if not url:
            return None
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", url):
            raise ValueError(
                f"public_url must be an http:// or https:// address with no query or "
                f"fragment, such as https://reel.example; got {url!r}"
            )
        return url.rstrip("/")

    @model_validator(mode="after")
    def _upstream_names_differ(self) -> Settings:
        names = [server.name for server in self.upstream_servers()]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(
                f"upstreams: the name {twice[0]!r} is given twice (the single-upstream "
                "settings count as one named upstream.prefix); each upstream's name is its "
                "model prefix and must differ"
            )
        return self

    def upstream_servers(self) -> list[UpstreamServer]:
        """Every upstream: the single-upstream settings (``upstream.url`` with
        ``providers.upstream`` and ``upstream.models``) as an ``openai`` upstream named
        ``upstream.prefix``, then ``upstreams`` in order."""
        servers = list(self.upstreams)
        legacy, key = self.upstream, self.providers.upstream
        if legacy.url and key is not None and legacy.models:
            servers.insert(
                0,
                UpstreamServer(
                    name=legacy.prefix,
                    url=legacy.url,
                    key=key,
                    dialect="openai",
                    models=legacy.models,
                    max_seconds=legacy.max_seconds,
                    certificate=legacy.certificate,
                ),
            )
        return servers
